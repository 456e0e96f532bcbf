//! What must not leak or last: metrics behind a token, old sign-in data refused, tokens that
//! expire and are renewed by use, a quota of live tokens, and the operator's idempotency keys
//! kept apart from the server's.

use std::time::Duration;

use serde_json::json;

use crate::db_test;
use crate::support::{ADMIN_TOKEN, Db, mini_app_init_data, now_secs, spawn_app, spawn_app_with};

const SIGN_IN: &str = "mutation($d: String!) { signInWithTelegram(initData: $d) { token } }";

#[tokio::test]
async fn metrics_can_be_put_behind_a_token() {
    let app = spawn_app_with(Db::Sqlite, |c| c.metrics_token = Some("scrape-me-please".into())).await;
    let url = format!("{}/metrics", app.url);
    assert_eq!(app.http.get(&url).send().await.expect("sent").status(), 401);
    assert_eq!(app.http.get(&url).bearer_auth("wrong").send().await.expect("sent").status(), 401);
    let scraped = app.http.get(&url).bearer_auth("scrape-me-please").send().await.expect("sent");
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.expect("text").contains("aisha_http_requests_total"));
}

db_test!(sign_in_data_older_than_an_hour_is_refused, |db: Db| async move {
    let app = spawn_app(db).await;
    let old = mini_app_init_data(9600, "late", now_secs() - 3601);
    let refused = app.gql(None, SIGN_IN, json!({ "d": old })).await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT", "{:?}", refused.body);
    let recent = mini_app_init_data(9600, "late", now_secs() - 3500);
    assert!(app.gql(None, SIGN_IN, json!({ "d": recent })).await.body["errors"].is_null());
});

db_test!(tokens_expire_are_renewed_by_use_and_the_oldest_go_over_the_quota, |db: Db| async move {
    let app = spawn_app_with(db, |c| c.auth.token_ttl = Duration::from_secs(2)).await;
    let (token, _) = app.sign_in(9610, "brief").await;
    assert!(app.gql(Some(&token), "{ me { id } }", json!({})).await.body["errors"].is_null());
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(app.gql(Some(&token), "{ me { id } }", json!({})).await.error_code(), "UNAUTHENTICATED");

    // With the 90 days of the default, a token used with less than that left is renewed.
    let app = spawn_app(Db::Sqlite).await;
    let (token, _) = app.sign_in(9611, "regular").await;
    let hour = 3_600_000_000i64;
    let soon = aisha::domain::time::now_micros() + hour;
    app.scalar_i64(&format!("UPDATE auth_tokens SET expires_at = {soon} RETURNING id")).await;
    assert!(app.gql(Some(&token), "{ me { id } }", json!({})).await.body["errors"].is_null());
    let renewed = app.scalar_i64("SELECT expires_at FROM auth_tokens").await;
    assert!(renewed > soon + 80 * 24 * hour, "not renewed: {renewed} vs {soon}");

    // Twenty live tokens a user: the twenty-first sign-in revokes the first.
    let mut tokens = vec![token];
    for _ in 0..20 {
        tokens.push(app.sign_in(9611, "regular").await.0);
    }
    assert_eq!(app.gql(Some(&tokens[0]), "{ me { id } }", json!({})).await.error_code(), "UNAUTHENTICATED");
    for token in &tokens[1..] {
        assert!(app.gql(Some(token), "{ me { id } }", json!({})).await.body["errors"].is_null());
    }
});

db_test!(an_operators_idempotency_key_never_meets_the_servers_own, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, user) = app.sign_in(9620, "gifted").await;
    let adjust = "mutation($u: ID!, $k: String!) { adjustBalance(userId: $u, amount: 5, reason: \"gift\", idempotencyKey: $k) { amount kind } }";
    // The welcome bonus was written under `bonus:welcome`: the operator's key of that name is its own.
    let adjusted = app.gql(Some(ADMIN_TOKEN), adjust, json!({ "u": user, "k": "bonus:welcome" })).await;
    assert_eq!(adjusted.data("adjustBalance"), &json!({ "amount": 5, "kind": "ADJUSTMENT" }));
    assert_eq!(app.balance(&token).await, 15);
    // And it is idempotent within its own namespace.
    app.gql(Some(ADMIN_TOKEN), adjust, json!({ "u": user, "k": "bonus:welcome" })).await.data("adjustBalance");
    assert_eq!(app.balance(&token).await, 15);
});
