//! The durable inbox of Telegram updates: what the webhook acknowledged is handled after a
//! crash, once, in order within its chat, on whichever instance; payment pre-checks are answered
//! at once whatever the chats' backlog; an update that keeps failing is parked for the operator.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::db_test;
use crate::support::bot::{bot_app_with, sent_with, user};
use crate::support::fake_telegram::{FakeTelegram, FakeUser};
use crate::support::process::{Server, Site, scalar};
use crate::support::{
    ADMIN_TOKEN, BOT_TOKEN, WEBHOOK_SECRET, eventually, eventually_within, mini_app_init_data, now_secs, spawn_app_with,
};

const SIGN_IN: &str = "mutation($d: String!) { signInWithTelegram(initData: $d) { token } }";
const INVOICE: &str = "mutation { createStarsInvoice(packageId: \"stars100\") { payload stars credits } }";

/// A user's `successful_payment` of an invoice for 100 stars.
fn payment(user: &FakeUser, charge: &str, payload: &str) -> Value {
    user.payment(charge, payload, 100)
}

db_test!(acknowledged_payments_survive_a_sigkill_and_are_credited_once, |db| async move {
    let fake = FakeTelegram::start(BOT_TOKEN).await;
    let site = Site::new(db).await;
    let mut env = site.env("first", Some(&fake.url));
    // One message a second per chat, as Telegram asks: each chat keeps a backlog.
    env.push(("AISHA_TELEGRAM_CHAT_RATE".into(), "1".into()));
    env.push(("AISHA_TELEGRAM_LEASE_SECS".into(), "3".into()));
    let first = Server::start(&env, &site.dir.path().join("first.log")).await;

    // Twenty users, each with an invoice whose offer the API recorded.
    let mut payers = Vec::new();
    for n in 0..20 {
        let id = 8000 + n;
        let signed =
            first.gql(None, SIGN_IN, json!({ "d": mini_app_init_data(id, &format!("payer{id}"), now_secs()) })).await;
        let token = signed["data"]["signInWithTelegram"]["token"].as_str().expect("token").to_owned();
        let invoice = first.gql(Some(&token), INVOICE, json!({})).await;
        let payload = invoice["data"]["createStarsInvoice"]["payload"].as_str().expect("payload").to_owned();
        payers.push((FakeUser::new(&first.url, WEBHOOK_SECRET, id, "en"), payload));
    }
    // Each chat: a backlog of messages, then its payment; every one acknowledged with 200.
    let deliveries = join_all(payers.iter().map(|(user, payload)| async move {
        for _ in 0..5 {
            user.says("/help").await;
        }
        let update = payment(user, &format!("charge-{}", user.id), payload);
        (user.post(update.clone()).await, update)
    }))
    .await;
    first.kill().await;
    let credited_at_crash = scalar(&site.database_url, "SELECT COUNT(*) FROM payments").await;
    assert!(
        credited_at_crash < 20,
        "the crash came too late to test anything: {credited_at_crash} payments were handled"
    );

    // The second instance takes over what the first held once its claims lapse (3 s here).
    let second = Server::start(&site.env("second", Some(&fake.url)), &site.dir.path().join("second.log")).await;
    let url = &site.database_url;
    let all_credited =
        || async { scalar(url, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'TOP_UP'").await == 20 };
    if !eventually_within(Duration::from_secs(30), all_credited).await {
        let pending = scalar(url, "SELECT COUNT(*) FROM telegram_updates WHERE status = 'PENDING'").await;
        let parked = scalar(url, "SELECT COUNT(*) FROM telegram_updates WHERE status = 'PARKED'").await;
        panic!(
            "not every payment was credited ({pending} updates pending, {parked} parked); log:\n{}",
            second.log_text()
        );
    }
    for (user, _) in &payers {
        let balance = scalar(url, &format!("SELECT balance FROM users WHERE telegram_id = {}", user.id)).await;
        assert_eq!(balance, 10 + 110, "user {}", user.id);
    }
    let fake_ref = &fake;
    let told = || async { payers.iter().all(|(user, _)| sent_with(fake_ref, user.id, "Paid: +110 credits") == 1) };
    assert!(eventually_within(Duration::from_secs(30), told).await, "every payer is told once");
    // Everything acknowledged was handled: each chat got its five answers to /help.
    for (user, _) in &payers {
        assert!(sent_with(&fake, user.id, "/paysupport") >= 5, "chat {} lost messages", user.id);
    }

    // Telegram delivers the payments again (same update ids), and once more under new ids.
    let again = FakeUser::new(&second.url, WEBHOOK_SECRET, 1, "en");
    for ((update_id, update), (user, payload)) in deliveries.iter().zip(&payers) {
        assert_eq!(again.redeliver(*update_id, update.clone()).await, 200);
        user.at(&second.url).post(payment(user, &format!("charge-{}", user.id), payload)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(scalar(url, "SELECT COUNT(*) FROM payments").await, 20);
    assert_eq!(scalar(url, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'TOP_UP'").await, 20);
    assert_eq!(scalar(url, "SELECT CAST(SUM(balance) AS BIGINT) FROM users").await, 20 * 120);
    assert!(payers.iter().all(|(user, _)| sent_with(&fake, user.id, "Paid") == 1), "a redelivery was told again");
    second.kill().await;
});

db_test!(a_pre_checkout_is_answered_at_once_while_twenty_chats_flood_the_bot, |db| async move {
    let (app, fake) = bot_app_with(db, |c| {
        let telegram = c.telegram.as_mut().expect("bot");
        // Telegram's real limits: the flood's replies take twenty seconds to go out.
        telegram.messages_per_sec_chat = 1;
        telegram.messages_per_sec_overall = 30;
    })
    .await;
    let (token, _) = app.sign_in(8100, "payer").await;
    let payload = app.gql(Some(&token), INVOICE, json!({})).await.data("createStarsInvoice")["payload"]
        .as_str()
        .expect("payload")
        .to_owned();
    let flooders: Vec<FakeUser> = (0..20).map(|n| user(&app, 8200 + n, "en")).collect();
    join_all(flooders.iter().map(|u| async move {
        for _ in 0..30 {
            u.says("/help").await;
        }
    }))
    .await;

    let asked = Instant::now();
    user(&app, 8100, "en").pre_checkout(&payload, 100).await;
    let fake_ref = &fake;
    let answered = eventually_within(Duration::from_secs(10), || async {
        !fake_ref.calls_to("answerPreCheckoutQuery").is_empty()
    })
    .await;
    let waited = asked.elapsed();
    assert!(answered, "no answer within Telegram's 10 s");
    assert_eq!(fake.calls_to("answerPreCheckoutQuery")[0].params["ok"], true);
    let replies = fake.calls_to("sendMessage").len();
    assert!(replies < 600, "the flood was over before the pre-check ({replies} replies): nothing was tested");
    eprintln!("pre-check answered after {waited:?} with {replies} of 600 flood replies sent");
});

db_test!(updates_of_one_chat_given_to_two_instances_are_handled_in_order_and_once, |db| async move {
    let fake = FakeTelegram::start(BOT_TOKEN).await;
    let api: url::Url = fake.url.parse().expect("url");
    let bot = |c: &mut aisha::config::Config, api: url::Url| {
        let telegram = c.telegram.as_mut().expect("bot");
        telegram.api_url = api;
        telegram.messages_per_sec_chat = 1000;
        telegram.messages_per_sec_overall = 10_000;
    };
    let first = spawn_app_with(db, |c| bot(c, api.clone())).await;
    let shared = first.app.config.database_url.clone();
    let second = spawn_app_with(db, |c| {
        bot(c, api.clone());
        c.database_url = shared;
    })
    .await;
    let chat = 8300;
    let commands = ["/help", "/balance", "/language"];
    let (to_first, to_second) =
        (FakeUser::new(&first.url, WEBHOOK_SECRET, chat, "en"), FakeUser::new(&second.url, WEBHOOK_SECRET, chat, "en"));
    for n in 0..12 {
        let instance = if n % 2 == 0 { &to_first } else { &to_second };
        let update = instance.message(json!({ "text": commands[n % 3] }));
        assert_eq!(instance.redeliver(900_000 + n as i64, update).await, 200);
    }
    let fake_ref = &fake;
    let replies =
        || fake_ref.calls_to("sendMessage").into_iter().filter(|c| c.params["chat_id"] == chat).collect::<Vec<_>>();
    assert!(eventually(|| async { replies().len() >= 12 }).await, "calls: {:#?}", fake.calls());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let said: Vec<String> =
        replies().iter().map(|c| c.params["text"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(said.len(), 12, "each update once: {said:#?}");
    for (n, text) in said.iter().enumerate() {
        let expected = ["/paysupport", "Balance:", "Choose a language"][n % 3];
        assert!(text.contains(expected), "reply {n} out of order: {said:#?}");
    }
});

db_test!(updates_waiting_for_a_handler_longer_than_their_lease_are_handled_once, |db| async move {
    let (app, fake) = bot_app_with(db, |c| c.inbox.lease = Duration::from_secs(1)).await;
    // Each reply takes 1.5 s to send: forty chats wait for sixteen handlers for up to 4 s,
    // four leases, while their claims must stay this instance's.
    fake.delay("sendMessage", Duration::from_millis(1500));
    let chats: Vec<FakeUser> = (0..40).map(|n| user(&app, 8600 + n, "en")).collect();
    join_all(chats.iter().map(|u| u.says("/help"))).await;
    let fake_ref = &fake;
    let all_answered = || async { chats.iter().all(|u| sent_with(fake_ref, u.id, "/paysupport") >= 1) };
    assert!(eventually_within(Duration::from_secs(30), all_answered).await, "not every chat was answered");
    tokio::time::sleep(Duration::from_secs(3)).await; // a second handling would have answered by now
    for u in &chats {
        assert_eq!(sent_with(&fake, u.id, "/paysupport"), 1, "chat {} was answered twice", u.id);
    }
});

db_test!(an_update_that_keeps_failing_is_parked_for_the_operator_and_can_be_retried, |db| async move {
    let (app, fake) = bot_app_with(db, |c| {
        c.inbox.retry_after = Duration::from_millis(20);
        c.inbox.max_attempts = 3;
    })
    .await;
    // Telegram answers garbage three times: three attempts, then the update is parked.
    fake.garble_next("sendMessage", 3);
    let dana = user(&app, 8400, "en");
    dana.says("/help").await;
    let parked = "{ adminTelegramUpdates(status: PARKED) { edges { node { updateId attempts error lane } } } }";
    let app_ref = &app;
    let found = || async {
        !app_ref.gql(Some(ADMIN_TOKEN), parked, json!({})).await.data("adminTelegramUpdates")["edges"]
            .as_array()
            .expect("edges")
            .is_empty()
    };
    assert!(eventually(found).await, "the update was not parked");
    let edges = app.gql(Some(ADMIN_TOKEN), parked, json!({})).await.data("adminTelegramUpdates")["edges"].clone();
    let update = &edges[0]["node"];
    assert_eq!((update["attempts"].as_i64(), update["lane"].as_str()), (Some(3), Some("CHAT")), "{update}");
    assert!(update["error"].as_str().is_some_and(|e| e.contains("JSON")), "{update}");
    // The user heard that something went wrong, once.
    assert!(eventually(|| async { sent_with(&fake, dana.id, "Something went wrong") == 1 }).await);
    assert!(fake.last_message_with(dana.id, "/paysupport").is_none(), "the help arrived though every send failed");

    // Only the operator sees or retries it; a retry handles it.
    let (token, _) = app.sign_in(8401, "nosy").await;
    assert_eq!(app.gql(Some(&token), parked, json!({})).await.error_code(), "FORBIDDEN");
    let retry = "mutation($id: String!) { adminRetryTelegramUpdate(updateId: $id) }";
    let id = update["updateId"].clone();
    assert_eq!(app.gql(Some(&token), retry, json!({ "id": id })).await.error_code(), "FORBIDDEN");
    assert_eq!(app.gql(Some(ADMIN_TOKEN), retry, json!({ "id": id })).await.data("adminRetryTelegramUpdate"), true);
    assert!(
        eventually(|| async { fake.last_message_with(dana.id, "/paysupport").is_some() }).await,
        "the retried update was not handled"
    );
    assert!(eventually(|| async { !found().await }).await, "the update is still parked");
    assert_eq!(app.gql(Some(ADMIN_TOKEN), retry, json!({ "id": id })).await.data("adminRetryTelegramUpdate"), false);
});

db_test!(handled_updates_are_pruned_after_a_day_and_the_rest_are_kept, |db| async move {
    let (app, _fake) = bot_app_with(db, |_| {}).await;
    let day = 24 * 3600 * 1_000_000i64;
    let now = aisha::domain::time::now_micros();
    for (id, status, done_at) in [(1, "DONE", now - 2 * day), (2, "DONE", now - day / 2), (3, "PARKED", now - 2 * day)]
    {
        let sql = format!(
            "INSERT INTO telegram_updates (update_id, chat_key, lane, payload, status, next_attempt_at, received_at, done_at) \
             VALUES ({id}, 1, 'CHAT', '{{}}', '{status}', 0, {done_at}, {done_at})"
        );
        app.scalar_i64(&format!("{sql} RETURNING update_id")).await;
    }
    assert_eq!(app.app.services.inbox.prune().await.expect("prune"), 1);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM telegram_updates WHERE update_id IN (2, 3)").await, 2);
});
