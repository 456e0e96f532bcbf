//! `graphql-transport-ws`, to the letter of its spec (github.com/enisdenjo/graphql-ws,
//! PROTOCOL.md): 4400 for a message that is not one of the protocol's, 4401 for `subscribe`
//! before the ack, 4403 for a bad or revoked token, 4408 when `connection_init` does not come in
//! time, 4409 for a subscription id in use, 4429 for a second `connection_init`. Beyond the
//! spec: the server pings and closes (1011) a peer that stops answering; a socket has a cap on
//! its subscriptions (the extra one gets an `error`), a user a cap on sockets per instance; and
//! revoking the token (`signOut`, on any instance) closes its sockets with 4403.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Data, Executor, Response};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{AbortHandle, Abortable, BoxStream, SelectAll};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};

use super::sockets::{SocketCounts, SocketSlot};
use crate::app::AppState;
use crate::domain::auth::Principal;
use crate::graphql::Viewer;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {
        #[serde(default)]
        #[allow(dead_code)]
        payload: Option<Value>,
    },
    Subscribe {
        id: String,
        payload: Box<async_graphql::Request>,
    },
    Complete {
        id: String,
    },
}

/// The connection after the ack: who it is for, and what it must give up if revoked.
struct Session {
    principal: Principal,
    revoked: tokio::sync::watch::Receiver<bool>,
    _slot: SocketSlot,
}

/// A subscription in flight; `serial` tells it from an earlier one under the same id.
struct Active {
    serial: u64,
    abort: AbortHandle,
}

/// What a subscription's stream yields: a response, or (`None`) its end.
struct Tagged {
    id: String,
    serial: u64,
    item: Option<Response>,
}

static NEXT_SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Why the socket is being closed.
struct Close(u16, &'static str);

pub async fn serve(socket: WebSocket, app: AppState, sockets: Arc<SocketCounts>) {
    let (mut sink, mut incoming) = socket.split();
    let settings = app.config.websocket;
    let init_deadline = tokio::time::sleep(settings.init_timeout);
    tokio::pin!(init_deadline);
    let mut pings =
        tokio::time::interval_at(tokio::time::Instant::now() + settings.ping_interval, settings.ping_interval);
    let mut heard_since_ping = true;
    let mut session: Option<Session> = None;
    let mut streams: SelectAll<BoxStream<'static, Tagged>> = SelectAll::new();
    let mut active: HashMap<String, Active> = HashMap::new();

    let close = loop {
        let watch = session.as_ref().map(|s| s.revoked.clone());
        let revoked = async move {
            match watch {
                Some(mut watch) => {
                    if watch.wait_for(|revoked| *revoked).await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        let outgoing = tokio::select! {
            message = incoming.next() => {
                heard_since_ping = true;
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                    Some(Ok(Message::Binary(_))) => break Some(Close(4400, "binary messages are not part of the protocol")),
                };
                let Ok(message) = serde_json::from_str::<ClientMessage>(&text) else {
                    break Some(Close(4400, "Invalid message received"));
                };
                match handle(&app, &sockets, message, &mut session, &mut streams, &mut active).await {
                    Ok(reply) => reply,
                    Err(close) => break Some(close),
                }
            }
            Some(Tagged { id, serial, item }) = streams.next(), if !streams.is_empty() => {
                // What a completed subscription still yields (or one whose id was reused) is dropped.
                if active.get(&id).is_none_or(|a| a.serial != serial) {
                    continue;
                }
                match item {
                    // Refused before it started (validation, arguments): `error`, and no `complete`.
                    Some(response) if response.data == async_graphql::Value::Null && !response.errors.is_empty() => {
                        active.remove(&id);
                        Some(json!({ "id": id, "type": "error", "payload": response.errors }))
                    }
                    Some(response) => Some(json!({ "id": id, "type": "next", "payload": response })),
                    // The stream ended by itself.
                    None => {
                        active.remove(&id);
                        Some(json!({ "id": id, "type": "complete" }))
                    }
                }
            }
            () = &mut init_deadline, if session.is_none() => break Some(Close(4408, "Connection initialisation timeout")),
            _ = pings.tick() => {
                if !heard_since_ping {
                    break Some(Close(1011, "the peer stopped answering pings"));
                }
                heard_since_ping = false;
                Some(json!({ "type": "ping" }))
            }
            () = revoked => break Some(Close(4403, "Forbidden")),
        };
        if let Some(reply) = outgoing
            && sink.send(Message::Text(Utf8Bytes::from(reply.to_string()))).await.is_err()
        {
            break None;
        }
    };
    for subscription in active.values() {
        subscription.abort.abort();
    }
    if let Some(Close(code, reason)) = close {
        let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))).await;
    }
}

