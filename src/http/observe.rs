//! The one middleware every request passes: a request id (kept from `x-request-id` or made
//! here), a tracing span carrying it, and the request counted in the metrics.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Instant,
};

use axum::{
    extract::{Request, State},
    http::HeaderValue,
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use crate::app::AppState;
use crate::metrics::Route;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub async fn observe(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = Route::of_path(request.uri().path());
    let request_id = match request.headers().get("x-request-id").filter(|v| v.len() <= 128) {
        Some(id) => id.clone(),
        None => {
            let id = format!("{}-{}", app.instance_id, NEXT_ID.fetch_add(1, Ordering::Relaxed));
            HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
        }
    };
    let span = tracing::info_span!(
        "request",
        id = request_id.to_str().unwrap_or(""),
        method = %request.method(),
        path = request.uri().path(),
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    app.metrics.record_request(route, response.status().as_u16(), elapsed);
    span.in_scope(|| tracing::debug!(status = response.status().as_u16(), ?elapsed, "response"));
    response.headers_mut().insert("x-request-id", request_id);
    response
}
