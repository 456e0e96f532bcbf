//! GraphQL over HTTP, by the GraphQL-over-HTTP specification: POST with `application/json`,
//! GET for queries only (405 with `Allow: POST` for a mutation), content negotiation between
//! `application/graphql-response+json` and `application/json`, and status codes that follow
//! the media type (request errors are 400 under the former, 200 under the latter). A GET with
//! a WebSocket upgrade serves subscriptions. File uploads follow the GraphQL multipart request
//! spec.

use async_graphql::{Executor, ServerError, Value, Variables, parser::types::OperationType};
use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value as Json};

use super::uploads::{self, UploadError, UploadLimits};
use super::websocket;
use crate::app::AppState;
use crate::budget::RequestBudget;
use crate::domain::Error as DomainError;
use crate::domain::rate_limits::{Action, Caller};
use crate::graphql::{Viewer, check_uploads, classify, operation_label};

#[derive(Clone, Copy, PartialEq, Eq)]
enum MediaType {
    /// `application/graphql-response+json`
    GraphqlResponse,
    /// `application/json` (the legacy media type; every error is a 200)
    Json,
}

impl MediaType {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            MediaType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        })
    }
}

struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Map<String, Json>,
    extensions: Map<String, Json>,
}

pub async fn post(State(app): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let address = client_address(&app, &parts);
    let headers = parts.headers;
    let media = match negotiate(&headers) {
        Ok(media) => media,
        Err(response) => return response,
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("multipart/form-data") {
        return multipart(&app, viewer(&headers).at(address), &headers, &content_type, body, media).await;
    }
    if !essence.eq_ignore_ascii_case("application/json") {
        return plain_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "Content-Type must be application/json (or multipart/form-data for uploads)",
        );
    }
    let body = match axum::body::to_bytes(body, app.config.limits.max_body_bytes).await {
        Ok(body) => body,
        Err(error) if is_too_slow(&error) => {
            return plain_error(StatusCode::REQUEST_TIMEOUT, media, "the body came too slowly");
        }
        Err(_) => return plain_error(StatusCode::PAYLOAD_TOO_LARGE, media, "the body is too large"),
    };
    let params = match serde_json::from_slice::<Json>(&body) {
        Ok(Json::Object(map)) => params_from(map, false),
        Ok(_) => Err("the body must be a JSON object".into()),
        Err(e) => Err(format!("the body is not valid JSON: {e}")),
    };
    match params {
        Ok(params) => execute(&app, viewer(&headers).at(address), params, media, false).await,
        Err(message) => plain_error(StatusCode::BAD_REQUEST, media, &message),
    }
}

/// Whether reading the body failed because it stalled (see `server`), not because of its size.
fn is_too_slow(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        // An io::Error hides its inner error from `source()`: look inside.
        let inner = current.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref());
        if current.is::<super::server::BodyTooSlow>() || inner.is_some_and(|e| e.is::<super::server::BodyTooSlow>()) {
            return true;
        }
        source = current.source();
    }
    false
}

/// Where the request comes from, for the per-address budgets.
fn client_address(app: &AppState, parts: &axum::http::request::Parts) -> Option<std::net::IpAddr> {
    if app.config.trust_proxy {
        // The last entry is the one our proxy added; the ones before it are the client's word.
        let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).next_back();
        if let Some(address) = forwarded.and_then(|v| v.rsplit(',').next()).and_then(|a| a.trim().parse().ok()) {
            return Some(address);
        }
    }
    parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip())
}

/// The GraphQL multipart request spec (file uploads). Who asks is known, and the announced size
/// checked, before any of the body is read; the operation and the number of files are checked
/// before any file is (see `uploads`).
async fn multipart(
    app: &AppState,
    viewer: Viewer,
    headers: &HeaderMap,
    content_type: &str,
    body: Body,
    media: MediaType,
) -> Response {
    let limits = UploadLimits {
        max_files: app.config.limits.max_upload_files,
        max_file_bytes: app.config.limits.max_upload_bytes,
    };
    let principal = match viewer.principal(&app.services).await {
        Ok(Some(principal)) => principal,
        Ok(None) | Err(_) => {
            let mut response =
                coded_error(StatusCode::UNAUTHORIZED, media, "UNAUTHENTICATED", "uploads need a valid bearer token");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    };
    let announced =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limits.max_request_bytes()) {
        let message = format!("an upload request may be at most {} bytes", limits.max_request_bytes());
        return coded_error(StatusCode::PAYLOAD_TOO_LARGE, media, "PAYLOAD_TOO_LARGE", &message);
    }
    let refused = |error: UploadError| match error {
        UploadError::TooLarge(message) => {
            coded_error(StatusCode::PAYLOAD_TOO_LARGE, media, "PAYLOAD_TOO_LARGE", &message)
        }
        other => plain_error(StatusCode::BAD_REQUEST, media, &other.to_string()),
    };
    let incoming = match uploads::begin(content_type, body, limits).await {
        Ok(incoming) => incoming,
        Err(error) => return refused(error),
    };
    if let Err(error) = check_uploads(&app.services, principal, &incoming.request, incoming.file_count()).await {
        incoming.absorb_rest(limits.max_file_bytes);
        let body = serde_json::json!({ "data": null, "errors": [error] });
        let retry_after = error.extensions.as_ref().and_then(|e| match e.get("retryAfter") {
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        });
        return match retry_after {
            Some(seconds) => too_many_requests(media, seconds, &body),
            None => json_response(StatusCode::OK, media, &body),
        };
    }
    match incoming.read_files().await {
        Ok(request) => run(app, viewer, request, media, false).await,
        Err(error) => refused(error),
    }
}

