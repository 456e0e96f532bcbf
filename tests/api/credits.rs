use futures_util::future::join_all;
use serde_json::json;

use aisha::domain::{Error, credits::IdempotencyKey};

use crate::db_test;
use crate::support::{ADMIN_TOKEN, Db, Walk, spawn_app};

const ADJUST: &str = "mutation($u: ID!, $a: Int!, $k: String!) { adjustBalance(userId: $u, amount: $a, reason: \"test\", idempotencyKey: $k) { id amount balanceAfter } }";

db_test!(fifty_concurrent_debits_against_ten_credits_let_exactly_ten_through, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, user_id) = app.sign_in(10, "racer").await;

    let debits = (0..50)
        .map(|i| app.gql(Some(ADMIN_TOKEN), ADJUST, json!({ "u": user_id, "a": -1, "k": format!("debit-{i}") })));
    let responses = join_all(debits).await;

    let succeeded = responses.iter().filter(|r| r.body.get("errors").is_none()).count();
    let refused: Vec<_> = responses.iter().filter(|r| r.body.get("errors").is_some()).collect();
    assert_eq!(succeeded, 10);
    assert!(refused.iter().all(|r| r.error_code() == "INSUFFICIENT_CREDITS"), "{:?}", refused.first());
    let me = app.gql(Some(&token), "{ me { balance } }", json!({})).await;
    assert_eq!(me.data("me")["balance"], 0);
    assert_eq!(app.scalar_i64("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries").await, 0);
    assert_eq!(app.scalar_i64("SELECT MIN(balance_after) FROM ledger_entries").await, 0);
});

db_test!(a_repeated_idempotency_key_returns_the_first_transaction_and_changes_nothing, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, user_id) = app.sign_in(11, "twice").await;
    let vars = json!({ "u": user_id, "a": 7, "k": "gift-1" });

    let first = app.gql(Some(ADMIN_TOKEN), ADJUST, vars.clone()).await;
    let replays = join_all((0..5).map(|_| app.gql(Some(ADMIN_TOKEN), ADJUST, vars.clone()))).await;

    for replay in &replays {
        assert_eq!(replay.data("adjustBalance"), first.data("adjustBalance"));
    }
    assert_eq!(app.gql(Some(&token), "{ me { balance } }", json!({})).await.data("me")["balance"], 17);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_entries").await, 2);
});

db_test!(bad_adjustments_get_clear_errors_and_change_nothing, |db: Db| async move {
    let app = spawn_app(db).await;
    let (_, user_id) = app.sign_in(12, "careful").await;
    let cases = [
        (json!({ "u": user_id, "a": 0, "k": "z" }), "BAD_USER_INPUT"),
        (json!({ "u": user_id, "a": 1, "k": "" }), "BAD_USER_INPUT"),
        (json!({ "u": "bm90LWFuLWlk", "a": 1, "k": "x" }), "BAD_USER_INPUT"),
        (json!({ "u": "VXNlcjo5OTk5", "a": 1, "k": "x" }), "NOT_FOUND"),
        (json!({ "u": user_id, "a": -11, "k": "too-much" }), "INSUFFICIENT_CREDITS"),
    ];
    for (vars, code) in cases {
        let response = app.gql(Some(ADMIN_TOKEN), ADJUST, vars.clone()).await;
        assert_eq!(response.error_code(), code, "{vars}: {}", response.body);
    }
    assert_eq!(app.scalar_i64("SELECT balance FROM users").await, 10);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_entries").await, 1);
});

