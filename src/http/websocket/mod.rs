//! Subscriptions over WebSocket: `graphql-transport-ws` by our own server (`transport`, the
//! spec's close codes), and the legacy `graphql-ws` (subscriptions-transport-ws) by
//! async-graphql's, with its own semantics. The `connection_init` payload must carry
//! `{"authorization": "Bearer <token>"}`; without a valid token the connection is refused.

mod legacy;
pub mod sockets;
mod transport;

use async_graphql_axum::GraphQLProtocol;
use axum::{
    extract::{FromRequestParts, Request, WebSocketUpgrade},
    response::{IntoResponse, Response},
};

use std::sync::Arc;

use crate::app::AppState;
use sockets::SocketCounts;

const READ_BUFFER_BYTES: usize = 4 * 1024;
const MAX_MESSAGE_BYTES: usize = 256 * 1024;

pub async fn upgrade(app: AppState, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let protocol = match GraphQLProtocol::from_request_parts(&mut parts, &()).await {
        Ok(protocol) => protocol,
        Err(rejection) => return rejection.into_response(),
    };
    let Some(sockets) = parts.extensions.get::<Arc<SocketCounts>>().cloned() else {
        tracing::error!("the router has no socket counts");
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let upgrade = upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        // Clients send small messages. tungstenite zeroes its whole read buffer on every read
        // (128 KiB by default), which dominated the cost of fanning an event out to many sockets.
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES);
    // The upgrade prefers graphql-transport-ws (first in the list) whenever the client offers it.
    let offered =
        parts.headers.get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL).iter().filter_map(|v| v.to_str().ok());
    // Counted in `aisha_websocket_connections` from the upgrade until the socket ends.
    let open = app.metrics.socket_opened();
    if offered.flat_map(|v| v.split(',')).any(|p| p.trim() == "graphql-transport-ws") {
        return upgrade.on_upgrade(move |socket| async move {
            transport::serve(socket, app, sockets).await;
            drop(open);
        });
    }
    upgrade.on_upgrade(move |socket| async move {
        legacy::serve(socket, app, sockets, protocol).await;
        drop(open);
    })
}
/// The token in a `connection_init` payload: `{"authorization": "Bearer <token>"}`.
fn bearer_token(payload: &serde_json::Value) -> Option<String> {
    ["authorization", "Authorization"]
        .iter()
        .find_map(|key| payload.get(key).and_then(|v| v.as_str()))
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim().to_owned())
        .filter(|t| !t.is_empty())
}
