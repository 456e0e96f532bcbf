//! Promo codes: an operator's codes, redeemed once per rule even when users race for the last
//! use; credits at once, a bonus on the next top-up and a discount on the next paid action,
//! each exactly once; refusals that say why and change nothing; and the bot's `/promo`.

use futures_util::future::join_all;
use serde_json::{Value, json};

use aisha::domain::payments::Refunder;

use crate::db_test;
use crate::support::bot::{ask_for_pictures, bot_app, id_of, screen, user};
use crate::support::seed::pay_stars;
use crate::support::{ADMIN_TOKEN, Db, TestApp, spawn_app, spawn_app_with};

const CREATE: &str = "mutation($i: PromoCodeInput!) { createPromoCode(input: $i) { id code kind value uses } }";
const REDEEM: &str = "mutation($c: String!) { redeemPromoCode(code: $c) { code kind value state transaction { kind amount balanceAfter } } }";
const GENERATE: &str =
    "mutation($p: String!) { createGeneration(input: { model: \"local/sketch\", prompt: $p }) { id status cost } }";

async fn create_code(app: &TestApp, input: Value) -> Value {
    let created = app.gql(Some(ADMIN_TOKEN), CREATE, json!({ "i": input })).await;
    created.data("createPromoCode").clone()
}

async fn redeem(app: &TestApp, token: &str, code: &str) -> crate::support::graphql::GqlResponse {
    app.gql(Some(token), REDEEM, json!({ "c": code })).await
}

/// The refusal's code and message.
fn refusal(answer: &crate::support::graphql::GqlResponse) -> (String, String) {
    let message = answer.body["errors"][0]["message"].as_str().unwrap_or_default().to_owned();
    (answer.error_code().to_owned(), message)
}

db_test!(racing_users_and_a_racing_user_win_exactly_the_uses_a_code_has, |db: Db| async move {
    let app = spawn_app(db).await;
    create_code(&app, json!({ "code": "last-one", "kind": "CREDITS", "value": 25, "maxUses": 1 })).await;
    create_code(&app, json!({ "code": "three", "kind": "CREDITS", "value": 5, "maxUses": 3 })).await;
    let mut tokens = Vec::new();
    for n in 0..8 {
        tokens.push(app.sign_in(5100 + n, &format!("racer{n}")).await.0);
    }

    let answers = join_all(tokens.iter().map(|t| redeem(&app, t, "LAST-ONE"))).await;
    let won = answers.iter().filter(|a| a.body.get("errors").is_none()).count();
    assert_eq!(won, 1, "the last use went to {won} users");
    for lost in answers.iter().filter(|a| a.body.get("errors").is_some()) {
        assert_eq!(refusal(lost), ("BAD_USER_INPUT".into(), "this promo code has been used up".into()));
    }
    let answers = join_all(tokens.iter().map(|t| redeem(&app, t, "three"))).await;
    assert_eq!(answers.iter().filter(|a| a.body.get("errors").is_none()).count(), 3);

    // One user asking five times at once gets the one use a code allows each user.
    create_code(&app, json!({ "code": "once-each", "kind": "CREDITS", "value": 7 })).await;
    let answers = join_all((0..5).map(|_| redeem(&app, &tokens[0], "once-each"))).await;
    assert_eq!(answers.iter().filter(|a| a.body.get("errors").is_none()).count(), 1);
    let again = answers.iter().find(|a| a.body.get("errors").is_some()).expect("a refusal");
    assert_eq!(refusal(again).1, "you have used this code already");

    let promo = |code: &str| format!("SELECT uses FROM promo_codes WHERE code = '{code}'");
    assert_eq!(app.scalar_i64(&promo("LAST-ONE")).await, 1);
    assert_eq!(app.scalar_i64(&promo("THREE")).await, 3);
    assert_eq!(app.scalar_i64(&promo("ONCE-EACH")).await, 1);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'PROMO'").await, 5);
    let paid = "SELECT CAST(SUM(amount) AS BIGINT) FROM ledger_entries WHERE kind = 'PROMO'";
    assert_eq!(app.scalar_i64(paid).await, 25 + 3 * 5 + 7);
    let books =
        "SELECT CAST(SUM(balance) AS BIGINT) - (SELECT CAST(SUM(amount) AS BIGINT) FROM ledger_entries) FROM users";
    assert_eq!(app.scalar_i64(books).await, 0, "balances equal the ledger");
});