db_test!(a_reservation_is_captured_or_released_exactly_once, |db: Db| async move {
    let app = spawn_app(db).await;
    let (_, _) = app.sign_in(13, "payer").await;
    let user = app.scalar_i64("SELECT id FROM users").await;
    let credits = &app.app.services.credits;
    let key = |k: &str| IdempotencyKey::parse(k).expect("key");

    let held = credits.reserve(user, 4, "generation", key("gen-1")).await.expect("reserved");
    let same = credits.reserve(user, 4, "generation", key("gen-1")).await.expect("replayed");
    assert_eq!(held, same);
    assert_eq!(credits.balance(user).await.expect("balance"), 6);

    let releases = join_all((0..10).map(|_| credits.release(held.id, "generation failed"))).await;
    let refunds: Vec<_> = releases.into_iter().filter_map(|r| r.expect("release runs")).collect();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].amount, 4);
    assert_eq!(credits.balance(user).await.expect("balance"), 10);
    assert!(!credits.capture(held.id).await.expect("capture runs"));

    let second = credits.reserve(user, 3, "generation", key("gen-2")).await.expect("reserved");
    assert!(credits.capture(second.id).await.expect("captured"));
    assert!(credits.release(second.id, "late").await.expect("release runs").is_none());
    assert_eq!(credits.balance(user).await.expect("balance"), 7);

    let too_much = credits.reserve(user, 8, "generation", key("gen-3")).await;
    assert!(matches!(too_much, Err(Error::InsufficientCredits { needed: 8, available: 7 })), "{too_much:?}");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await, 1);
    assert_eq!(app.scalar_i64("SELECT CAST(SUM(amount) AS BIGINT) FROM ledger_entries").await, 7);
});

const PAGE_FIELDS: &str = "fragment Page on TransactionConnection { pageInfo { hasNextPage hasPreviousPage } edges { cursor node { balanceAfter } } }";

db_test!(the_ledger_pages_newest_first_without_gaps, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, user_id) = app.sign_in(14, "pager").await;
    for i in 0..24 {
        app.gql(Some(ADMIN_TOKEN), ADJUST, json!({ "u": user_id, "a": 1, "k": format!("p{i}") }))
            .await
            .data("adjustBalance");
    }
    let page_query = "query($after: String) { me { transactions(first: 10, after: $after) { totalCount pageInfo { hasNextPage } edges { cursor node { balanceAfter } } } } }";

    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let response = app.gql(Some(&token), page_query, json!({ "after": after })).await;
        let connection = &response.data("me")["transactions"];
        assert_eq!(connection["totalCount"], 25);
        let edges = connection["edges"].as_array().expect("edges");
        seen.extend(edges.iter().map(|e| e["node"]["balanceAfter"].as_i64().expect("int")));
        if !connection["pageInfo"]["hasNextPage"].as_bool().expect("bool") {
            break;
        }
        after = edges.last().expect("an edge")["cursor"].clone();
    }
    assert_eq!(seen, (10..=34).rev().collect::<Vec<_>>());

    // Read both ways in pages of 3, the ledger is the same.
    let both =
        "query($n: Int, $cursor: String) { me { forwards: transactions(first: $n, after: $cursor) { ...Page } } }";
    let forwards = format!("{both} {PAGE_FIELDS}");
    let backwards = forwards.replace("first: $n, after: $cursor", "last: $n, before: $cursor");
    let forwards = app.walk_connection(&token, &forwards, &["me", "forwards"], Walk::Forwards).await;
    let backwards = app.walk_connection(&token, &backwards, &["me", "forwards"], Walk::Backwards).await;
    assert_eq!(forwards.len(), 25);
    assert_eq!(forwards, backwards);
    let mixed = app.gql(Some(&token), "{ me { transactions(first: 2, last: 2) { totalCount } } }", json!({})).await;
    assert_eq!(mixed.error_code(), "BAD_USER_INPUT");

    let too_big = app.gql(Some(&token), "{ me { transactions(first: 101) { totalCount } } }", json!({})).await;
    assert_eq!(too_big.error_code(), "BAD_USER_INPUT");
    let bad_cursor = app.gql(Some(&token), page_query, json!({ "after": "%%%" })).await;
    assert_eq!(bad_cursor.error_code(), "BAD_USER_INPUT");
});
