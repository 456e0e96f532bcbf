//! The HTTP surface (DESIGN.md, "HTTP surface"): one axum router for GraphQL, subscriptions,
//! GraphiQL, health and metrics; later the Telegram and FAL webhooks and the web client.

mod fal_webhook;
mod files;
mod graphiql;
mod graphql;
mod health;
mod observe;
mod websocket;

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
        .route("/webhooks/fal", post(fal_webhook::receive));
    if app.config.graphiql {
        router = router
            .route("/graphiql", get(graphiql::page))
            .route("/graphiql/assets/{name}", get(graphiql::asset));
    }
    router
        .layer(DefaultBodyLimit::max(app.config.limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(app.clone(), observe::observe))
        .with_state(app)
}
