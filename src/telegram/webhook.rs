//! `POST /telegram/webhook`: teloxide's webhook router (`axum_no_setup`, which answers 200 at
//! once and hands the update on), behind our gate: the secret header (constant-time; 401), then
//! a dedupe mark per `update_id` in the cache (a day; Redis when configured), so a repeated
//! delivery is answered 200 and dropped.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::adapters::cache::Cache;
use crate::domain::auth::constant_time_eq;
use crate::metrics::Metrics;

pub const PATH: &str = "/telegram/webhook";
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// Telegram repeats an update for a while at most; a day covers it.
const DEDUPE_TTL: Duration = Duration::from_secs(24 * 3600);
/// Updates are small; anything bigger is not one.
const MAX_UPDATE_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct Gate {
    pub secret: SecretString,
    pub cache: Arc<dyn Cache>,
    pub metrics: Arc<Metrics>,
}

/// Puts the gate in front of teloxide's router.
pub fn guarded(teloxide_router: Router, gate: Gate) -> Router {
    teloxide_router.route_layer(middleware::from_fn_with_state(gate, check))
}

async fn check(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let authentic = request
        .headers()
        .get(SECRET_HEADER)
        .is_some_and(|v| constant_time_eq(v.as_bytes(), gate.secret.expose_secret().as_bytes()));
    if !authentic {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_UPDATE_BYTES).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    #[derive(Deserialize)]
    struct UpdateId {
        update_id: i64,
    }
    if let Ok(UpdateId { update_id }) = serde_json::from_slice(&bytes) {
        match gate.cache.set_if_absent(&format!("tg:update:{update_id}"), "1", DEDUPE_TTL).await {
            Ok(false) => {
                gate.metrics.record_telegram_received(true);
                return StatusCode::OK.into_response();
            }
            Ok(true) => {}
            // Better a rare duplicate (every effect is idempotent anyway) than a lost update.
            Err(error) => tracing::warn!(%error, update_id, "no dedupe for this update"),
        }
    }
    gate.metrics.record_telegram_received(false);
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
