//! `GET /`: the web client (`web-client/`, Preact + TypeScript built by Vite into
//! `web-client/dist/`), embedded in the binary so that it is served with nothing else installed.

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

pub async fn page() -> Html<&'static str> {
    Html(include_str!("../../web-client/dist/index.html"))
}

pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, content_type): (&'static str, &str) = match name.as_str() {
        "main.js" => (include_str!("../../web-client/dist/main.js"), "text/javascript; charset=utf-8"),
        "style.css" => (include_str!("../../web-client/dist/style.css"), "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}
