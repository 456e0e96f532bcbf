//! What one request may cost: a connection costs its page size times what each item asks for,
//! fields that reach the database cost their statements, aliases repeat the cost, and a request
//! over the budget is refused before it runs with its cost and the limit in the message.
//! Everything our own clients send, and GraphiQL's introspection, stays well inside.

use std::time::Duration;

use async_graphql::parser::{parse_query, types::DocumentOperations};
use serde_json::json;

use crate::db_test;
use crate::support::seed::seed_images;
use crate::support::{Db, mini_app_init_data, now_secs, spawn_app, spawn_app_with};

db_test!(a_gallery_query_that_would_run_thousands_of_statements_is_refused_before_it_runs, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(9200, "greedy").await;
    let user = app.scalar_i64("SELECT id FROM users WHERE telegram_id = 9200").await;
    seed_images(&app, user, 120).await;

    // 100 images, each asking for its place and both neighbours six times over.
    let asks: String =
        (0..6).map(|i| format!("p{i}: position {{ index }} n{i}: next {{ id }} b{i}: previous {{ id }} ")).collect();
    let greedy = format!("{{ gallery(first: 100) {{ edges {{ node {{ id {asks} }} }} }} }}");
    let before = app.app.metrics.sql_statements();
    let refused = app.gql(Some(&token), &greedy, json!({})).await;
    assert_eq!(refused.error_code(), "GRAPHQL_VALIDATION_FAILED", "{:?}", refused.body);
    let error = &refused.body["errors"][0];
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("costs") && message.contains("2000"), "{message}");
    assert!(error["extensions"]["cost"].as_u64().is_some_and(|cost| cost > 2000), "{error}");
    // Run, it would have taken some 3,000 statements; the engine's own polling takes a few.
    let ran = app.app.metrics.sql_statements() - before;
    assert!(ran < 50, "the refused query ran {ran} statements");

    // The page size is the multiplier: the same fields on 5 images are fine.
    let modest = greedy.replace("first: 100", "first: 5");
    let page = app.gql(Some(&token), &modest, json!({})).await;
    assert_eq!(page.data("gallery")["edges"].as_array().map(Vec::len), Some(5));
    // A page size given in a variable counts the same.
    let query = format!("query($n: Int) {{ gallery(first: $n) {{ edges {{ node {{ id {asks} }} }} }} }}");
    assert_eq!(app.gql(Some(&token), &query, json!({ "n": 100 })).await.error_code(), "GRAPHQL_VALIDATION_FAILED");
    assert!(app.gql(Some(&token), &query, json!({ "n": 5 })).await.body["errors"].is_null());
});

db_test!(every_operation_of_our_clients_and_graphiqls_introspection_stay_well_inside_the_budget, |db: Db| async move {
    let app = spawn_app(db).await;
    let budget = app.app.config.limits.max_query_complexity;
    let mut documents: Vec<(String, String, Option<String>)> = Vec::new();
    for (file, text) in aisha::telegram::client::OPERATION_FILES {
        let parsed = parse_query(text).expect("the bot's operations parse");
        match parsed.operations {
            DocumentOperations::Single(_) => documents.push((file.to_owned(), text.to_owned(), None)),
            DocumentOperations::Multiple(operations) => {
                documents.extend(
                    operations.keys().map(|name| (format!("{file}#{name}"), text.to_owned(), Some(name.to_string()))),
                );
            }
        }
    }
    let web_client = include_str!("../../web-client/src/api/operations.ts");
    let found = web_client_operations(web_client);
    assert!(found.len() >= 8, "the web client's operations were not found: {found:?}");
    documents.extend(found.into_iter().enumerate().map(|(n, text)| (format!("web client #{n}"), text, None)));
    let introspection = include_str!("../fixtures/graphiql-introspection.graphql");
    documents.push(("GraphiQL's introspection".into(), introspection.into(), None));
    assert!(documents.len() > 20, "the bot's operations were not found: {}", documents.len());
    let mut costs = Vec::new();
    for (name, text, operation) in documents {
        let mut request = async_graphql::Request::new(text);
        if let Some(operation) = operation {
            request = request.operation_name(operation);
        }
        let cost =
            app.app.schema.cost(request).await.unwrap_or_else(|errors| panic!("{name} does not validate: {errors:?}"));
        assert!(cost * 4 <= budget, "{name} costs {cost}, more than a quarter of the budget ({budget})");
        costs.push((cost, name));
    }
    costs.sort();
    eprintln!("the costliest operations: {:?}", &costs[costs.len() - 3..]);
});

/// The web client's operations (`graphql(`…`)` in `src/api/operations.ts`), each with the
/// fragments it spreads, transitively, as gql.tada composes them.
fn web_client_operations(source: &str) -> Vec<String> {
    let documents: Vec<&str> = source.split('`').skip(1).step_by(2).map(str::trim).collect();
    let fragments: Vec<(&str, &str)> = documents
        .iter()
        .filter_map(|d| {
            d.strip_prefix("fragment ").and_then(|rest| rest.split_whitespace().next()).map(|name| (name, *d))
        })
        .collect();
    let mut found = Vec::new();
    for operation in documents.iter().filter(|d| !d.starts_with("fragment ")) {
        let mut text = operation.to_string();
        let mut included: Vec<&str> = Vec::new();
        loop {
            let needed =
                fragments.iter().find(|(name, _)| !included.contains(name) && text.contains(&format!("...{name}")));
            let Some((name, fragment)) = needed else { break };
            included.push(name);
            text = format!("{text}\n{fragment}");
        }
        found.push(text);
    }
    found
}

db_test!(a_request_is_stopped_past_its_statement_budget_or_its_time, |db: Db| async move {
    let app = spawn_app_with(db, |c| c.limits.max_request_statements = 15).await;
    let (token, _) = app.sign_in(9210, "curious").await;
    let user = app.scalar_i64("SELECT id FROM users WHERE telegram_id = 9210").await;
    seed_images(&app, user, 30).await;
    // Inside the cost budget, but each image's place is statements of its own.
    let places = "{ gallery(first: 20) { edges { node { id position { index } } } } }";
    let stopped = app.gql(Some(&token), places, json!({})).await;
    assert_eq!(stopped.error_code(), "STATEMENT_BUDGET_EXCEEDED", "{:?}", stopped.body);
    assert!(stopped.body["data"].is_null(), "{:?}", stopped.body);
    let plain = app.gql(Some(&token), "{ gallery(first: 20) { edges { node { id } } } }", json!({})).await;
    assert_eq!(plain.data("gallery")["edges"].as_array().map(Vec::len), Some(20));

    // A millisecond: a page of a hundred places (some 300 statements) is stopped, what needs
    // no database is answered.
    let hurried = spawn_app_with(Db::Sqlite, |c| c.limits.request_timeout = Duration::from_millis(1)).await;
    let init_data = mini_app_init_data(9211, "hurried", now_secs());
    let (token, _) =
        hurried.app.services.auth.sign_in_with_telegram(&init_data, None).await.expect("signed in past HTTP");
    let user = hurried.scalar_i64("SELECT id FROM users WHERE telegram_id = 9211").await;
    seed_images(&hurried, user, 100).await;
    let hundred = "{ gallery(first: 100) { edges { node { id position { index } } } } }";
    assert_eq!(hurried.gql(Some(&token), hundred, json!({})).await.error_code(), "REQUEST_TIMEOUT");
    assert_eq!(hurried.gql(None, "{ __typename }", json!({})).await.data("__typename"), "Query");
});