/// One client message: the reply to send, if any, or the close it deserves.
async fn handle(
    app: &AppState,
    sockets: &Arc<SocketCounts>,
    message: ClientMessage,
    session: &mut Option<Session>,
    streams: &mut SelectAll<BoxStream<'static, Tagged>>,
    active: &mut HashMap<String, Active>,
) -> Result<Option<Value>, Close> {
    match message {
        ClientMessage::ConnectionInit { payload } => {
            if session.is_some() {
                return Err(Close(4429, "Too many initialisation requests"));
            }
            let (principal, token) =
                authenticate(app, payload.unwrap_or_default()).await.ok_or(Close(4403, "Forbidden"))?;
            let slot = sockets
                .take(principal, app.config.websocket.max_sockets_per_user)
                .ok_or(Close(4429, "too many sockets for this user"))?;
            let revoked = app.services.auth.watch_revocation(&token);
            *session = Some(Session { principal, revoked, _slot: slot });
            Ok(Some(json!({ "type": "connection_ack" })))
        }
        ClientMessage::Ping { payload } => Ok(Some(match payload {
            Some(payload) => json!({ "type": "pong", "payload": payload }),
            None => json!({ "type": "pong" }),
        })),
        ClientMessage::Pong { .. } => Ok(None),
        ClientMessage::Subscribe { id, payload } => {
            let Some(session) = session.as_ref() else { return Err(Close(4401, "Unauthorized")) };
            if active.contains_key(&id) {
                return Err(Close(4409, "Subscriber for this id already exists"));
            }
            let cap = app.config.websocket.max_subscriptions;
            if active.len() >= cap {
                let error = json!({ "message": format!("at most {cap} subscriptions per socket"), "extensions": { "code": "TOO_MANY_SUBSCRIPTIONS" } });
                return Ok(Some(json!({ "id": id, "type": "error", "payload": [error] })));
            }
            let mut data = Data::default();
            data.insert(Viewer::known(session.principal));
            let responses = app.schema.execute_stream(*payload, Some(Arc::new(data)));
            let (abort, registration) = AbortHandle::new_pair();
            let serial = NEXT_SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (tagged, ended) = (id.clone(), id.clone());
            let stream = Abortable::new(responses, registration)
                .map(move |response| Tagged { id: tagged.clone(), serial, item: Some(response) })
                .chain(futures_util::stream::once(async move { Tagged { id: ended, serial, item: None } }));
            streams.push(stream.boxed());
            active.insert(id, Active { serial, abort });
            Ok(None)
        }
        ClientMessage::Complete { id } => {
            if let Some(subscription) = active.remove(&id) {
                subscription.abort.abort();
            }
            Ok(None)
        }
    }
}

/// The principal and token behind `{"authorization": "Bearer <token>"}`; None when invalid.
async fn authenticate(app: &AppState, payload: Value) -> Option<(Principal, String)> {
    let token = super::bearer_token(&payload)?;
    let principal = app.services.auth.authenticate(&token).await.ok()?;
    Some((principal, token))
}
