//! Liveness, readiness and Prometheus metrics.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use serde_json::json;
use std::time::Duration;

use crate::app::AppState;

pub async fn live() -> &'static str {
    "ok"
}

/// How long a dependency may take to answer before it counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Ready when the database, storage and (if configured) Redis answer in time.
pub async fn ready(State(app): State<AppState>) -> impl IntoResponse {
    let (database, cache, storage) = tokio::join!(
        check(async { app.db.ping().await.map_err(|e| e.to_string()) }),
        check(async { app.cache.ping().await.map_err(|e| e.to_string()) }),
        check(async { app.storage.ping().await.map_err(|e| format!("{e:#}")) }),
    );
    let ready = database.is_ok() && cache.is_ok() && storage.is_ok();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let show = |r: Result<(), String>| r.err().unwrap_or_else(|| "ok".into());
    (status, Json(json!({ "database": show(database), "cache": show(cache), "storage": show(storage) })))
}

async fn check(probe: impl Future<Output = Result<(), String>>) -> Result<(), String> {
    tokio::time::timeout(CHECK_TIMEOUT, probe).await.unwrap_or_else(|_| Err("timed out".into()))
}

pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render())
}
