//! Liveness, readiness and Prometheus metrics.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use serde_json::json;

use crate::app::AppState;

pub async fn live() -> &'static str {
    "ok"
}

/// Ready when the database and (if configured) Redis answer.
pub async fn ready(State(app): State<AppState>) -> impl IntoResponse {
    let database = app.db.ping().await.map_err(|e| e.to_string());
    let cache = app.cache.ping().await.map_err(|e| e.to_string());
    let status = if database.is_ok() && cache.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let show = |r: Result<(), String>| r.err().unwrap_or_else(|| "ok".into());
    (status, Json(json!({ "database": show(database), "cache": show(cache) })))
}

pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render())
}
