//! The legacy `graphql-ws` protocol (subscriptions-transport-ws), served by async-graphql with
//! that protocol's semantics. Around it, what we owe every socket whatever its protocol: a
//! deadline for `connection_init`, the per-user socket cap, at most so many subscriptions (the
//! next `start` gets an `error` `TOO_MANY_SUBSCRIPTIONS`), and a close (4403) when the token is
//! signed out or revoked on any instance.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::PollSender;

use super::sockets::{SocketCounts, SocketSlot};
use crate::app::AppState;
use crate::graphql::Viewer;

/// What a signed-in socket keeps: its place among the user's sockets, and its token's watch.
struct Session {
    revoked: watch::Receiver<bool>,
    _slot: SocketSlot,
}

/// The ids of the subscriptions running on one socket.
type Running = Arc<Mutex<HashSet<String>>>;

/// The two fields of a protocol message we look at.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: Option<String>,
}

pub async fn serve(socket: WebSocket, app: AppState, sockets: Arc<SocketCounts>, protocol: GraphQLProtocol) {
    let settings = app.config.websocket;
    let (mut sink, stream) = socket.split();
    // async-graphql writes into a channel, so that the socket stays ours to close and we can
    // answer a `start` over the cap ourselves.
    let (outgoing, mut to_send) = mpsc::channel::<Message>(16);
    let running = Running::default();
    let incoming = {
        let (outgoing, running) = (outgoing.clone(), running.clone());
        stream.filter_map(move |message| {
            let admitted = match &message {
                Ok(Message::Text(text)) => admit(text, &running, settings.max_subscriptions, &outgoing),
                _ => true,
            };
            std::future::ready(admitted.then_some(message))
        })
    };
    let (signed_in, session) = oneshot::channel::<Session>();
    let schema = app.schema.clone();
    let protocol_server = GraphQLWebSocket::new_with_pair(PollSender::new(outgoing), incoming, schema, protocol)
        .on_connection_init(move |payload| connection_init(app, sockets, payload, signed_in))
        .serve();
    let forward = async {
        while let Some(message) = to_send.recv().await {
            if let Message::Text(text) = &message {
                ended(text, &running);
            }
            if sink.send(message).await.is_err() {
                break;
            }
        }
    };
    let must_close = async {
        let Ok(Ok(mut session)) = tokio::time::timeout(settings.init_timeout, session).await else {
            return CloseFrame { code: 4408, reason: "Connection initialisation timeout".into() };
        };
        if session.revoked.wait_for(|revoked| *revoked).await.is_err() {
            std::future::pending::<()>().await;
        }
        CloseFrame { code: 4403, reason: "Forbidden".into() }
    };
    let close = tokio::select! {
        _ = futures_util::future::join(protocol_server, forward) => None,
        close = must_close => Some(close),
    };
    if let Some(close) = close
        && let Err(error) = sink.send(Message::Close(Some(close))).await
    {
        tracing::debug!(%error, "a socket was gone before its close");
    }
}

/// Whether a client message goes on to the protocol: a `start` past the cap is answered here.
fn admit(text: &str, running: &Running, cap: usize, outgoing: &mpsc::Sender<Message>) -> bool {
    let Ok(Envelope { kind, id: Some(id) }) = serde_json::from_str::<Envelope>(text) else { return true };
    let mut running = running.lock().unwrap_or_else(|p| p.into_inner());
    match kind {
        "start" if running.len() >= cap && !running.contains(&id) => {
            let payload = json!({ "message": format!("at most {cap} subscriptions per socket"), "extensions": { "code": "TOO_MANY_SUBSCRIPTIONS" } });
            let refusal = json!({ "type": "error", "id": id, "payload": payload }).to_string();
            // A full channel means the client is not reading: it misses the refusal, not the cap.
            let _ = outgoing.try_send(Message::Text(refusal.into()));
            false
        }
        "start" => {
            running.insert(id);
            true
        }
        "stop" => {
            running.remove(&id);
            true
        }
        _ => true,
    }
}

/// Forgets a subscription the server finished.
fn ended(text: &str, running: &Running) {
    // Most messages are `data`: skip them without parsing their payload.
    if !(text.contains("\"complete\"") || text.contains("\"error\"")) {
        return;
    }
    if let Ok(Envelope { kind: "complete" | "error", id: Some(id) }) = serde_json::from_str::<Envelope>(text) {
        running.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }
}

async fn connection_init(
    app: AppState,
    sockets: Arc<SocketCounts>,
    payload: serde_json::Value,
    signed_in: oneshot::Sender<Session>,
) -> async_graphql::Result<Data> {
    let token = super::bearer_token(&payload)
        .ok_or_else(|| async_graphql::Error::new("connection_init needs {\"authorization\": \"Bearer <token>\"}"))?;
    let principal =
        app.services.auth.authenticate(&token).await.map_err(|_| async_graphql::Error::new("invalid token"))?;
    let slot = sockets
        .take(principal, app.config.websocket.max_sockets_per_user)
        .ok_or_else(|| async_graphql::Error::new("too many sockets for this user"))?;
    let revoked = app.services.auth.watch_revocation(&token);
    // The receiver is gone only when the socket is already closing.
    let _ = signed_in.send(Session { revoked, _slot: slot });
    let mut data = Data::default();
    data.insert(Viewer::known(principal));
    Ok(data)
}
