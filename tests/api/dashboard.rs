//! The operator's dashboard for a scripted day: users new and active, generations and their
//! failure rate, credits sold and spent, Stars received, and the queue now; admin only.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::db_test;
use crate::support::fake_fal::{FakeFal, Mode};
use crate::support::seed::pay_stars;
use crate::support::{ADMIN_TOKEN, Db, TestApp, spawn_app_with, use_fal};

const DASHBOARD: &str = "query($f: DateTime!, $t: DateTime!) { adminDashboard(from: $f, to: $t) { \
    newUsers generations creditsSold creditsSpent starsReceived failureRate \
    days { day newUsers activeUsers generations creditsSold creditsSpent starsReceived } \
    jobs { jobType model status count } queue { jobType model status count } } }";

async fn dashboard(app: &TestApp, token: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Value {
    let answer = app.gql(Some(token), DASHBOARD, json!({ "f": from.to_rfc3339(), "t": to.to_rfc3339() })).await;
    answer.data("adminDashboard").clone()
}

async fn generate(app: &TestApp, token: &str, statuses: &[&str]) -> String {
    let id = app.create_generation(token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "a figure" })).await;
    let status = app.wait_for_status(token, &id, statuses).await["status"].as_str().expect("status").to_owned();
    assert!(statuses.contains(&status.as_str()));
    id
}

db_test!(the_dashboard_counts_a_scripted_day_and_is_for_the_operator_only, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (maker, maker_id) = app.sign_in(9500, "maker").await;
    let (_payer, _) = app.sign_in(9501, "payer").await;
    let (_idle, _) = app.sign_in(9502, "idle").await;
    app.give_credits(&maker_id, 100).await;
    // Two pictures made, one failed (refunded), one still running.
    generate(&app, &maker, &["COMPLETED"]).await;
    generate(&app, &maker, &["COMPLETED"]).await;
    fal.set_mode(Mode::StatusError);
    generate(&app, &maker, &["FAILED"]).await;
    fal.set_mode(Mode::NeverFinish);
    let running = generate(&app, &maker, &["QUEUED", "RUNNING"]).await;
    let payer_id = app.scalar_i64("SELECT id FROM users WHERE telegram_id = 9501").await;
    let (credits, _) = pay_stars(&app, payer_id, "dashboard-1").await;
    let stars = app.scalar_i64("SELECT total_amount FROM payments").await;

    let now = Utc::now();
    let (from, to) = (now - chrono::Duration::hours(1), now + chrono::Duration::minutes(1));
    let seen = dashboard(&app, ADMIN_TOKEN, from, to).await;
    assert_eq!(seen["newUsers"], 3, "{seen}");
    assert_eq!(seen["generations"], 4);
    assert_eq!(seen["creditsSold"], credits);
    // 5 credits a picture: two made, one refunded, one reserved while it runs.
    assert_eq!(seen["creditsSpent"], 15);
    assert_eq!(seen["starsReceived"], stars);
    let rate = seen["failureRate"].as_f64().expect("a rate");
    assert!((rate - 1.0 / 3.0).abs() < 1e-9, "{rate}");
    let today = seen["days"].as_array().expect("days").last().expect("today").clone();
    assert_eq!((today["newUsers"].clone(), today["activeUsers"].clone()), (json!(3), json!(1)), "{today}");
    let completed = json!({ "jobType": "IMAGE", "model": "fal-ai/imagen4/preview", "status": "COMPLETED", "count": 2 });
    assert!(seen["jobs"].as_array().expect("jobs").contains(&completed), "{}", seen["jobs"]);
    let waiting: i64 = seen["queue"].as_array().expect("queue").iter().map(|j| j["count"].as_i64().unwrap_or(0)).sum();
    assert_eq!(waiting, 1, "{}", seen["queue"]);

    // The day before holds nothing of it; the queue is now's.
    let yesterday =
        dashboard(&app, ADMIN_TOKEN, now - chrono::Duration::days(2), now - chrono::Duration::days(1)).await;
    assert_eq!((yesterday["newUsers"].clone(), yesterday["generations"].clone()), (json!(0), json!(0)));
    assert_eq!(yesterday["failureRate"], Value::Null);
    assert_eq!(yesterday["days"].as_array().expect("days").len(), 2, "each day the period touches");

    // For the operator only, and over a sensible period.
    let refused = app.gql(Some(&maker), DASHBOARD, json!({ "f": from.to_rfc3339(), "t": to.to_rfc3339() })).await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    for (f, t) in [(to, from), (now - chrono::Duration::days(401), now)] {
        let bad = app.gql(Some(ADMIN_TOKEN), DASHBOARD, json!({ "f": f.to_rfc3339(), "t": t.to_rfc3339() })).await;
        assert_eq!(bad.error_code(), "BAD_USER_INPUT", "{}", bad.body);
    }
    let cancel = "mutation($id: ID!) { cancelGeneration(id: $id) { status } }";
    app.gql(Some(&maker), cancel, json!({ "id": running })).await.data("cancelGeneration");
});
