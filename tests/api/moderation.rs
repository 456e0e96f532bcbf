//! Moderation verdicts: a picture the model's safety filter blocked is never stored or shown,
//! its share of the price comes back as a visible `REFUND`, and the user reads why. Every
//! picture blocked: the generation ends `FAILED` with the whole price back. The local provider
//! blocks on a prompt marker; the fake FAL speaks FLUX's `has_nsfw_concepts`, Imagen's shortfall
//! and the 422 `content_policy_violation`, by poll and by webhook.

use std::time::Duration;

use serde_json::{Value, json};

use crate::db_test;
use crate::support::bot::{ask_for_pictures, bot_app, id_of, screen, user};
use crate::support::fake_fal::{FakeFal, Mode};
use crate::support::{Db, TestApp, eventually, spawn_app, spawn_app_with, use_fal};

const GENERATION: &str = "query($id: ID!) { generation(id: $id) { status error cost numImages blockedImages eta etaAt \
                          images { id url moderation } } }";
/// What signing in gives a new user.
const WELCOME: i64 = 10;
const LEDGER: &str = "{ me { balance transactions(first: 10) { edges { node { kind amount reason } } } } }";

async fn settled(app: &TestApp, token: &str, id: &str) -> Value {
    app.wait_for_status(token, id, &["COMPLETED", "FAILED", "CANCELLED"]).await;
    app.gql(Some(token), GENERATION, json!({ "id": id })).await.data("generation").clone()
}

/// The balance, and the refunds in the ledger (amount, reason), newest first.
async fn refunds(app: &TestApp, token: &str) -> (i64, Vec<(i64, String)>) {
    let answer = app.gql(Some(token), LEDGER, json!({})).await;
    let me = answer.data("me").clone();
    let ledger = &me["transactions"];
    let refunds = ledger["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["kind"] == "REFUND")
        .map(|n| (n["amount"].as_i64().expect("amount"), n["reason"].as_str().expect("reason").to_owned()))
        .collect();
    (me["balance"].as_i64().expect("balance"), refunds)
}

db_test!(a_blocked_picture_is_not_stored_and_its_share_is_refunded, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, user_id) = app.sign_in(7100, "blocked").await;
    app.give_credits(&user_id, 20).await;
    let input = json!({ "model": "local/sketch", "prompt": "a fox [blocked:1]", "numImages": 3 });
    let id = app.create_generation(&token, input).await;
    let done = settled(&app, &token, &id).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["blockedImages"], 1);
    assert_eq!(done["cost"], 3, "the reservation is what was asked for");
    let images = done["images"].as_array().expect("images");
    assert_eq!(images.len(), 2, "the blocked picture is not stored: {done}");
    assert!(images.iter().all(|i| i["moderation"] == "PASSED"), "{done}");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM images").await, 2);
    let (balance, refunds) = refunds(&app, &token).await;
    assert_eq!(refunds, vec![(1, "refund: the safety filter blocked 1 of 3 pictures".to_owned())]);
    assert_eq!(balance, WELCOME + 20 - 3 + 1);
    assert_eq!(done["eta"], Value::Null, "no ETA once it ended");
});

db_test!(every_picture_blocked_fails_the_generation_with_the_whole_price_back, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, user_id) = app.sign_in(7101, "all blocked").await;
    app.give_credits(&user_id, 20).await;
    let input = json!({ "model": "local/sketch", "prompt": "[blocked] a fox", "numImages": 2 });
    let id = app.create_generation(&token, input).await;
    let done = settled(&app, &token, &id).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    assert_eq!(done["blockedImages"], 2);
    assert!(done["error"].as_str().expect("a reason").contains("safety filter"), "{done}");
    assert_eq!(done["images"], json!([]));
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM images").await, 0, "nothing stored");
    let (balance, refunds) = refunds(&app, &token).await;
    assert_eq!(balance, WELCOME + 20);
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].0, 2);
});

