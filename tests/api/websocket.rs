use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use crate::db_test;
use crate::support::{ADMIN_TOKEN, Db, TestApp, spawn_app, spawn_app_with, spawn_two_instances};

pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, protocol: &str) -> Socket {
    connect_to(&format!("ws://{}/graphql", app.addr), protocol).await
}

/// Opens a WebSocket to `url` (`ws://…/graphql`) speaking `protocol`.
async fn connect_to(url: &str, protocol: &str) -> Socket {
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_str(protocol).expect("header"));
    let (socket, response) = tokio_tungstenite::connect_async(request).await.expect("websocket connects");
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.expect("sent");
}

/// The next text message as JSON, or None when the server closed the connection.
pub(crate) async fn next_json(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("a message in time");
        match message {
            Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(&text).expect("JSON")),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(other)) => panic!("unexpected message {other:?}"),
        }
    }
}

db_test!(connection_init_without_a_valid_token_is_refused, |db: Db| async move {
    let app = spawn_app(db).await;
    for payload in [json!({}), json!({ "authorization": "Bearer aisha_forged" }), json!({ "authorization": 42 })] {
        let mut socket = connect(&app, "graphql-transport-ws").await;
        send(&mut socket, json!({ "type": "connection_init", "payload": payload })).await;
        assert_eq!(next_json(&mut socket).await, None, "{payload} must close the connection");

        let mut legacy = connect(&app, "graphql-ws").await;
        send(&mut legacy, json!({ "type": "connection_init", "payload": payload })).await;
        let reply = next_json(&mut legacy).await.expect("a reply");
        assert_eq!(reply["type"], "connection_error", "{reply}");
    }
});

db_test!(balance_changed_reaches_the_owner_over_both_protocols, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, user_id) = app.sign_in(21, "listener").await;
    let (_, other_id) = app.sign_in(22, "other").await;
    let query = "subscription { balanceChanged { balance transactionId } }";

    let mut modern = connect(&app, "graphql-transport-ws").await;
    send(&mut modern, json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(next_json(&mut modern).await.expect("ack")["type"], "connection_ack");
    send(&mut modern, json!({ "id": "1", "type": "subscribe", "payload": { "query": query } })).await;

    let mut legacy = connect(&app, "graphql-ws").await;
    send(&mut legacy, json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(next_json(&mut legacy).await.expect("ack")["type"], "connection_ack");
    send(&mut legacy, json!({ "id": "1", "type": "start", "payload": { "query": query } })).await;
    tokio::time::sleep(Duration::from_millis(200)).await; // let both subscriptions start

    let adjust = "mutation($u: ID!, $k: String!) { adjustBalance(userId: $u, amount: 3, reason: \"gift\", idempotencyKey: $k) { id } }";
    app.gql(Some(ADMIN_TOKEN), adjust, json!({ "u": other_id, "k": "other" })).await.data("adjustBalance");
    let mine = app.gql(Some(ADMIN_TOKEN), adjust, json!({ "u": user_id, "k": "mine" })).await;
    let transaction_id = mine.data("adjustBalance")["id"].clone();

    let event = next_json(&mut modern).await.expect("an event");
    assert_eq!(event["type"], "next");
    assert_eq!(event["payload"]["data"]["balanceChanged"], json!({ "balance": 13, "transactionId": transaction_id }));
    let event = next_json(&mut legacy).await.expect("an event");
    assert_eq!(event["type"], "data");
    assert_eq!(event["payload"]["data"]["balanceChanged"]["balance"], 13);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_an_event_published_on_one_instance_reaches_a_subscriber_on_another() {
    let Some((first, second)) = spawn_two_instances(|_| {}).await else { return };
    let (token, user_id) = first.sign_in(31, "everywhere").await;

    let mut socket = subscribe(&first, &token, "subscription { balanceChanged { balance } }", json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let adjust =
        "mutation($u: ID!) { adjustBalance(userId: $u, amount: 5, reason: \"x\", idempotencyKey: \"redis\") { id } }";
    second.gql(Some(ADMIN_TOKEN), adjust, json!({ "u": user_id })).await.data("adjustBalance");

    let event = next_json(&mut socket).await.expect("an event from the other instance");
    assert_eq!(event["payload"]["data"]["balanceChanged"]["balance"], 15);
}

/// Opens a `graphql-transport-ws` connection signed in with `token` and subscribes.
pub(crate) async fn subscribe(app: &TestApp, token: &str, query: &str, variables: Value) -> Socket {
    subscribe_at(&format!("ws://{}/graphql", app.addr), token, query, variables).await
}

/// `subscribe`, to the server at `url` (`ws://…/graphql`).
pub(crate) async fn subscribe_at(url: &str, token: &str, query: &str, variables: Value) -> Socket {
    let mut socket = connect_to(url, "graphql-transport-ws").await;
    send(&mut socket, json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(next_json(&mut socket).await.expect("ack")["type"], "connection_ack");
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } }))
        .await;
    socket
}