pub async fn get(State(app): State<AppState>, request: Request) -> Response {
    if request.headers().contains_key(header::UPGRADE) {
        return websocket::upgrade(app, request).await;
    }
    let (parts, _) = request.into_parts();
    let address = client_address(&app, &parts);
    let media = match negotiate(&parts.headers) {
        Ok(media) => media,
        Err(response) => return response,
    };
    let map: Map<String, Json> = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), Json::String(v.into_owned())))
        .collect();
    match params_from(map, true) {
        Ok(params) => execute(&app, viewer(&parts.headers).at(address), params, media, true).await,
        Err(message) => plain_error(StatusCode::BAD_REQUEST, media, &message),
    }
}

/// Reads the request parameters; in a GET, `variables` and `extensions` are JSON in a string.
fn params_from(mut map: Map<String, Json>, json_in_strings: bool) -> Result<Params, String> {
    let query = match map.remove("query") {
        Some(Json::String(query)) => query,
        Some(_) => return Err("query must be a string".into()),
        None => return Err("query is required".into()),
    };
    let operation_name = match map.remove("operationName") {
        None | Some(Json::Null) => None,
        Some(Json::String(name)) => Some(name),
        Some(_) => return Err("operationName must be a string".into()),
    };
    let mut object = |name: &str| -> Result<Map<String, Json>, String> {
        let value = match map.remove(name) {
            Some(Json::String(raw)) if json_in_strings => {
                serde_json::from_str(&raw).map_err(|_| format!("{name} must be a JSON object"))?
            }
            other => other.unwrap_or(Json::Null),
        };
        match value {
            Json::Null => Ok(Map::new()),
            Json::Object(object) => Ok(object),
            _ => Err(format!("{name} must be an object")),
        }
    };
    Ok(Params { variables: object("variables")?, extensions: object("extensions")?, query, operation_name })
}

async fn execute(app: &AppState, viewer: Viewer, params: Params, media: MediaType, is_get: bool) -> Response {
    let mut request =
        async_graphql::Request::new(params.query).variables(Variables::from_json(Json::Object(params.variables)));
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    for (key, value) in params.extensions {
        if let Ok(value) = Value::from_json(value) {
            request.extensions.insert(key, value);
        }
    }
    run(app, viewer, request, media, is_get).await
}

