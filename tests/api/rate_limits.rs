//! Rate limits, black-box: paid actions, reads and sign-ins each have a budget per user (or
//! token) and per address; over it the answer is `RATE_LIMITED` with `retryAfter`, a 429 with
//! `Retry-After` when the whole request is refused, and nothing is charged or changed. With
//! Redis the budgets hold across instances. The bot tells the user how long to wait.

use serde_json::json;

use crate::db_test;
use crate::support::bot::{ask_for_pictures, bot_app_with, id_of, screen, user};
use crate::support::{Db, TestApp, redis_url, spawn_app_with};
use aisha::domain::rate_limits::RateLimitSettings;

const CREATE: &str =
    "mutation { createGeneration(input: { model: \"local/sketch\", prompt: \"again and again\" }) { id } }";

fn budgets(text: &str) -> RateLimitSettings {
    RateLimitSettings::parse(text).expect("budgets")
}

db_test!(eighty_paid_calls_in_a_row_are_charged_only_for_the_twenty_let_through, |db: Db| async move {
    let app = spawn_app_with(db, |c| {
        c.rate_limits = budgets("paid=20/60");
        c.welcome_bonus = 1000;
        c.workers = 0; // nothing runs: only what was accepted and charged is counted
    })
    .await;
    let (token, _) = app.sign_in(9300, "eager").await;
    let before = app.balance(&token).await;
    let mut accepted = 0;
    let mut refused = Vec::new();
    for _ in 0..80 {
        let response = app.gql(Some(&token), CREATE, json!({})).await;
        if response.body["errors"].is_null() {
            accepted += 1;
        } else {
            assert_eq!(response.error_code(), "RATE_LIMITED", "{:?}", response.body);
            refused.push(response.body["errors"][0]["extensions"]["retryAfter"].as_u64().expect("retryAfter"));
        }
    }
    assert_eq!((accepted, refused.len()), (20, 60));
    assert!(refused.iter().all(|&s| (1..=60).contains(&s)), "{refused:?}");
    let price = app.scalar_i64("SELECT COUNT(*) FROM generations").await;
    assert_eq!(price, 20, "a refused call left a generation");
    let spent = before - app.balance(&token).await;
    let charges = app.scalar_i64("SELECT COUNT(*) FROM ledger_entries WHERE amount < 0").await;
    assert_eq!(charges, 20, "a refused call was charged");
    assert!(spent > 0 && spent % 20 == 0, "spent {spent}");
    // Another user is not held up by this one.
    let (other, _) = app.sign_in(9301, "patient").await;
    assert!(app.gql(Some(&other), CREATE, json!({})).await.body["errors"].is_null());
    app.leaves_jobs_running("no worker runs in this test: only what was accepted is counted");
});

db_test!(reads_over_the_budget_get_429_with_retry_after_and_sign_ins_are_counted_per_address, |db: Db| async move {
    let app = spawn_app_with(db, |c| c.rate_limits = budgets("read=5/60,sign_in=2/60")).await;
    let (token, _) = app.sign_in(9310, "reader").await;
    for _ in 0..5 {
        assert!(app.gql(Some(&token), "{ me { balance } }", json!({})).await.body["errors"].is_null());
    }
    let response = app
        .http
        .post(format!("{}/graphql", app.url))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { balance } }" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=12).contains(&wait), "Retry-After {wait}");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], wait, "{body}");

    // The address's sign-in budget is five users' (2 × 5): the eleventh attempt is refused.
    let mut codes = Vec::new();
    for n in 0..10 {
        let init_data = crate::support::mini_app_init_data(9320 + n, "someone", crate::support::now_secs());
        let signed = app
            .gql(
                None,
                "mutation($d: String!) { signInWithTelegram(initData: $d) { token } }",
                json!({ "d": init_data }),
            )
            .await;
        codes.push(signed.body["errors"][0]["extensions"]["code"].as_str().unwrap_or("ok").to_owned());
    }
    // One sign-in (the reader's) was spent above.
    assert_eq!(codes.iter().filter(|c| *c == "ok").count(), 9, "{codes:?}");
    assert_eq!(codes.last().map(String::as_str), Some("RATE_LIMITED"), "{codes:?}");
});

/// Two instances on one Redis and one database, both with `budget`.
async fn two_on_one_redis(budget: &'static str) -> Option<(TestApp, TestApp)> {
    let redis = redis_url()?;
    let first_redis = redis.clone();
    let first = spawn_app_with(Db::Sqlite, move |c| {
        c.redis_url = Some(first_redis);
        c.rate_limits = budgets(budget);
        c.workers = 0;
    })
    .await;
    let (database_url, prefix) = (first.app.config.database_url.clone(), first.app.config.redis_prefix.clone());
    let second = spawn_app_with(Db::Sqlite, move |c| {
        c.redis_url = Some(redis);
        c.database_url = database_url;
        c.redis_prefix = prefix;
        c.rate_limits = budgets(budget);
        c.workers = 0;
    })
    .await;
    Some((first, second))
}

#[tokio::test]
async fn with_redis_a_budget_is_shared_by_every_instance() {
    let Some((first, second)) = two_on_one_redis("paid=3/60").await else { return };
    let (token, _) = first.sign_in(9330, "roaming").await;
    for app in [&first, &second, &first] {
        assert!(app.gql(Some(&token), CREATE, json!({})).await.body["errors"].is_null());
    }
    assert_eq!(second.gql(Some(&token), CREATE, json!({})).await.error_code(), "RATE_LIMITED");
    assert_eq!(first.gql(Some(&token), CREATE, json!({})).await.error_code(), "RATE_LIMITED");
    assert_eq!(first.scalar_i64("SELECT COUNT(*) FROM generations").await, 3);
}

db_test!(the_bot_tells_the_user_how_long_to_wait, |db: Db| async move {
    let (app, fake) = bot_app_with(db, |c| {
        c.rate_limits = budgets("paid=1/60");
        c.welcome_bonus = 100;
    })
    .await;
    let dana = user(&app, 9340, "en");
    dana.says("/start").await;
    let menu = screen(&fake, dana.id, "Balance: 100").await;
    // The same user spends the budget through the API first.
    let (token, _) = app.sign_in(dana.id, "user9340").await;
    assert!(app.gql(Some(&token), CREATE, json!({})).await.body["errors"].is_null());
    let confirm = ask_for_pictures(&fake, &dana, &menu, "a red fox in the snow", "16:9", "1").await;
    dana.press(&fake, id_of(&confirm), "Create for").await;
    let told = screen(&fake, dana.id, "Too many requests in a row").await;
    assert!(told["text"].as_str().is_some_and(|t| t.contains("Try again in") && t.contains(" s.")), "{told}");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM generations").await, 1, "the refused one was created");
});