db_test!(refused_codes_say_why_and_change_nothing, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(5200, "hopeful").await;
    let hour = chrono::Duration::hours(1);
    let now = chrono::Utc::now();
    create_code(&app, json!({ "code": "SLEEPING", "kind": "CREDITS", "value": 5, "active": false })).await;
    create_code(&app, json!({ "code": "SOON", "kind": "CREDITS", "value": 5, "validFrom": now + hour })).await;
    create_code(&app, json!({ "code": "OVER", "kind": "CREDITS", "value": 5, "validUntil": now - hour })).await;
    create_code(&app, json!({ "code": "BONUS-A", "kind": "BONUS_PERCENT", "value": 10 })).await;
    create_code(&app, json!({ "code": "BONUS-B", "kind": "BONUS_PERCENT", "value": 20 })).await;
    assert!(redeem(&app, &token, "bonus-a").await.body.get("errors").is_none());
    let before = app.scalar_i64("SELECT COUNT(*) FROM promo_redemptions").await;

    let cases = [
        ("nope-nope", "there is no such promo code; check its spelling"),
        ("x", "there is no such promo code; check its spelling"),
        ("sleeping", "this promo code is not active"),
        ("soon", "this promo code is not valid yet"),
        ("over", "this promo code has expired"),
        ("bonus-a", "you have used this code already"),
        ("bonus-b", "you have a bonus waiting already: it applies to your next top-up"),
    ];
    for (code, why) in cases {
        assert_eq!(refusal(&redeem(&app, &token, code).await), ("BAD_USER_INPUT".into(), why.into()), "{code}");
    }
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM promo_redemptions").await, before);
    let uses = "SELECT CAST(SUM(uses) AS BIGINT) FROM promo_codes";
    assert_eq!(app.scalar_i64(uses).await, 1, "a refused redemption took a use");
    assert_eq!(app.scalar_i64("SELECT balance FROM users").await, 10);

    // The operator's mistakes, and a user trying the operator's mutations.
    let bad = [
        json!({ "code": "bonus-a", "kind": "CREDITS", "value": 5 }),
        json!({ "code": "HALF", "kind": "DISCOUNT_PERCENT", "value": 100 }),
        json!({ "code": "ZERO", "kind": "CREDITS", "value": 0 }),
        json!({ "code": "two words", "kind": "CREDITS", "value": 5 }),
        json!({ "code": "NONE", "kind": "CREDITS", "value": 5, "maxUses": 0 }),
        json!({ "code": "BACKWARDS", "kind": "CREDITS", "value": 5, "validFrom": now, "validUntil": now - hour }),
    ];
    for input in bad {
        let answer = app.gql(Some(ADMIN_TOKEN), CREATE, json!({ "i": input })).await;
        assert_eq!(answer.error_code(), "BAD_USER_INPUT", "{input}: {}", answer.body);
    }
    let as_user =
        app.gql(Some(&token), CREATE, json!({ "i": { "code": "MINE", "kind": "CREDITS", "value": 9 } })).await;
    assert_eq!(as_user.error_code(), "FORBIDDEN");
    let switch = "mutation { setPromoCodeActive(code: \"sleeping\", active: true) { active } }";
    assert_eq!(app.gql(Some(&token), switch, json!({})).await.error_code(), "FORBIDDEN");
    assert_eq!(
        app.gql(Some(&token), "{ adminPromoCodes { edges { node { code } } } }", json!({})).await.error_code(),
        "FORBIDDEN"
    );
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM promo_codes").await, 5);

    // Switched on by the operator, the sleeping code works.
    assert_eq!(app.gql(Some(ADMIN_TOKEN), switch, json!({})).await.data("setPromoCodeActive")["active"], true);
    assert_eq!(redeem(&app, &token, "Sleeping").await.data("redeemPromoCode")["transaction"]["balanceAfter"], 15);
});

