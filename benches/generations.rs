//! Generation benchmarks against a running release server (started by `bench/generations.sh`):
//!
//! 1. `jobs`: 1,000 generations through the local provider (zero latency, 64×64) from create to
//!    `COMPLETED` — stored and published — counted by a `myGenerationUpdates` subscriber.
//! 2. `fanout`: 1,000 WebSocket subscribers of one generation's `generationUpdated`; the delay
//!    from each update's `updatedAt` to its arrival at every subscriber.
//!
//! Usage: `generations jobs|fanout <base url> <token> <server pid>`. Prints the figures.

#[path = "support/proc.rs"]
mod proc;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt, future::join_all};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, base, token, pid) = match args.as_slice() {
        [_, mode, base, token, pid, ..] => (mode.as_str(), base.clone(), token.clone(), pid.clone()),
        _ => {
            eprintln!("usage: generations jobs|fanout <base url> <token> <server pid>");
            std::process::exit(2);
        }
    };
    match mode {
        "jobs" => jobs(&base, &token).await,
        "fanout" => fanout(&base, &token).await,
        other => panic!("unknown mode {other}"),
    }
    println!("server RSS: {:.1} MB", proc::rss_mb(pid.parse().unwrap_or_default()));
}

async fn gql(http: &reqwest::Client, base: &str, token: &str, query: &str, variables: Value) -> Value {
    let response = http
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request");
    let body: Value = response.json().await.expect("json");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

async fn subscribe(base: &str, token: &str, query: &str, variables: Value) -> Socket {
    let mut request = format!("{}/graphql", base.replace("http", "ws")).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("graphql-transport-ws"));
    // A small read buffer: tungstenite zeroes it on every read, which would load the client.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await.expect("connect");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await.expect("init");
    loop {
        if let Some(Ok(Message::Text(text))) = socket.next().await
            && text.contains("connection_ack")
        {
            break;
        }
    }
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } });
    socket.send(Message::text(subscribe.to_string())).await.expect("subscribe");
    socket
}

async fn jobs(base: &str, token: &str) {
    const JOBS: usize = 1000;
    let http = reqwest::Client::new();
    let mut updates = subscribe(base, token, "subscription { myGenerationUpdates { id status } }", json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let create = "mutation($p: String!) { createGeneration(input: { model: \"local/sketch\", prompt: $p }) { id } }";
    let creating = tokio::spawn({
        let (http, base, token) = (http.clone(), base.to_owned(), token.to_owned());
        async move {
            // 32 requests in flight at a time.
            futures_util::stream::iter(0..JOBS)
                .for_each_concurrent(32, |i| {
                    let (http, base, token) = (http.clone(), base.clone(), token.clone());
                    async move {
                        gql(&http, &base, &token, create, json!({ "p": format!("bench {i}") })).await;
                    }
                })
                .await;
            started.elapsed()
        }
    });
    let mut completed = std::collections::HashSet::new();
    while completed.len() < JOBS {
        let message =
            tokio::time::timeout(Duration::from_secs(120), updates.next()).await.expect("updates keep coming");
        if let Some(Ok(Message::Text(text))) = message {
            let value: Value = serde_json::from_str(&text).expect("json");
            let update = &value["payload"]["data"]["myGenerationUpdates"];
            if update["status"] == "COMPLETED" {
                completed.insert(update["id"].as_str().unwrap_or_default().to_owned());
            } else if update["status"] == "FAILED" {
                panic!("a generation failed: {update}");
            }
        }
    }
    let created_in = creating.await.expect("creates");
    let elapsed = started.elapsed();
    println!(
        "jobs: {JOBS} generations created in {:.2} s, all COMPLETED (stored, published) in {:.2} s: {:.0} jobs/s end to end",
        created_in.as_secs_f64(),
        elapsed.as_secs_f64(),
        JOBS as f64 / elapsed.as_secs_f64()
    );
}

async fn fanout(base: &str, token: &str) {
    const SUBSCRIBERS: usize = 1000;
    let http = reqwest::Client::new();
    let create = "mutation { createGeneration(input: { model: \"local/sketch\", prompt: \"fan-out\" }) { id } }";
    let id =
        gql(&http, base, token, create, json!({})).await["createGeneration"]["id"].as_str().expect("id").to_owned();
    let query = "subscription($id: ID!) { generationUpdated(id: $id) { status progress updatedAt } }";
    let connecting = Instant::now();
    let sockets = join_all((0..SUBSCRIBERS).map(|_| subscribe(base, token, query, json!({ "id": id })))).await;
    println!("fanout: {SUBSCRIBERS} subscribers connected in {:.2} s", connecting.elapsed().as_secs_f64());
    // Updates made while the subscribers were still connecting wait behind the connection storm;
    // the figure of interest is the fan-out of an update once everybody listens.
    let connected_at = chrono::Utc::now();
    let delays = join_all(sockets.into_iter().map(|mut socket| async move {
        let mut delays = Vec::new();
        let mut first = true;
        while let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(60), socket.next()).await {
            let Message::Text(text) = message else { continue };
            let value: Value = serde_json::from_str(&text).expect("json");
            if value["type"] == "complete" {
                break;
            }
            let update = &value["payload"]["data"]["generationUpdated"];
            let at =
                chrono::DateTime::parse_from_rfc3339(update["updatedAt"].as_str().unwrap_or_default()).expect("time");
            let delay = (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0);
            // The first message is the snapshot (possibly old): only changes count.
            if !first && at >= connected_at {
                delays.push(delay);
            }
            first = false;
        }
        delays
    }))
    .await;
    let mut all: Vec<i64> = delays.iter().flatten().copied().collect();
    all.sort_unstable();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(0) as f64
            / 1000.0
    };
    let per_subscriber = delays.iter().map(Vec::len).min().unwrap_or(0);
    println!(
        "fanout: {} deliveries ({} per subscriber at least): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        all.len(),
        per_subscriber,
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
