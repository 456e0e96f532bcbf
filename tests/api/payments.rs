//! Stars payments that always land: credited as their invoice offered (whatever is on offer
//! later), refunded from `/paysupport` while their credits are unspent, and reconciled with
//! Telegram's list of the bot's transactions.

use serde_json::json;

use crate::db_test;
use crate::support::bot::{bot_app, id_of, screen, sent_with, user};
use crate::support::fake_telegram::FakeTelegram;
use crate::support::{ADMIN_TOKEN, BOT_TOKEN, TestApp, eventually, restart_app};

/// Goes through the bot's top-up screens and returns the payload of the invoice it sent.
async fn invoice_from_the_bot(
    fake: &FakeTelegram,
    payer: &crate::support::fake_telegram::FakeUser,
    label: &str,
) -> String {
    payer.says("/balance").await;
    let balance = screen(fake, payer.id, "Latest transactions").await;
    payer.press(fake, id_of(&balance), "Top up").await;
    let packages = screen(fake, payer.id, "Top up with Telegram Stars").await;
    let before = fake.calls_to("sendInvoice").iter().filter(|c| c.params["chat_id"] == payer.id).count();
    payer.press(fake, id_of(&packages), label).await;
    let invoices = fake.wait_for("sendInvoice", payer.id, before + 1).await;
    invoices.last().expect("an invoice").params["payload"].as_str().expect("payload").to_owned()
}

fn bot_config(fake: &FakeTelegram, config: &mut aisha::config::Config) {
    let telegram = config.telegram.as_mut().expect("bot");
    telegram.api_url = fake.url.parse().expect("url");
    telegram.messages_per_sec_chat = 1000;
    telegram.messages_per_sec_overall = 10_000;
}

async fn balance_of(app: &TestApp, telegram_id: i64) -> i64 {
    app.scalar_i64(&format!("SELECT balance FROM users WHERE telegram_id = {telegram_id}")).await
}

db_test!(a_payment_is_credited_as_its_invoice_offered_after_the_package_is_gone, |db| async move {
    let fake = FakeTelegram::start(BOT_TOKEN).await;
    let app = crate::support::spawn_app_with(db, |c| {
        bot_config(&fake, c);
        c.credit_packages = aisha::domain::payments::parse_packages("100:110").expect("packages");
    })
    .await;
    let finn = user(&app, 9001, "en");
    finn.says("/start").await;
    screen(&fake, finn.id, "Balance: 10").await;
    let payload = invoice_from_the_bot(&fake, &finn, "110 credits for 100").await;

    // A new price list: 100 stars now buy 90 credits, and the old package is gone.
    let place = app.kill().await;
    let app = restart_app(place, |c| {
        bot_config(&fake, c);
        c.credit_packages = aisha::domain::payments::parse_packages("100:90,200:250").expect("packages");
    })
    .await;
    let finn = finn.at(&app.url);
    let offered = finn.pre_checkout(&payload, 100).await;
    let forged = finn.pre_checkout("topup:nonsense", 100).await;
    let fake_ref = &fake;
    assert!(eventually(|| async { fake_ref.calls_to("answerPreCheckoutQuery").len() == 2 }).await);
    assert_eq!(fake.pre_checkout_answer(&offered), Some(true), "the recorded offer stands");
    assert_eq!(fake.pre_checkout_answer(&forged), Some(false));
    finn.post(finn.payment("charge-old-offer", &payload, 100)).await;
    screen(&fake, finn.id, "Paid: +110 credits. Balance: 120.").await;
    assert_eq!(balance_of(&app, finn.id).await, 120);
    assert_eq!(app.scalar_i64("SELECT credits FROM payments").await, 110);
});