db_test!(a_discount_lowers_one_paid_action_and_comes_back_if_that_action_is_refunded, |db: Db| async move {
    let app = spawn_app_with(db, |c| {
        aisha::domain::generations::apply_prices(&mut c.catalog, "local/sketch=10").expect("price");
        c.local.latency = std::time::Duration::from_secs(30);
    })
    .await;
    let (token, user_id) = app.sign_in(5300, "thrifty").await;
    app.give_credits(&user_id, 100).await; // 110
    create_code(&app, json!({ "code": "HALF", "kind": "DISCOUNT_PERCENT", "value": 50 })).await;
    let redeemed = redeem(&app, &token, "half").await;
    assert_eq!(redeemed.data("redeemPromoCode")["state"], "PENDING");
    assert!(redeemed.data("redeemPromoCode")["transaction"].is_null());
    let waiting = "{ me { balance promoRedemptions(pendingOnly: true) { code state } } }";
    let me = app.gql(Some(&token), waiting, json!({})).await;
    assert_eq!(me.data("me")["promoRedemptions"], json!([{ "code": "HALF", "state": "PENDING" }]));
    assert_eq!(me.data("me")["balance"], 110, "a discount adds no credits");

    let first = app.gql(Some(&token), GENERATE, json!({ "p": "half price" })).await;
    assert_eq!(first.data("createGeneration")["cost"], 5);
    // Cancelled (refunded): the discount waits again, and the next generation gets it.
    let id = first.data("createGeneration")["id"].clone();
    let cancel = "mutation($id: ID!) { cancelGeneration(id: $id) { status } }";
    let cancelled = app.gql(Some(&token), cancel, json!({ "id": id })).await;
    assert_eq!(cancelled.data("cancelGeneration")["status"], "CANCELLED");
    assert_eq!(app.gql(Some(&token), waiting, json!({})).await.data("me")["promoRedemptions"][0]["state"], "PENDING");

    let costs = join_all((0..4).map(|n| app.gql(Some(&token), GENERATE, json!({ "p": format!("picture {n}") })))).await;
    let mut costs: Vec<i64> =
        costs.iter().map(|c| c.data("createGeneration")["cost"].as_i64().expect("cost")).collect();
    costs.sort();
    assert_eq!(costs, [5, 10, 10, 10], "one of four concurrent generations got the discount");
    assert!(
        app.gql(Some(&token), waiting, json!({})).await.data("me")["promoRedemptions"]
            .as_array()
            .expect("list")
            .is_empty()
    );
    let charged = "SELECT CAST(-SUM(amount) AS BIGINT) FROM ledger_entries WHERE kind = 'CHARGE'";
    let refunded = "SELECT CAST(SUM(amount) AS BIGINT) FROM ledger_entries WHERE kind = 'REFUND'";
    assert_eq!(app.scalar_i64(charged).await, 5 + 35);
    assert_eq!(app.scalar_i64(refunded).await, 5);
    assert_eq!(app.balance(&token).await, 110 - 35);
    app.leaves_jobs_running("the generations take 30 s; the test is about their charges");
});

