use serde_json::json;

use crate::db_test;
use crate::support::{Db, spawn_app, spawn_app_with};

db_test!(a_mutation_over_get_is_405_with_allow_post, |db: Db| async move {
    let app = spawn_app(db).await;
    let response = app
        .http
        .get(format!("{}/graphql", app.url))
        .query(&[("query", "mutation { signOut }")])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");

    let query =
        app.http.get(format!("{}/graphql", app.url)).query(&[("query", "{ __typename }")]).send().await.expect("sent");
    assert_eq!(query.status(), 200);
    assert_eq!(query.json::<serde_json::Value>().await.expect("json"), json!({ "data": { "__typename": "Query" } }));
});

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = spawn_app_with(Db::Sqlite, |c| c.limits.max_body_bytes = 16 * 1024).await;
    let padding = "x".repeat(20 * 1024);
    let body = json!({ "query": format!("{{ __typename }} # {padding}") });
    let response = app.http.post(format!("{}/graphql", app.url)).json(&body).send().await.expect("sent");
    assert_eq!(response.status(), 413);
    let small = app.http.post(format!("{}/graphql", app.url)).json(&json!({ "query": "{ __typename }" })).send().await;
    assert_eq!(small.expect("sent").status(), 200);
}

#[tokio::test]
async fn content_negotiation_follows_graphql_over_http() {
    let app = spawn_app(Db::Sqlite).await;
    let post = |accept: &'static str, content_type: &'static str, body: &'static str| {
        app.http
            .post(format!("{}/graphql", app.url))
            .header("accept", accept)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let legacy = post("application/json", "application/json", r#"{"query":"{ nope }"}"#).await.expect("sent");
    assert_eq!(legacy.status(), 200);
    assert!(legacy.headers()["content-type"].to_str().expect("ascii").starts_with("application/json"));
    let modern =
        post("application/graphql-response+json", "application/json", r#"{"query":"{ nope }"}"#).await.expect("sent");
    assert_eq!(modern.status(), 400);
    let body: serde_json::Value = modern.json().await.expect("json");
    assert!(body.get("data").is_none());
    assert_eq!(body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(
        post("application/json", "text/plain", r#"{"query":"{ me { id } }"}"#).await.expect("sent").status(),
        415
    );
    assert_eq!(
        post("text/html", "application/json", r#"{"query":"{ __typename }"}"#).await.expect("sent").status(),
        406
    );
    assert_eq!(post("application/json", "application/json", "{not json").await.expect("sent").status(), 400);
}

#[tokio::test]
async fn query_depth_and_complexity_are_limited_but_graphiql_introspection_works() {
    let app = spawn_app(Db::Sqlite).await;
    let introspection = include_str!("../fixtures/graphiql-introspection.graphql");
    let schema = app.gql(None, introspection, json!({})).await;
    assert_eq!(schema.data("__schema")["queryType"]["name"], "Query");

    let deep =
        format!("{{ __schema {{ types {{ fields {{ type {}name{} }} }} }} }}", "{ ofType ".repeat(15), " }".repeat(15));
    let response = app.gql(None, &deep, json!({})).await;
    assert_eq!(response.status, 400);
    assert_eq!(response.error_code(), "GRAPHQL_VALIDATION_FAILED");

    let wide = format!("{{ {} }}", (0..1100).map(|i| format!("a{i}: me {{ id }}")).collect::<Vec<_>>().join(" "));
    assert_eq!(app.gql(None, &wide, json!({})).await.error_code(), "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn graphiql_is_served_with_local_assets_only() {
    let app = spawn_app(Db::Sqlite).await;
    let page = app.http.get(format!("{}/graphiql", app.url)).send().await.expect("sent").text().await.expect("text");
    let sources: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.ends_with(".js") || s.ends_with(".css") || s.starts_with("http"))
        .collect();
    assert!(sources.len() >= 4, "{sources:?}");
    for source in sources {
        assert!(source.starts_with("/graphiql/assets/"), "{source} is not served by us");
        let asset = app.http.get(format!("{}{source}", app.url)).send().await.expect("sent");
        assert_eq!(asset.status(), 200, "{source}");
        assert!(asset.bytes().await.expect("bytes").len() > 1000, "{source} is empty");
    }
}

#[tokio::test]
async fn production_hides_graphiql_and_introspection() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.env = aisha::config::Environment::Prod;
        c.graphiql = false;
    })
    .await;
    assert_eq!(app.http.get(format!("{}/graphiql", app.url)).send().await.expect("sent").status(), 404);
    let introspection = app.gql(None, "{ __schema { queryType { name } } }", json!({})).await;
    assert!(introspection.body["data"]["__schema"].is_null(), "{}", introspection.body);
}

#[tokio::test]
async fn health_readiness_metrics_and_request_ids() {
    let app = spawn_app(Db::Sqlite).await;
    let live = app.http.get(format!("{}/healthz", app.url)).send().await.expect("sent");
    assert_eq!(live.status(), 200);
    assert!(!live.headers()["x-request-id"].is_empty());
    let traced =
        app.http.get(format!("{}/healthz", app.url)).header("x-request-id", "abc-123").send().await.expect("sent");
    assert_eq!(traced.headers()["x-request-id"], "abc-123");
    let ready: serde_json::Value =
        app.http.get(format!("{}/readyz", app.url)).send().await.expect("sent").json().await.expect("json");
    assert_eq!(ready, json!({ "database": "ok", "cache": "ok", "storage": "ok" }));

    app.gql(None, "{ me { id } }", json!({})).await;
    app.gql(None, "mutation { signOut }", json!({})).await;
    let metrics = app.http.get(format!("{}/metrics", app.url)).send().await.expect("sent").text().await.expect("text");
    assert!(metrics.contains("aisha_http_requests_total{route=\"graphql\",status=\"2xx\"} 2"), "{metrics}");
    assert!(metrics.contains("aisha_graphql_operations_total{type=\"query\"} 1"), "{metrics}");
    assert!(metrics.contains("aisha_graphql_operations_total{type=\"mutation\"} 1"), "{metrics}");
    assert!(metrics.contains("aisha_graphql_errors_total{code=\"UNAUTHENTICATED\"} 1"), "{metrics}");
}

#[tokio::test]
async fn readiness_fails_when_redis_is_configured_but_down() {
    // Port 9 (discard) has nothing listening on 127.0.0.1.
    let app = spawn_app_with(Db::Sqlite, |c| c.redis_url = Some("redis://127.0.0.1:9".into())).await;
    let response = app.http.get(format!("{}/readyz", app.url)).send().await.expect("sent");
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["database"], "ok");
    // Only ok or failing: the reason (the address, the driver's words) is for the log.
    assert_eq!(body, serde_json::json!({ "database": "ok", "cache": "failing", "storage": "ok" }));
}

#[tokio::test]
async fn readiness_checks_a_real_redis() {
    let Some(redis_url) = crate::support::redis_url() else {
        eprintln!("AISHA_TEST_REDIS_URL is not set: not run");
        return;
    };
    let app = spawn_app_with(Db::Sqlite, |c| c.redis_url = Some(redis_url)).await;
    let response = app.http.get(format!("{}/readyz", app.url)).send().await.expect("sent");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_web_client_is_served_at_the_root() {
    let app = spawn_app(Db::Sqlite).await;
    let page = app.http.get(format!("{}/", app.url)).send().await.expect("sent");
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().expect("type").starts_with("text/html"));
    let html = page.text().await.expect("text");
    for asset in ["/app/main.js", "/app/style.css"] {
        assert!(html.contains(asset), "{asset} is not linked");
        let response = app.http.get(format!("{}{asset}", app.url)).send().await.expect("sent");
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.text().await.expect("text").len() > 500, "{asset} is empty");
    }
    let missing = app.http.get(format!("{}/app/nope.js", app.url)).send().await.expect("sent");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_document_validated_once_is_answered_alike_and_a_bad_one_is_refused_every_time() {
    let app = spawn_app(Db::Sqlite).await;
    let (token, _) = app.sign_in(61, "repeat").await;
    // The second request of a valid document skips the validation rules: same answer.
    for _ in 0..3 {
        let me = app.gql(Some(&token), "{ me { balance username } }", json!({})).await;
        assert_eq!(me.data("me")["balance"], 10);
        assert_eq!(me.data("me")["username"], "repeat");
    }
    // An invalid document is never remembered as valid.
    for _ in 0..3 {
        let bad = app.gql(Some(&token), "{ me { balance nosuchfield } }", json!({})).await;
        assert_eq!(bad.error_code(), "GRAPHQL_VALIDATION_FAILED");
    }
    // The same document with variables is validated with them, every time.
    let query = "query($first: Int) { gallery(first: $first) { totalCount } }";
    assert_eq!(app.gql(Some(&token), query, json!({})).await.data("gallery")["totalCount"], 0);
    let wrong = app.gql(Some(&token), query, json!({ "first": "many" })).await;
    assert_eq!(wrong.error_code(), "GRAPHQL_VALIDATION_FAILED", "{:?}", wrong.body);
}