db_test!(a_payment_with_unspent_credits_is_refunded_from_paysupport_once, |db| async move {
    let (app, fake) = bot_app(db).await;
    let gus = user(&app, 9002, "en");
    gus.says("/start").await;
    screen(&fake, gus.id, "Balance: 10").await;
    let payload = invoice_from_the_bot(&fake, &gus, "110 credits for 100").await;
    gus.post(gus.payment("charge-refund-1", &payload, 100)).await;
    screen(&fake, gus.id, "Paid: +110 credits. Balance: 120.").await;

    gus.says("/paysupport").await;
    let support = screen(&fake, gus.id, "These can be refunded").await;
    gus.press(&fake, id_of(&support), "100 ⭐").await;
    let confirm = screen(&fake, gus.id, "Refund 100 ⭐? 110 credits").await;
    gus.press(&fake, id_of(&confirm), "Refund 100 ⭐").await;
    screen(&fake, gus.id, "Refunded 100 ⭐; 110 credits were taken back. Balance: 10.").await;
    assert_eq!(fake.refunds(), vec![(gus.id, "charge-refund-1".to_owned())]);
    assert_eq!(balance_of(&app, gus.id).await, 10);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'PAYMENT_REFUND' AND amount = -110").await,
        1
    );
    assert_eq!(app.scalar_string("SELECT refund_status FROM payments").await, "REFUNDED");

    // Once only: asking again changes nothing.
    let (token, _) = app.sign_in(gus.id, "user9002").await;
    let payments = app
        .gql(Some(&token), "{ me { starPayments { edges { node { id refundable refundStatus } } } } }", json!({}))
        .await;
    let node = payments.data("me")["starPayments"]["edges"][0]["node"].clone();
    assert_eq!((node["refundable"].clone(), node["refundStatus"].clone()), (json!(false), json!("REFUNDED")));
    let refund = "mutation($id: ID!) { refundStarPayment(paymentId: $id) { refundStatus } }";
    assert_eq!(app.gql(Some(&token), refund, json!({ "id": node["id"] })).await.error_code(), "BAD_USER_INPUT");
    assert_eq!(fake.refunds().len(), 1);

    // A payment whose credits were partly spent cannot be refunded, and nothing changes.
    let payload = invoice_from_the_bot(&fake, &gus, "110 credits for 100").await;
    gus.post(gus.payment("charge-refund-2", &payload, 100)).await;
    let app_ref = &app;
    assert!(eventually(|| async { balance_of(app_ref, 9002).await == 120 }).await);
    let spend = "mutation { createGeneration(input: { model: \"fal-ai/imagen4/preview\", prompt: \"spend\", numImages: 3 }) { id } }";
    app.gql(Some(&token), spend, json!({})).await.data("createGeneration");
    let payments =
        app.gql(Some(&token), "{ me { starPayments { edges { node { id refundable } } } } }", json!({})).await;
    let newest = payments.data("me")["starPayments"]["edges"][0]["node"].clone();
    assert_eq!(newest["refundable"], false);
    let refused = app.gql(Some(&token), refund, json!({ "id": newest["id"] })).await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT");
    assert!(refused.body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("spent")), "{}", refused.body);
    assert_eq!(fake.refunds().len(), 1);
    assert_eq!(balance_of(&app, gus.id).await, 105);
    gus.says("/paysupport").await;
    screen(&fake, gus.id, "Nothing to refund").await;

    // Someone else's payment is not found; the operator can refund any.
    let (other, _) = app.sign_in(9003, "other").await;
    assert_eq!(app.gql(Some(&other), refund, json!({ "id": node["id"] })).await.error_code(), "NOT_FOUND");
    let admin = "mutation($id: ID!) { adminRefundStarPayment(paymentId: $id) { refundStatus } }";
    assert_eq!(app.gql(Some(&other), admin, json!({ "id": newest["id"] })).await.error_code(), "FORBIDDEN");
});

db_test!(reconciliation_credits_what_telegram_took_and_we_never_recorded, |db| async move {
    let (app, fake) = bot_app(db).await;
    let (token, _) = app.sign_in(9101, "hana").await;
    let payload = app
        .gql(Some(&token), "mutation { createStarsInvoice(packageId: \"stars100\") { payload } }", json!({}))
        .await
        .data("createStarsInvoice")["payload"]
        .as_str()
        .expect("payload")
        .to_owned();
    // Telegram took these, but their updates never reached us.
    fake.add_star_payment("lost-1", 9101, 100, &payload);
    fake.add_star_payment("lost-2", 9102, 100, "topup:stars100:100:110");
    fake.add_star_payment("not-ours", 9101, 100, "someone else's payload");
    let telegram = app.app.config.telegram.clone().expect("bot");
    let payments = &app.app.services.payments;
    let report = aisha::telegram::reconcile_stars(&telegram, payments).await.expect("reconciled");
    let mut credited = report.credited.clone();
    credited.sort();
    assert_eq!(credited, vec![("lost-1".to_owned(), 110), ("lost-2".to_owned(), 110)]);
    assert_eq!(report.skipped.len(), 1, "{report:?}");
    assert_eq!(balance_of(&app, 9101).await, 120);
    assert_eq!(balance_of(&app, 9102).await, 120, "a payer we never met is created with the welcome bonus");

    // Again: nothing more. A refund made through us is not reported; one made elsewhere is.
    let payment = app.gql(Some(&token), "{ me { starPayments { edges { node { id } } } } }", json!({})).await;
    let id = payment.data("me")["starPayments"]["edges"][0]["node"]["id"].clone();
    let admin = "mutation($id: ID!) { adminRefundStarPayment(paymentId: $id) { refundStatus } }";
    assert_eq!(
        app.gql(Some(ADMIN_TOKEN), admin, json!({ "id": id })).await.data("adminRefundStarPayment")["refundStatus"],
        "REFUNDED"
    );
    fake.add_star_refund("lost-2", 9102);
    let again = aisha::telegram::reconcile_stars(&telegram, payments).await.expect("reconciled");
    assert!(again.credited.is_empty(), "{again:?}");
    assert_eq!(again.already_recorded, 2);
    assert_eq!(again.refunded_elsewhere, vec!["lost-2".to_owned()]);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'TOP_UP'").await, 2);
    assert!(eventually(|| async { sent_with(&fake, 9101, "Refunded 100 ⭐") == 1 }).await);
});
