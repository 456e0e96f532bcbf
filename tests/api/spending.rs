//! Spending: every figure of `me.spending` equals a sum over the ledger (or the payments behind
//! its top-ups), for the period asked and for this user only; and the bot's History and
//! Spending screens under Balance.

use serde_json::{Value, json};

use crate::db_test;
use crate::support::bot::{bot_app, id_of, screen, user};
use crate::support::seed::pay_stars;
use crate::support::{ADMIN_TOKEN, Db, TestApp, spawn_app_with};

const SPENDING: &str = "query($p: SpendingPeriod!) { me { balance spending(period: $p) { since charged refunded spent byModel { model type count charged refunded spent } byKind { kind count credits } stars { count stars credits } byDay { day charged refunded received } } } }";
const GENERATE: &str =
    "mutation($m: String!, $p: String!) { createGeneration(input: { model: $m, prompt: $p }) { id cost } }";

async fn sql(app: &TestApp, query: &str) -> i64 {
    app.scalar_i64(query).await
}

fn sum<'a>(rows: impl Iterator<Item = &'a Value>, field: &str) -> i64 {
    rows.map(|r| r[field].as_i64().expect("an int")).sum()
}

db_test!(every_spending_figure_is_a_sum_of_the_users_ledger_over_the_period, |db: Db| async move {
    let app = spawn_app_with(db, |c| {
        aisha::domain::generations::apply_prices(&mut c.catalog, "local/sketch=4").expect("price");
        c.local.latency = std::time::Duration::from_secs(30);
    })
    .await;
    let (token, user_id) = app.sign_in(6400, "spender").await;
    let (other, other_id) = app.sign_in(6401, "neighbour").await;
    app.give_credits(&user_id, 100).await;
    app.give_credits(&other_id, 50).await;
    let mut ids = Vec::new();
    for (model, prompt) in [("local/sketch", "one"), ("local/sketch", "two"), ("fal-ai/imagen4/preview", "three")] {
        let created = app.gql(Some(&token), GENERATE, json!({ "m": model, "p": prompt })).await;
        ids.push(created.data("createGeneration")["id"].clone());
    }
    app.gql(Some(&other), GENERATE, json!({ "m": "local/sketch", "p": "not mine" })).await.data("createGeneration");
    let cancel = "mutation($id: ID!) { cancelGeneration(id: $id) { status } }";
    assert_eq!(
        app.gql(Some(&token), cancel, json!({ "id": ids[1] })).await.data("cancelGeneration")["status"],
        "CANCELLED"
    );
    let user = sql(&app, "SELECT id FROM users WHERE telegram_id = 6400").await;
    let (bought, _) = pay_stars(&app, user, "charge-spending").await;
    // One old row: the welcome bonus, ten days ago.
    let ten_days = 10 * 86_400_000_000_i64;
    let moved = format!(
        "UPDATE ledger_entries SET created_at = created_at - {ten_days} WHERE user_id = {user} AND kind = 'BONUS'"
    );
    app.scalar_i64(&format!("{moved} RETURNING user_id")).await;

    let all = app.gql(Some(&token), SPENDING, json!({ "p": "ALL_TIME" })).await;
    let me = all.data("me");
    let s = &me["spending"];
    let of = |kind: &str| {
        format!(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries WHERE user_id = {user} AND kind = '{kind}'"
        )
    };
    assert!(s["since"].is_null());
    assert_eq!(s["charged"], -sql(&app, &of("CHARGE")).await);
    assert_eq!(s["refunded"], sql(&app, &of("REFUND")).await);
    assert_eq!(s["charged"], 4 + 4 + 5);
    assert_eq!(s["refunded"], 4);
    assert_eq!(s["spent"], 9);
    let by_model = s["byModel"].as_array().expect("list");
    assert_eq!(sum(by_model.iter(), "spent"), 9);
    assert_eq!(
        by_model[0],
        json!({ "model": "fal-ai/imagen4/preview", "type": "IMAGE", "count": 1, "charged": 5, "refunded": 0, "spent": 5 })
    );
    assert_eq!(
        by_model[1],
        json!({ "model": "local/sketch", "type": "IMAGE", "count": 2, "charged": 8, "refunded": 4, "spent": 4 })
    );
    let by_kind = s["byKind"].as_array().expect("list");
    assert_eq!(
        sum(by_kind.iter(), "credits"),
        me["balance"].as_i64().expect("balance"),
        "the kinds add up to the balance"
    );
    let rows = format!("SELECT COUNT(*) FROM ledger_entries WHERE user_id = {user}");
    assert_eq!(sum(by_kind.iter(), "count"), sql(&app, &rows).await);
    let stars = format!("SELECT total_amount FROM payments WHERE user_id = {user}");
    assert_eq!(s["stars"], json!({ "count": 1, "stars": sql(&app, &stars).await, "credits": bought }));
    let by_day = s["byDay"].as_array().expect("list");
    assert_eq!(by_day.len(), 2, "today and ten days ago: {by_day:?}");
    assert_eq!(sum(by_day.iter(), "charged"), 13);
    assert_eq!(sum(by_day.iter(), "refunded"), 4);
    assert_eq!(sum(by_day.iter(), "received"), 10 + 100 + bought);

    // The last week leaves the old bonus out, and nothing else.
    let week = app.gql(Some(&token), SPENDING, json!({ "p": "WEEK" })).await;
    let w = &week.data("me")["spending"];
    assert!(w["since"].is_string());
    assert_eq!(w["spent"], 9);
    assert_eq!(w["byKind"].as_array().expect("list").iter().find(|k| k["kind"] == "BONUS"), None);
    assert_eq!(sum(w["byDay"].as_array().expect("list").iter(), "received"), 100 + bought);
    app.leaves_jobs_running("the generations take 30 s; the test is about their charges");
});

db_test!(the_bot_shows_history_and_spending_under_balance, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let ivy = user(&app, 6500, "en");
    ivy.says("/start").await;
    screen(&fake, ivy.id, "Balance: 10").await;
    let user_id = app.scalar_i64("SELECT id FROM users WHERE telegram_id = 6500").await;
    let global = aisha_user_id(user_id);
    for n in 0..22 {
        let adjust = "mutation($u: ID!, $k: String!) { adjustBalance(userId: $u, amount: 1, reason: \"gift\", idempotencyKey: $k) { id } }";
        app.gql(Some(ADMIN_TOKEN), adjust, json!({ "u": global, "k": format!("g{n}") })).await.data("adjustBalance");
    }
    ivy.says("/balance").await;
    let balance = screen(&fake, ivy.id, "Latest transactions").await;
    ivy.press(&fake, id_of(&balance), "History").await;
    let history = screen(&fake, ivy.id, "Transactions (23 in all)").await;
    let text = history["text"].as_str().expect("text");
    assert_eq!(text.matches("ADJUSTMENT").count(), 20, "{text}");
    ivy.press(&fake, id_of(&history), "Back").await;
    let balance = screen(&fake, ivy.id, "Latest transactions").await;
    ivy.press(&fake, id_of(&balance), "Spending").await;
    let spending = screen(&fake, ivy.id, "Spending — Month").await;
    assert!(spending["text"].as_str().expect("text").contains("Spent: 0 credits"), "{spending}");
    ivy.press(&fake, id_of(&spending), "All time").await;
    screen(&fake, ivy.id, "Spending — All time").await;
});

/// The global ID of a user, as the API spells it.
fn aisha_user_id(id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("User:{id}"))
}