db_test!(a_bonus_adds_to_the_next_top_up_only_and_leaves_with_its_refund, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let (token, _) = app.sign_in(5400, "buyer").await;
    let user_id = app.scalar_i64("SELECT id FROM users WHERE telegram_id = 5400").await;
    create_code(&app, json!({ "code": "MORE20", "kind": "BONUS_PERCENT", "value": 20 })).await;
    assert_eq!(redeem(&app, &token, "more20").await.data("redeemPromoCode")["state"], "PENDING");

    let pay = |charge: &'static str| pay_stars(&app, user_id, charge);
    let (credits, first) = pay("charge-bonus-1").await;
    // Telegram delivers the same payment again: no second top-up, no second bonus.
    let (_, replay) = pay("charge-bonus-1").await;
    assert_eq!(first, replay);
    let (_, _) = pay("charge-bonus-2").await;
    let bonus = credits * 20 / 100;
    let promo = "SELECT CAST(SUM(amount) AS BIGINT) FROM ledger_entries WHERE kind = 'PROMO'";
    assert_eq!(app.scalar_i64(promo).await, bonus, "one bonus, on the first top-up");
    assert_eq!(app.balance(&token).await, 10 + 2 * credits + bonus);
    // The bot's note of the first payment names the bonus, and the balance after both rows.
    let note = format!(
        "Paid: +{credits} credits and +{bonus} bonus credits from your promo code. Balance: {}.",
        10 + credits + bonus
    );
    screen(&fake, 5400, &note).await;
    screen(&fake, 5400, &format!("Paid: +{credits} credits. Balance: {}.", 10 + 2 * credits + bonus)).await;
    let list =
        app.gql(Some(&token), "{ me { promoRedemptions { state transaction { kind amount } } } }", json!({})).await;
    assert_eq!(
        list.data("me")["promoRedemptions"],
        json!([{ "state": "CONSUMED", "transaction": { "kind": "PROMO", "amount": bonus } }])
    );

    // Refunding the first payment takes its bonus back with its credits.
    let payment_id =
        app.scalar_i64("SELECT id FROM payments WHERE telegram_payment_charge_id = 'charge-bonus-1'").await;
    app.app.services.payments.refund(Refunder::User(user_id), payment_id).await.expect("refunded");
    let taken = "SELECT CAST(-SUM(amount) AS BIGINT) FROM ledger_entries WHERE kind = 'PAYMENT_REFUND'";
    assert_eq!(app.scalar_i64(taken).await, credits + bonus);
    assert_eq!(app.balance(&token).await, 10 + credits);
    let refunds = "{ me { starPayments { edges { node { credits refundCredits refundStatus } } } } }";
    let listed = app.gql(Some(&token), refunds, json!({})).await;
    let refunded = listed.data("me")["starPayments"]["edges"][1]["node"].clone();
    assert_eq!(refunded, json!({ "credits": credits, "refundCredits": credits + bonus, "refundStatus": "REFUNDED" }));
    screen(&fake, 5400, &format!("{} credits were taken back. Balance: {}.", credits + bonus, 10 + credits)).await;
});

db_test!(the_bot_redeems_with_promo_or_from_the_balance_screen, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    create_code(&app, json!({ "code": "HELLO", "kind": "CREDITS", "value": 15 })).await;
    create_code(&app, json!({ "code": "CHEAPER", "kind": "DISCOUNT_PERCENT", "value": 30 })).await;
    let ana = user(&app, 5500, "en");
    ana.says("/start").await;
    screen(&fake, ana.id, "Balance: 10").await;

    ana.says("/promo hello").await;
    screen(&fake, ana.id, "Promo code HELLO: +15 credits. Balance: 25.").await;
    ana.says("/balance").await;
    let balance = screen(&fake, ana.id, "Latest transactions").await;
    assert!(balance["text"].as_str().expect("text").contains("+15 PROMO"), "{balance}");
    ana.press(&fake, id_of(&balance), "Promo code").await;
    screen(&fake, ana.id, "Send the promo code").await;
    ana.says("hello").await;
    screen(&fake, ana.id, "not accepted: you have used this code already").await;
    ana.says("cheaper").await;
    screen(&fake, ana.id, "your next generation or training costs 30% less").await;
    assert_eq!(app.scalar_i64("SELECT balance FROM users WHERE telegram_id = 5500").await, 25);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM promo_redemptions WHERE state = 'PENDING'").await, 1);

    // The confirmation shows the price the discount leaves, and that is what is charged.
    ana.says("/start").await;
    let menu = screen(&fake, ana.id, "What shall we make?").await;
    let confirm = ask_for_pictures(&fake, &ana, &menu, "a cheaper fox", "1:1", "2").await;
    let text = confirm["text"].as_str().expect("text");
    assert!(text.contains("Price: 7 credits (30% off with your promo code, 10 without) (balance 25)"), "{text}");
    ana.press(&fake, id_of(&confirm), "Create for 7").await;
    let charged = "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'CHARGE' AND amount = -7";
    assert!(crate::support::eventually(|| async { app.scalar_i64(charged).await == 1 }).await, "not charged 7");
    let token = app.sign_in(5500, "ana").await.0;
    let done = app.gql(Some(&token), "{ generations(first: 1) { edges { node { id } } } }", json!({})).await;
    let id = done.data("generations")["edges"][0]["node"]["id"].as_str().expect("id").to_owned();
    app.wait_for_status(&token, &id, &["COMPLETED", "FAILED"]).await;
});

