//! Notifications delivered: results, failures and refunds reach the chat once, even when
//! Telegram fails the first try; a delivered step is never sent again.

use std::time::Duration;

use serde_json::json;

use crate::db_test;
use crate::support::bot::{bot_app_with, screen, sent_with};
use crate::support::eventually_within;

const CREATE: &str = "mutation($p: String!, $n: Int) { createGeneration(input: { model: \"local/sketch\", prompt: $p, numImages: $n }) { id } }";

db_test!(a_result_arrives_once_when_telegram_fails_the_first_send_photo_with_500, |db| async move {
    let (app, fake) = bot_app_with(db, |c| c.notifications.retry_after = Duration::from_millis(100)).await;
    fake.fail_next("sendPhoto", 1);
    let (token, _) = app.sign_in(9201, "ivy").await;
    app.gql(Some(&token), CREATE, json!({ "p": "through a storm", "n": 1 })).await.data("createGeneration");

    // teloxide waits 10 s after a 5xx before it reads the answer; the retry follows.
    let fake_ref = &fake;
    let ready = || async { sent_with(fake_ref, 9201, "Ready") == 1 };
    assert!(eventually_within(Duration::from_secs(30), ready).await, "calls: {:#?}", fake.calls());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.calls_to("sendPhoto").len(), 2, "refused once, then delivered");
    assert_eq!(fake.messages_in(9201).iter().filter(|m| m["photo"].is_array()).count(), 1, "one photo arrived");
    assert_eq!(sent_with(&fake, 9201, "Ready"), 1, "the result keyboard came once");
    let sent = app.scalar_i64("SELECT COUNT(*) FROM notifications WHERE status = 'SENT' AND attempts = 1").await;
    assert_eq!(sent, 1, "one notification, sent on its second attempt");
});

db_test!(a_delivered_album_is_not_sent_again_when_the_next_step_fails, |db| async move {
    let (app, fake) = bot_app_with(db, |c| c.notifications.retry_after = Duration::from_millis(50)).await;
    let (token, _) = app.sign_in(9202, "jo").await;
    // The album goes through; the message after it gets garbage back twice.
    fake.garble_next("sendMessage", 2);
    app.gql(Some(&token), CREATE, json!({ "p": "two of them", "n": 2 })).await.data("createGeneration");
    screen(&fake, 9202, "Ready").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.calls_to("sendMediaGroup").len(), 1, "the album was sent once");
    assert_eq!(sent_with(&fake, 9202, "Ready"), 3, "two refused, the third delivered");
    assert_eq!(app.scalar_i64("SELECT CAST(step AS BIGINT) FROM notifications").await, 1);
});

db_test!(a_failed_generation_is_told_with_its_refund, |db| async move {
    let (app, fake) = bot_app_with(db, |c| c.local.failure_rate = 1.0).await;
    let (token, _) = app.sign_in(9203, "unlucky").await;
    app.gql(Some(&token), CREATE, json!({ "p": "this fails", "n": 1 })).await.data("createGeneration");
    screen(&fake, 9203, "Your credits were refunded").await;
    assert_eq!(app.balance(&token).await, 10);
    assert_eq!(sent_with(&fake, 9203, "refunded"), 1);
});
