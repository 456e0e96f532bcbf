//! `GET /styles/{slug}/preview.png`: the preview of a style template that has no picture of its
//! own, drawn by the local renderer from the template's prompt (labelled as not AI, like every
//! local picture). It changes only when the template does, so clients may cache it for a day.

use axum::{
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::app::AppState;
use crate::providers::local::render_png;

/// The preview's long side, in pixels.
const SIZE: u32 = 512;

pub async fn serve(State(app): State<AppState>, Path(slug): Path<String>) -> Response {
    let template = match app.services.styles.template_by_slug(&slug).await {
        Ok(Some(template)) => template,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::warn!(%error, "could not read a style template");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let prompt = template.prompt.replace(crate::domain::styles::SUBJECT, "…");
    let size = template.aspect_ratio.size(SIZE);
    let png = match tokio::task::spawn_blocking(move || render_png(&prompt, Some(template.id), 0, size)).await {
        Ok(png) => png,
        Err(error) => {
            tracing::error!(%error, "drawing a style preview panicked");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=86400")], png).into_response()
}