db_test!(generation_updated_sends_the_snapshot_progress_and_the_completed_images, |db: Db| async move {
    let app = spawn_app_with(db, |c| c.local.latency = Duration::from_millis(600)).await;
    let (token, _) = app.sign_in(41, "watcher").await;
    let (stranger, _) = app.sign_in(42, "stranger").await;
    let create =
        "mutation { createGeneration(input: { model: \"local/sketch\", prompt: \"watch me\", numImages: 2 }) { id } }";
    let id = app.gql(Some(&token), create, json!({})).await.data("createGeneration")["id"].clone();
    let query = "subscription($id: ID!) { generationUpdated(id: $id) { status progress images { url } } }";

    let mut socket = subscribe(&app, &token, query, json!({ "id": id })).await;
    let mut updates = Vec::new();
    loop {
        let message = next_json(&mut socket).await.expect("the stream ends with complete");
        match message["type"].as_str() {
            Some("next") => updates.push(message["payload"]["data"]["generationUpdated"].clone()),
            Some("complete") => break,
            other => panic!("unexpected {other:?}: {message}"),
        }
    }

    let statuses: Vec<&str> = updates.iter().map(|u| u["status"].as_str().expect("status")).collect();
    assert!(["PENDING", "QUEUED"].contains(&statuses[0]), "{statuses:?}");
    assert!(statuses.contains(&"RUNNING"), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&"COMPLETED"));
    let progress: Vec<i64> = updates.iter().map(|u| u["progress"].as_i64().expect("int")).collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress goes forward: {progress:?}");
    let last = updates.last().expect("an update");
    assert_eq!(last["progress"], 100);
    for image in last["images"].as_array().expect("images") {
        let bytes =
            app.http.get(image["url"].as_str().expect("url")).send().await.expect("sent").bytes().await.expect("bytes");
        assert_eq!(&bytes[..4], b"\x89PNG");
    }

    let mut intruder = subscribe(&app, &stranger, query, json!({ "id": id })).await;
    let refused = next_json(&mut intruder).await.expect("an answer");
    let errors =
        if refused["type"] == "error" { refused["payload"].clone() } else { refused["payload"]["errors"].clone() };
    assert_eq!(errors[0]["extensions"]["code"], "NOT_FOUND", "{refused}");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_generation_updates_cross_instances() {
    // Every job runs on the second instance.
    let Some((first, second)) = spawn_two_instances(|c| c.workers = 0).await else { return };
    let (token, _) = first.sign_in(51, "roaming").await;
    let mut socket =
        subscribe(&first, &token, "subscription { myGenerationUpdates { status images { width } } }", json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let create = "mutation { createGeneration(input: { model: \"local/sketch\", prompt: \"elsewhere\" }) { id } }";
    second.gql(Some(&token), create, json!({})).await.data("createGeneration");

    loop {
        let message = next_json(&mut socket).await.expect("updates from the other instance");
        let update = &message["payload"]["data"]["myGenerationUpdates"];
        if update["status"] == "COMPLETED" {
            assert_eq!(update["images"][0]["width"], 64);
            break;
        }
    }
}
