//! `GET /files/{bucket}/{key}?expires=…&signature=…`: objects of the local storage folder,
//! through links signed by the server that expire. A tampered or expired link is a 403.

use axum::{
    extract::{Path, Query, State, rejection::QueryRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::storage::Bucket;

#[derive(Deserialize)]
pub struct Signed {
    expires: u64,
    signature: String,
}

pub async fn serve(
    State(app): State<AppState>,
    Path((bucket, key)): Path<(String, String)>,
    link: Result<Query<Signed>, QueryRejection>,
) -> Response {
    let (Some(local), Some(bucket), Ok(Query(link))) = (app.local_files.as_ref(), Bucket::parse(&bucket), link) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    match local.open_signed(bucket, &key, link.expires, &link.signature, now).await {
        Some(object) => (
            [(header::CONTENT_TYPE, object.content_type), (header::CACHE_CONTROL, "private, max-age=3600".into())],
            object.bytes,
        )
            .into_response(),
        None => (StatusCode::FORBIDDEN, "this link is invalid or has expired").into_response(),
    }
}
