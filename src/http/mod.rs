//! The HTTP surface (DESIGN.md, "HTTP surface"): one axum router for GraphQL, subscriptions,
//! GraphiQL, health and metrics, the Telegram and FAL webhooks, and the web client.

mod fal_webhook;
mod files;
mod graphiql;
mod graphql;
mod health;
mod observe;
pub mod server;
mod uploads;
mod web_client;
mod websocket;

pub use websocket::sockets::SocketCounts;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    middleware,
    routing::{get, post},
};

use crate::app::AppState;

pub fn router(app: AppState) -> Router {
    let mut router = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics))
        .route("/files/{bucket}/{*key}", get(files::serve))
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
        .layer(DefaultBodyLimit::max(app.config.limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(app, observe::observe))
}
