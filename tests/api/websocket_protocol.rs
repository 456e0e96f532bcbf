//! graphql-transport-ws to the letter: each close code of the spec, one by one, the server's
//! pings, the caps on subscriptions and sockets, and `signOut` closing the token's sockets on
//! every instance.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use crate::db_test;
use crate::support::{Db, TestApp, redis_url, spawn_app_with};
use crate::websocket::Socket;

const BALANCE: &str = "subscription { balanceChanged { balance } }";

async fn connect(app: &TestApp) -> Socket {
    let mut request = format!("ws://{}/graphql", app.addr).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("graphql-transport-ws"));
    tokio_tungstenite::connect_async(request).await.expect("websocket connects").0
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.expect("sent");
}

/// Reads until the server closes; its close code (None if it never sent one within 5 s).
async fn close_code(socket: &mut Socket) -> Option<u16> {
    let read = async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Close(Some(frame))) => return Some(u16::from(frame.code)),
                Ok(Message::Close(None)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
        None
    };
    tokio::time::timeout(Duration::from_secs(5), read).await.ok().flatten()
}

/// The next protocol message (pings included) as JSON.
async fn next(socket: &mut Socket) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("a message in time") {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).expect("JSON"),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

async fn acked(app: &TestApp, token: &str) -> Socket {
    let mut socket = connect(app).await;
    send(&mut socket, json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    socket
}

db_test!(each_protocol_violation_gets_the_specs_close_code, |db: Db| async move {
    let app = spawn_app_with(db, |c| c.websocket.init_timeout = Duration::from_millis(300)).await;
    let (token, _) = app.sign_in(9400, "strict").await;

    // 4408: no connection_init in time.
    let mut silent = connect(&app).await;
    assert_eq!(close_code(&mut silent).await, Some(4408));
    // 4401: subscribe before the ack.
    let mut early = connect(&app).await;
    send(&mut early, json!({ "id": "1", "type": "subscribe", "payload": { "query": BALANCE } })).await;
    assert_eq!(close_code(&mut early).await, Some(4401));
    // 4403: a bad token; a missing one.
    for payload in [json!({ "authorization": "Bearer aisha_forged" }), json!({})] {
        let mut forged = connect(&app).await;
        send(&mut forged, json!({ "type": "connection_init", "payload": payload })).await;
        assert_eq!(close_code(&mut forged).await, Some(4403), "{payload}");
    }
    // 4400: not JSON, or not a message of the protocol.
    for text in ["not json", r#"{"type":"start","id":"1"}"#, r#"{"type":"subscribe","id":"1"}"#] {
        let mut garbled = acked(&app, &token).await;
        garbled.send(Message::text(text)).await.expect("sent");
        assert_eq!(close_code(&mut garbled).await, Some(4400), "{text}");
    }
    // 4409: an id already in use.
    let mut twice = acked(&app, &token).await;
    for _ in 0..2 {
        send(&mut twice, json!({ "id": "same", "type": "subscribe", "payload": { "query": BALANCE } })).await;
    }
    assert_eq!(close_code(&mut twice).await, Some(4409));
    // 4429: a second connection_init.
    let mut again = acked(&app, &token).await;
    send(&mut again, json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(close_code(&mut again).await, Some(4429));
    // A client ping gets a pong with its payload; an id can be reused once completed.
    let mut polite = acked(&app, &token).await;
    send(&mut polite, json!({ "type": "ping", "payload": { "n": 1 } })).await;
    assert_eq!(next(&mut polite).await, json!({ "type": "pong", "payload": { "n": 1 } }));
    send(&mut polite, json!({ "id": "a", "type": "subscribe", "payload": { "query": BALANCE } })).await;
    send(&mut polite, json!({ "id": "a", "type": "complete" })).await;
    send(&mut polite, json!({ "id": "a", "type": "subscribe", "payload": { "query": BALANCE } })).await;
    send(&mut polite, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut polite).await["type"], "pong", "the reused id closed the socket");
    // A subscription the schema refuses gets `error` (and the socket stays).
    send(&mut polite, json!({ "id": "bad", "type": "subscribe", "payload": { "query": "subscription { nothing }" } }))
        .await;
    let refused = next(&mut polite).await;
    assert_eq!((refused["type"].as_str(), refused["id"].as_str()), (Some("error"), Some("bad")), "{refused}");
});

db_test!(subscriptions_and_sockets_are_capped_and_silent_peers_are_closed, |db: Db| async move {
    let app = spawn_app_with(db, |c| {
        c.websocket.max_subscriptions = 2;
        c.websocket.max_sockets_per_user = 2;
        c.websocket.ping_interval = Duration::from_millis(300);
    })
    .await;
    let (token, _) = app.sign_in(9410, "busy").await;
    let mut first = acked(&app, &token).await;
    for id in ["1", "2", "3"] {
        send(&mut first, json!({ "id": id, "type": "subscribe", "payload": { "query": BALANCE } })).await;
    }
    let refused = loop {
        let message = next(&mut first).await;
        if message["type"] == "ping" {
            send(&mut first, json!({ "type": "pong" })).await;
            continue;
        }
        break message;
    };
    assert_eq!(refused["id"], "3", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS", "{refused}");

    // Two sockets per user: the third is refused at its connection_init.
    let mut second = acked(&app, &token).await;
    let mut third = connect(&app).await;
    send(&mut third, json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(close_code(&mut third).await, Some(4429));

    // The server pings; a peer that answers stays, one that stays silent is closed.
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        let message = next(&mut first).await;
        if message["type"] == "ping" {
            send(&mut first, json!({ "type": "pong" })).await;
        }
    }
    send(&mut first, json!({ "type": "ping" })).await;
    loop {
        let message = next(&mut first).await;
        if message["type"] == "pong" {
            break;
        }
    }
    assert_eq!(close_code(&mut second).await, Some(1011), "the silent socket was not closed");
});

db_test!(signing_out_closes_the_tokens_sockets_with_4403, |db: Db| async move {
    let app = spawn_app_with(db, |_| {}).await;
    let (token, _) = app.sign_in(9420, "leaving").await;
    let (other, _) = app.sign_in(9421, "staying").await;
    let mut mine = acked(&app, &token).await;
    let mut theirs = acked(&app, &other).await;
    send(&mut mine, json!({ "id": "1", "type": "subscribe", "payload": { "query": BALANCE } })).await;
    assert_eq!(app.gql(Some(&token), "mutation { signOut }", json!({})).await.data("signOut"), true);
    assert_eq!(close_code(&mut mine).await, Some(4403));
    send(&mut theirs, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut theirs).await["type"], "pong", "another token's socket was closed");
});

#[tokio::test]
async fn with_redis_signing_out_on_one_instance_closes_the_socket_on_another() {
    let Some(redis) = redis_url() else { return };
    let first_redis = redis.clone();
    let first = spawn_app_with(Db::Sqlite, move |c| c.redis_url = Some(first_redis)).await;
    let (database_url, prefix) = (first.app.config.database_url.clone(), first.app.config.redis_prefix.clone());
    let second = spawn_app_with(Db::Sqlite, move |c| {
        c.redis_url = Some(redis);
        c.database_url = database_url;
        c.redis_prefix = prefix;
    })
    .await;
    let (token, _) = first.sign_in(9430, "roaming").await;
    let mut socket = acked(&second, &token).await;
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": BALANCE } })).await;
    tokio::time::sleep(Duration::from_millis(200)).await; // the other instance listens on the bus
    assert_eq!(first.gql(Some(&token), "mutation { signOut }", json!({})).await.data("signOut"), true);
    assert_eq!(close_code(&mut socket).await, Some(4403));
}

async fn legacy_acked(app: &TestApp, token: &str) -> Socket {
    let mut request = format!("ws://{}/graphql", app.addr).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("graphql-ws"));
    let mut socket = tokio_tungstenite::connect_async(request).await.expect("websocket connects").0;
    send(&mut socket, json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    socket
}

db_test!(legacy_graphql_ws_sockets_have_the_same_bounds, |db: Db| async move {
    let app = spawn_app_with(db, |c| {
        c.websocket.init_timeout = Duration::from_millis(300);
        c.websocket.max_subscriptions = 2;
    })
    .await;
    let (token, _) = app.sign_in(9440, "old-client").await;

    // No connection_init: closed after the deadline.
    let mut request = format!("ws://{}/graphql", app.addr).into_client_request().expect("request");
    request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("graphql-ws"));
    let mut silent = tokio_tungstenite::connect_async(request).await.expect("websocket connects").0;
    assert_eq!(close_code(&mut silent).await, Some(4408));

    // Two subscriptions run; a third is refused until one stops.
    let mut socket = legacy_acked(&app, &token).await;
    let start = |id: &str| json!({ "id": id, "type": "start", "payload": { "query": BALANCE } });
    send(&mut socket, start("1")).await;
    send(&mut socket, start("2")).await;
    send(&mut socket, start("3")).await;
    let refusal = next(&mut socket).await;
    assert_eq!((refusal["type"].as_str(), refusal["id"].as_str()), (Some("error"), Some("3")), "{refusal}");
    assert_eq!(refusal["payload"]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS");
    send(&mut socket, json!({ "id": "1", "type": "stop" })).await;
    send(&mut socket, start("4")).await;
    send(&mut socket, start("5")).await;
    let refusal = loop {
        let message = next(&mut socket).await;
        if message["type"] == "error" {
            break message;
        }
    };
    assert_eq!(refusal["id"], "5", "the subscription after a stop was refused: {refusal}");

    // Signing out closes it.
    assert_eq!(app.gql(Some(&token), "mutation { signOut }", json!({})).await.data("signOut"), true);
    assert_eq!(close_code(&mut socket).await, Some(4403));
});
