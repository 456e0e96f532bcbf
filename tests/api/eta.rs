//! ETAs: an active generation says how long it will still take, from the recent durations of
//! its model; with no history it says the configured typical duration, and once it ended it
//! says nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::db_test;
use crate::support::fake_fal::{FakeFal, Mode};
use crate::support::{Db, TestApp, spawn_app_with, use_fal};

const LATENCY: Duration = Duration::from_millis(2000);
/// How far the estimate made while a job runs may be from when it really ends.
const TOLERANCE: Duration = Duration::from_millis(800);
const MODEL: &str = "fal-ai/imagen4/preview/fast";

const ETA: &str = "query($id: ID!) { generation(id: $id) { status eta etaAt createdAt completedAt } }";

async fn eta_of(app: &TestApp, token: &str, id: &str) -> Value {
    app.gql(Some(token), ETA, json!({ "id": id })).await.data("generation").clone()
}

fn instant(value: &Value) -> DateTime<Utc> {
    value.as_str().expect("a date").parse().expect("RFC 3339")
}

db_test!(the_eta_tracks_the_models_recent_durations, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, LATENCY).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, user_id) = app.sign_in(7200, "eta").await;
    app.give_credits(&user_id, 100).await;
    let create = || app.create_generation(&token, json!({ "model": MODEL, "prompt": "a fox" }));

    // No history: the typical duration of the settings (15 s for FAL).
    let first = create().await;
    let eta = eta_of(&app, &token, &first).await["eta"].as_i64().expect("an ETA while active");
    assert!((13..=15).contains(&eta), "the fallback, less what passed: {eta}");
    app.wait_for_status(&token, &first, &["COMPLETED"]).await;
    assert_eq!(eta_of(&app, &token, &first).await["eta"], Value::Null, "none once it ended");
    for _ in 0..2 {
        let id = create().await;
        app.wait_for_status(&token, &id, &["COMPLETED"]).await;
    }

    // Now the model's own durations (about LATENCY each) say when the next one ends.
    let next = create().await;
    app.wait_for_status(&token, &next, &["RUNNING"]).await;
    let running = eta_of(&app, &token, &next).await;
    let expected_end = instant(&running["etaAt"]);
    let seconds = running["eta"].as_i64().expect("an ETA");
    assert!((1..=2).contains(&seconds), "{running}");
    app.wait_for_status(&token, &next, &["COMPLETED"]).await;
    let ended = instant(&eta_of(&app, &token, &next).await["completedAt"]);
    let off = (ended - expected_end).abs().to_std().expect("a duration");
    assert!(off <= TOLERANCE, "expected the end at {expected_end}, it came at {ended} ({off:?} off)");
});