db_test!(a_quote_is_what_the_user_would_pay_and_says_whether_to_ask, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(5600, "quoted").await;
    let quote = "query($m: String!, $n: Int!) { quote(model: $m, numImages: $n) { price discountPercent toPay balanceAfter needsConfirmation } }";
    let ask = |n: i64| app.gql(Some(&token), quote, json!({ "m": "fal-ai/imagen4/preview", "n": n }));
    assert_eq!(
        ask(1).await.data("quote"),
        &json!({ "price": 5, "discountPercent": null, "toPay": 5, "balanceAfter": 5, "needsConfirmation": true })
    );
    let settings = "mutation { updateSettings(input: { quickMode: true, quickModeMaxPrice: 10 }) { quickMode } }";
    app.gql(Some(&token), settings, json!({})).await.data("updateSettings");
    assert_eq!(ask(2).await.data("quote")["needsConfirmation"], false, "10 is within the quick limit");
    assert_eq!(ask(3).await.data("quote")["needsConfirmation"], true, "15 is not");
    // A waiting discount counts: 15 less 50 % is 8 (the credits off are rounded down), within the limit.
    create_code(&app, json!({ "code": "HALF", "kind": "DISCOUNT_PERCENT", "value": 50 })).await;
    redeem(&app, &token, "half").await.data("redeemPromoCode");
    assert_eq!(
        ask(3).await.data("quote"),
        &json!({ "price": 15, "discountPercent": 50, "toPay": 8, "balanceAfter": 2, "needsConfirmation": false })
    );
    assert_eq!(ask(0).await.error_code(), "BAD_USER_INPUT");
    assert_eq!(ask(5).await.error_code(), "BAD_USER_INPUT");
    let unknown = app.gql(Some(&token), quote, json!({ "m": "no/such", "n": 1 })).await;
    assert_ne!(unknown.error_code(), "INTERNAL", "{}", unknown.body);
    assert_eq!(app.gql(None, quote, json!({ "m": "local/sketch", "n": 1 })).await.error_code(), "UNAUTHENTICATED");
});

