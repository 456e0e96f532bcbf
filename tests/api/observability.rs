//! What an operator sees of an instance: the metrics a dashboard needs (jobs, provider calls,
//! sockets and subscriptions, webhooks), the `graphql` and `job_step` spans in the log, and a
//! Grafana dashboard that asks only for names the server exposes.

use std::collections::BTreeSet;

use serde_json::json;

use crate::support::{
    Db, eventually,
    process::{Server, Site, cli_token},
    spawn_app,
};
use crate::websocket::subscribe_at;

async fn metrics_of(url: &str) -> String {
    reqwest::get(format!("{url}/metrics")).await.expect("metrics").text().await.expect("text")
}

/// The value of the series `series` (name and labels, exactly as rendered), if it is there.
fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// `aisha_websocket_connections` and `aisha_subscriptions` of the server at `url`.
async fn sockets_and_subscriptions(url: &str) -> (Option<f64>, Option<f64>) {
    let metrics = metrics_of(url).await;
    (value(&metrics, "aisha_websocket_connections"), value(&metrics, "aisha_subscriptions"))
}

#[tokio::test]
async fn the_dashboard_asks_only_for_metrics_the_server_exposes() {
    let app = spawn_app(Db::Sqlite).await;
    let metrics = metrics_of(&app.url).await;
    let exposed: BTreeSet<&str> = metrics
        .lines()
        .filter_map(|line| match line.strip_prefix("# TYPE ") {
            Some(declared) => declared.split(' ').next(),
            None if !line.starts_with('#') => line.split(['{', ' ']).next(),
            None => None,
        })
        .collect();
    let dashboard = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docker/grafana/aisha.json"))
        .expect("docker/grafana/aisha.json");
    let panels: serde_json::Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    let mut asked = BTreeSet::new();
    for panel in panels["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("an expression");
            for (at, _) in expr.match_indices("aisha_") {
                let name: String = expr[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                asked.insert(name);
            }
        }
    }
    assert!(asked.len() >= 15, "the dashboard asks for few metrics: {asked:?}");
    for name in &asked {
        let base = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name);
        assert!(
            exposed.contains(name.as_str()) || exposed.contains(base),
            "the dashboard asks for {name}, which /metrics does not expose:\n{metrics}"
        );
    }
}

#[tokio::test]
async fn an_instance_shows_its_jobs_provider_calls_sockets_and_spans() {
    let site = Site::new(Db::Sqlite).await;
    let mut env = site.env("a", None);
    env.retain(|(k, _)| k != "RUST_LOG");
    env.push(("RUST_LOG".into(), "info,aisha=debug".into()));
    env.push(("AISHA_LOCAL_LATENCY_MS".into(), "400".into()));
    let token = cli_token(&env, 7001).await;
    let server = Server::start(&env, &site.dir.path().join("a.log")).await;

    let me = server.gql(Some(&token), "query Me { me { id } }", json!({})).await;
    assert!(me["data"]["me"]["id"].is_string(), "{me}");
    let ws = format!("{}/graphql", server.url.replacen("http", "ws", 1));
    let socket = subscribe_at(&ws, &token, "subscription { myGenerationUpdates { id status } }", json!({})).await;
    // The subscription starts once the server has read the `subscribe` message.
    let opened = eventually(|| async { sockets_and_subscriptions(&server.url).await == (Some(1.0), Some(1.0)) }).await;
    assert!(opened, "the socket or its subscription is not counted:\n{}", metrics_of(&server.url).await);

    let create = "mutation Create { createGeneration(input: { model: \"local/sketch\", prompt: \"seen\" }) { id } }";
    let created = server.gql(Some(&token), create, json!({})).await;
    let id = created["data"]["createGeneration"]["id"].as_str().expect("created").to_owned();
    // While it runs, the fleet's count and this instance's holding show it.
    let running = eventually(|| async {
        let metrics = metrics_of(&server.url).await;
        metrics.lines().any(|l| l.starts_with("aisha_jobs{kind=\"IMAGE\"") && !l.ends_with(" 0"))
    })
    .await;
    assert!(running, "the running job never showed in aisha_jobs");
    let status = "query($id: ID!) { generation(id: $id) { status } }";
    let done = eventually(|| async {
        server.gql(Some(&token), status, json!({ "id": id })).await["data"]["generation"]["status"] == "COMPLETED"
    })
    .await;
    assert!(done, "the generation did not complete:\n{}", server.log_text());

    let metrics = metrics_of(&server.url).await;
    for series in [
        "aisha_job_steps_total{kind=\"IMAGE\",step=\"submit\",outcome=\"ok\"}",
        "aisha_provider_calls_total{provider=\"local\",call=\"submit\",outcome=\"ok\"}",
        "aisha_provider_call_duration_seconds_count{provider=\"local\",call=\"result\"}",
        "aisha_job_step_duration_seconds_count{kind=\"IMAGE\",step=\"submit\"}",
    ] {
        assert_eq!(value(&metrics, series), Some(1.0), "{series}:\n{metrics}");
    }
    let polls = value(&metrics, "aisha_job_steps_total{kind=\"IMAGE\",step=\"poll\",outcome=\"ok\"}");
    assert!(polls.is_some_and(|n| n >= 1.0), "{metrics}");
    assert!(!metrics.lines().any(|l| l.starts_with("aisha_jobs_held{") && !l.ends_with(" 0")), "{metrics}");

    drop(socket);
    let closed = eventually(|| async { sockets_and_subscriptions(&server.url).await == (Some(0.0), Some(0.0)) }).await;
    assert!(closed, "a closed socket is still counted:\n{}", metrics_of(&server.url).await);

    // One span per operation, with its name, user and duration; one per job step.
    let log = server.log_text();
    let operation = log.lines().find(|l| l.contains("graphql{") && l.contains("operation=\"Me\""));
    let operation = operation.unwrap_or_else(|| panic!("no span for the Me query:\n{log}"));
    for field in ["kind=\"query\"", "user=\"user:", "errors=0", "duration_ms="] {
        assert!(operation.contains(field), "{field} missing: {operation}");
    }
    let created_line = log.lines().find(|l| l.contains("operation=\"Create\"")).unwrap_or_else(|| panic!("{log}"));
    assert!(created_line.contains("kind=\"mutation\"") && created_line.contains("user=\"user:"), "{created_line}");
    let step = log.lines().find(|l| l.contains("job_step{") && l.contains("step=\"submit\""));
    assert!(step.is_some_and(|l| l.contains("outcome=\"ok\"")), "no span for the submit step:\n{log}");
}