db_test!(flux_flags_by_has_nsfw_concepts_and_a_flagged_file_is_never_fetched, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    fal.flag_nsfw(&[false, true, false, true]);
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, user_id) = app.sign_in(7102, "flux").await;
    app.give_credits(&user_id, 100).await;
    let input = json!({ "model": "fal-ai/imagen4/preview", "prompt": "a fox", "numImages": 4 });
    let id = app.create_generation(&token, input).await;
    let done = settled(&app, &token, &id).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["blockedImages"], 2);
    assert_eq!(done["images"].as_array().map(Vec::len), Some(2));
    assert_eq!(fal.file_fetches(), 2, "the black squares of flagged pictures are not downloaded");
    let (balance, refunds) = refunds(&app, &token).await;
    assert_eq!(refunds, vec![(10, "refund: the safety filter blocked 2 of 4 pictures".to_owned())]);
    assert_eq!(balance, WELCOME + 100 - 20 + 10);
});

db_test!(fewer_pictures_than_asked_count_as_blocked, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    fal.return_at_most(1);
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, user_id) = app.sign_in(7103, "imagen").await;
    app.give_credits(&user_id, 100).await;
    let input = json!({ "model": "fal-ai/imagen4/preview/fast", "prompt": "a fox", "numImages": 3 });
    let id = app.create_generation(&token, input).await;
    let done = settled(&app, &token, &id).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["blockedImages"], 2);
    assert_eq!(done["images"][0]["moderation"], "NOT_REPORTED", "Imagen says nothing of what it returns");
    assert_eq!(refunds(&app, &token).await.0, WELCOME + 100 - 9 + 6);
});

/// Creates a 2-picture generation that the fake FAL's checker refuses, and checks it failed
/// blocked with everything back.
async fn refused_generation(app: &TestApp, telegram_id: i64) {
    let (token, user_id) = app.sign_in(telegram_id, "refused").await;
    app.give_credits(&user_id, 100).await;
    let input = json!({ "model": "fal-ai/imagen4/preview", "prompt": "something refused", "numImages": 2 });
    let id = app.create_generation(&token, input).await;
    let done = settled(app, &token, &id).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    assert_eq!(done["blockedImages"], 2, "{done}");
    assert_eq!(refunds(app, &token).await.0, WELCOME + 100);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await, 1);
}

db_test!(a_content_policy_refusal_found_by_polling_fails_blocked, |db: Db| async move {
    let fal = FakeFal::start(Mode::ContentPolicy, Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    refused_generation(&app, 7104).await;
});

db_test!(a_content_policy_refusal_told_by_webhook_fails_blocked_once, |db: Db| async move {
    let fal = FakeFal::start(Mode::ContentPolicy, Duration::from_millis(50)).await;
    fal.deliver_webhooks_times(3);
    let app = spawn_app_with(db, |c| {
        use_fal(c, &fal);
        c.fal.webhook_url_base = Some(c.public_url.clone());
        c.fal.webhook_poll_interval = Duration::from_secs(60); // only the webhook can settle it
    })
    .await;
    refused_generation(&app, 7106).await;
    eventually(|| async { fal.webhook_answers().len() == 3 }).await;
    assert_eq!(fal.webhook_answers(), vec![200; 3]);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await, 1, "refunded once");
});

db_test!(the_bot_says_in_plain_words_what_the_filter_blocked, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let ann = user(&app, 7105, "en");
    ann.says("/start").await;
    let menu = screen(&fake, ann.id, "Balance: 10").await;
    let (_, user_id) = app.sign_in(7105, "ann").await;
    app.give_credits(&user_id, 100).await;
    let confirm = ask_for_pictures(&fake, &ann, &menu, "a fox [blocked:1]", "1:1", "2").await;
    ann.press(&fake, id_of(&confirm), "Create for 10").await;
    screen(&fake, ann.id, "held back 1 of 2 pictures; their share is back on your balance").await;
    ann.says("/start").await;
    let menu = screen(&fake, ann.id, "Balance: 105").await;
    let confirm = ask_for_pictures(&fake, &ann, &menu, "[blocked] a fox", "1:1", "1").await;
    ann.press(&fake, id_of(&confirm), "Create for 5").await;
    screen(&fake, ann.id, "blocked every picture").await;
});
