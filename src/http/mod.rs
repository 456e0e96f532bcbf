//! The HTTP surface (DESIGN.md, "HTTP surface"): one axum router for GraphQL, subscriptions,
//! GraphiQL, health and metrics, the Telegram and FAL webhooks, and the web client.

mod fal_webhook;
mod files;
mod graphiql;
mod graphql;
mod health;
mod observe;
pub mod server;
mod style_previews;
mod uploads;
mod web_client;
mod websocket;

use std::{future::Future, sync::Arc};

use anyhow::Context as _;
use axum::{
    Extension, Router,
    extract::DefaultBodyLimit,
    middleware,
    routing::{get, post},
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::{self, AppState};
use websocket::sockets::SocketCounts;

pub fn router(app: AppState) -> Router {
    let mut router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics))
        .route("/files/{bucket}/{*key}", get(files::serve))
        .route("/styles/{slug}/preview.png", get(style_previews::serve))
        .route("/webhooks/fal", post(fal_webhook::receive))
        .route("/", get(web_client::page))
        .route("/app/{name}", get(web_client::asset));
    if app.config.graphiql {
        router = router.route("/graphiql", get(graphiql::page)).route("/graphiql/assets/{name}", get(graphiql::asset));
    }
    let mut router = router.with_state(app.clone());
    if let Some(telegram) = &app.telegram {
        router = router.merge(telegram.router());
    }
    router
        // Open WebSockets per user on this instance, for their cap.
        .layer(Extension(Arc::new(SocketCounts::default())))
        .layer(DefaultBodyLimit::max(app.config.limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(app, observe::observe))
}

/// Serves until `signal` resolves, with everything that runs beside; then stops claiming work,
/// releases what this instance holds, lets requests in flight finish, and returns within
/// `AISHA_SHUTDOWN_GRACE_SECS`.
pub async fn run_until_stopped(
    app: AppState,
    listener: TcpListener,
    signal: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let background = app::start_background(&app);
    let grace = app.config.shutdown_grace;
    let stopping = CancellationToken::new();
    let http = tokio::spawn(serve(app, listener, stopping.clone().cancelled_owned()));
    tokio::pin!(http);
    tokio::select! {
        served = &mut http => return served.context("the HTTP server task")?,
        () = signal => {}
    }
    tracing::info!(?grace, "stopping: no new work is claimed, what is held is released, requests in flight finish");
    stopping.cancel();
    let stopped = async {
        background.stop(grace).await;
        match http.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(error = format!("{error:#}"), "the HTTP server stopped with an error"),
            Err(error) => tracing::error!(%error, "the HTTP server task ended abnormally"),
        }
    };
    if tokio::time::timeout(grace, stopped).await.is_err() {
        tracing::warn!("the grace period is over; exiting with connections still open");
    }
    Ok(())
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    app: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let limits = app.config.connections;
    let router = router(app);
    server::serve(listener, router, limits, shutdown).await.context("serving HTTP")
}