db_test!(a_list_of_redemptions_loads_their_transactions_in_one_batch, |db: Db| async move {
    // No workers or reaper polling the database while statements are counted.
    let app = spawn_app_with(db, |c| {
        c.workers = 0;
        c.job_idle_interval = std::time::Duration::from_secs(3600);
    })
    .await;
    let (token, _) = app.sign_in(4900, "collector").await;
    let query = "{ me { promoRedemptions { code transaction { amount } } } }";
    let mut costs = Vec::new();
    for n in 0..3 {
        let code = format!("batch-{n}");
        create_code(&app, json!({ "code": code, "kind": "CREDITS", "value": 5 + n })).await;
        redeem(&app, &token, &code).await.data("redeemPromoCode");
        // The fewest of five runs: the loader's window can close between two keys on a busy
        // machine, which is timing, not a statement per row.
        let mut fewest = u64::MAX;
        for _ in 0..5 {
            let before = app.app.metrics.sql_statements();
            let list = app.gql(Some(&token), query, json!({})).await;
            fewest = fewest.min(app.app.metrics.sql_statements() - before);
            let rows = list.data("me")["promoRedemptions"].as_array().expect("list").clone();
            assert_eq!(rows.len(), n + 1);
            assert!(rows.iter().all(|r| r["transaction"]["amount"].as_i64().is_some_and(|a| a >= 5)), "{rows:?}");
        }
        costs.push(fewest);
    }
    assert!(costs.windows(2).all(|w| w[0] == w[1]), "the statements grew with the list: {costs:?}");
});

db_test!(a_discount_lowers_a_training_too_and_waits_again_when_it_is_cancelled, |db: Db| async move {
    use crate::support::fake_fal::{FakeFal, Mode};
    let fal = FakeFal::start(Mode::NeverFinish, std::time::Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| crate::support::use_fal(c, &fal)).await;
    let (token, avatar) = crate::avatars::avatar_with_photos(&app, 5700, 10).await;
    let before = app.balance(&token).await;
    create_code(&app, json!({ "code": "TRAIN40", "kind": "DISCOUNT_PERCENT", "value": 40 })).await;
    redeem(&app, &token, "train40").await.data("redeemPromoCode");
    let price =
        app.gql(Some(&token), "{ avatars { trainingPrice } }", json!({})).await.data("avatars")[0]["trainingPrice"]
            .as_i64()
            .expect("a price");
    let start = "mutation($id: ID!) { startAvatarTraining(avatarId: $id) { status } }";
    app.gql(Some(&token), start, json!({ "id": avatar })).await.data("startAvatarTraining");
    assert_eq!(app.balance(&token).await, before - (price - price * 40 / 100), "charged the discounted price");

    let cancel = "mutation($id: ID!) { cancelAvatarTraining(avatarId: $id) { status } }";
    app.gql(Some(&token), cancel, json!({ "id": avatar })).await.data("cancelAvatarTraining");
    assert_eq!(app.balance(&token).await, before, "refunded what it charged");
    let waiting = "{ me { promoRedemptions(pendingOnly: true) { code } } }";
    let pending = app.gql(Some(&token), waiting, json!({})).await;
    assert_eq!(pending.data("me")["promoRedemptions"], json!([{ "code": "TRAIN40" }]), "the discount waits again");
});

db_test!(a_refund_telegram_refuses_gives_back_the_bonus_with_the_credits, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let (token, _) = app.sign_in(5800, "unlucky").await;
    let user_id = app.scalar_i64("SELECT id FROM users WHERE telegram_id = 5800").await;
    create_code(&app, json!({ "code": "MORE50", "kind": "BONUS_PERCENT", "value": 50 })).await;
    redeem(&app, &token, "more50").await.data("redeemPromoCode");
    let (credits, _) = pay_stars(&app, user_id, "charge-refused").await;
    let bonus = credits / 2;
    let paid = app.balance(&token).await;
    assert_eq!(paid, 10 + credits + bonus);

    fake.refuse_refunds("Bad Request: STARS_REFUND_FAILED");
    let payment_id = app.scalar_i64("SELECT id FROM payments").await;
    let refused = app.app.services.payments.refund(Refunder::User(user_id), payment_id).await;
    assert!(matches!(refused, Err(aisha::domain::Error::InvalidInput(_))), "{:?}", refused.err());
    assert_eq!(app.balance(&token).await, paid, "the credits and the bonus came back");
    let adjusted = "SELECT CAST(SUM(amount) AS BIGINT) FROM ledger_entries WHERE kind = 'ADJUSTMENT'";
    assert_eq!(app.scalar_i64(adjusted).await, credits + bonus);
});