async fn run(
    app: &AppState,
    viewer: Viewer,
    mut request: async_graphql::Request,
    media: MediaType,
    is_get: bool,
) -> Response {
    // Parse here (or take the cached document): a GET must not run a mutation.
    let validated = match app.documents.prepare(&mut request) {
        Err(mut error) => {
            classify(&mut error);
            if let Some(extensions) = error.extensions.as_mut() {
                extensions.set("code", "GRAPHQL_PARSE_FAILED");
            }
            return request_errors(media, vec![error]);
        }
        Ok(prepared) if is_get && prepared.kind == Some(OperationType::Mutation) => {
            let mut response = plain_error(StatusCode::METHOD_NOT_ALLOWED, media, "mutations must use POST");
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        Ok(prepared) => {
            let kind = prepared.kind.unwrap_or(OperationType::Query);
            app.metrics.record_operation(operation_label(kind));
            let action = if kind == OperationType::Mutation { Action::Write } else { Action::Read };
            if let Err(seconds) = within_budget(app, &viewer, action).await {
                app.metrics.record_error("RATE_LIMITED");
                let message = format!("too many requests in a row: try again in {seconds} s");
                let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": "RATE_LIMITED", "retryAfter": seconds } }] });
                return too_many_requests(media, seconds, &body);
            }
            prepared.validated
        }
    };
    // What a document that passes validation without variables looks like; it is remembered so
    // that its next requests skip the rules (their verdict cannot change).
    let unvalidated =
        (!validated && request.variables.is_empty()).then(|| (request.query.clone(), request.operation_name.clone()));
    let request = request.data(viewer);
    let limits = &app.config.limits;
    let execution = async {
        if validated { app.schema.execute_prevalidated(request).await } else { app.schema.execute(request).await }
    };
    let bounded =
        tokio::time::timeout(limits.request_timeout, RequestBudget::run(limits.max_request_statements, execution))
            .await;
    let response = match bounded {
        Ok(Ok(response)) => response,
        Ok(Err(exceeded)) => {
            app.metrics.record_error("STATEMENT_BUDGET_EXCEEDED");
            return stopped(media, "STATEMENT_BUDGET_EXCEEDED", &exceeded.to_string());
        }
        Err(_) => {
            app.metrics.record_error("REQUEST_TIMEOUT");
            let message =
                format!("the request took longer than {} s and was stopped", limits.request_timeout.as_secs());
            return stopped(media, "REQUEST_TIMEOUT", &message);
        }
    };
    let is_request_error = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    if is_request_error {
        return request_errors(media, response.errors);
    }
    if let Some((query, operation_name)) = unvalidated
        && response.errors.iter().all(|e| !e.path.is_empty())
    {
        app.documents.mark_validated(&query, operation_name.as_deref());
    }
    json_response(StatusCode::OK, media, &response)
}

/// Takes one `action` from the budgets of the caller's address and token (together, one round
/// trip's time when they are in Redis); the seconds to wait when either is spent.
async fn within_budget(app: &AppState, viewer: &Viewer, action: Action) -> Result<(), u64> {
    let limiter = &app.services.rate_limits;
    let by_address = async {
        match viewer.address() {
            Some(address) => limiter.check(Caller::Address(address), action).await,
            None => Ok(()),
        }
    };
    let by_token = async {
        match viewer.token() {
            Some(token) => limiter.check(Caller::Token(token), action).await,
            None => Ok(()),
        }
    };
    match tokio::join!(by_address, by_token) {
        (Err(DomainError::RateLimited { retry_after_secs }), _)
        | (_, Err(DomainError::RateLimited { retry_after_secs })) => Err(retry_after_secs),
        _ => Ok(()),
    }
}

/// 429 with `Retry-After`: the whole request was refused, nothing was done.
fn too_many_requests(media: MediaType, seconds: u64, body: &impl serde::Serialize) -> Response {
    let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, media, body);
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The viewer behind `Authorization: Bearer <token>`, resolved only if a resolver asks.
fn viewer(headers: &HeaderMap) -> Viewer {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    token.map_or_else(Viewer::anonymous, |t| Viewer::bearer(t.to_owned()))
}

/// Picks the response media type from `Accept`; 406 when the client accepts neither.
#[expect(clippy::result_large_err, reason = "the error is the response itself, made once per request")]
fn negotiate(headers: &HeaderMap) -> Result<MediaType, Response> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(MediaType::Json);
    };
    let mut media = None;
    for item in accept.split(',') {
        let essence = item.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/graphql-response+json" => return Ok(MediaType::GraphqlResponse),
            "application/json" | "*/*" | "application/*" | "" => media = Some(MediaType::Json),
            _ => {}
        }
    }
    media.ok_or_else(|| {
        plain_error(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            "accept application/graphql-response+json or application/json",
        )
    })
}

/// Errors before execution: no `data` entry; 400 unless the client speaks legacy JSON.
fn request_errors(media: MediaType, errors: Vec<ServerError>) -> Response {
    let status = if media == MediaType::GraphqlResponse { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    json_response(status, media, &serde_json::json!({ "errors": errors }))
}

/// An error about the HTTP request itself (not GraphQL): always a 4xx.
fn plain_error(status: StatusCode, media: MediaType, message: &str) -> Response {
    coded_error(status, media, "BAD_REQUEST", message)
}

/// An execution stopped part way: `data` is null (a transaction in flight is rolled back).
fn stopped(media: MediaType, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "data": null, "errors": [{ "message": message, "extensions": { "code": code } }] });
    json_response(StatusCode::OK, media, &body)
}

fn coded_error(status: StatusCode, media: MediaType, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    json_response(status, media, &body)
}

fn json_response(status: StatusCode, media: MediaType, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            response.headers_mut().insert(header::CONTENT_TYPE, media.header());
            response
        }
        Err(error) => {
            tracing::error!(%error, "could not serialise a GraphQL response");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
