//! `POST /webhooks/fal`: FAL's completion callbacks. The signature is checked over the raw body
//! before anything else; a forged or stale one is a 401 and changes nothing. A redelivery is
//! answered 200 and changes nothing either.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde_json::Value;

use crate::app::AppState;
use crate::domain::jobs::{ProviderOutcome, WebhookResult};
use crate::providers::fal::webhook::{SignedHeaders, WebhookError};

pub async fn receive(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
    let (status, text, outcome) = deliver(&app, &headers, &body).await;
    app.metrics.record_webhook("fal", outcome);
    (status, text)
}

/// The answer's status and text, and the delivery's outcome for `aisha_webhook_deliveries_total`.
type Answer = (StatusCode, &'static str, &'static str);

async fn deliver(app: &AppState, headers: &HeaderMap, body: &Bytes) -> Answer {
    // Without FAL there is nothing to call us back: the path does not exist.
    if app.config.fal.key.is_none() {
        return (StatusCode::NOT_FOUND, "FAL is not configured", "not_configured");
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(request_id), Some(user_id), Some(timestamp), Some(signature)) = (
        header("x-fal-webhook-request-id"),
        header("x-fal-webhook-user-id"),
        header("x-fal-webhook-timestamp"),
        header("x-fal-webhook-signature"),
    ) else {
        return (StatusCode::UNAUTHORIZED, "missing signature headers", "refused");
    };
    let signed = SignedHeaders { request_id, user_id, timestamp, signature };
    let now = chrono::Utc::now().timestamp();
    match app.fal_webhooks.verify(&signed, body, now).await {
        Ok(()) => {}
        Err(WebhookError::KeysUnavailable(error)) => {
            tracing::error!(%error, "cannot verify a FAL webhook");
            return (StatusCode::SERVICE_UNAVAILABLE, "signing keys unavailable", "unavailable");
        }
        Err(error) => {
            tracing::warn!(%error, request_id, "refused a FAL webhook");
            return (StatusCode::UNAUTHORIZED, "invalid signature", "refused");
        }
    }
    let Ok(payload) = serde_json::from_slice::<Value>(body) else {
        return (StatusCode::BAD_REQUEST, "body is not JSON", "unreadable");
    };
    // The body's request_id is the queue's id (the header may carry the gateway's).
    let request_id = payload.get("request_id").and_then(Value::as_str).unwrap_or(request_id).to_owned();
    let outcome = match payload.get("status").and_then(Value::as_str) {
        Some("OK") => match payload.get("payload") {
            Some(output) if !output.is_null() => ProviderOutcome::Completed(output.clone()),
            _ => ProviderOutcome::Failed(format!(
                "FAL could not deliver the output: {}",
                payload.get("payload_error").map_or_else(|| "no payload".into(), Value::to_string)
            )),
        },
        // The content checker's refusal arrives as an error whose payload is FAL's 422 body.
        _ if payload.get("payload").is_some_and(crate::providers::fal::is_content_policy_violation) => {
            ProviderOutcome::Blocked
        }
        _ => ProviderOutcome::Failed(match payload.get("error") {
            Some(Value::String(message)) => message.clone(),
            _ => {
                format!("FAL reported an error: {}", payload.get("payload").map_or_else(String::new, Value::to_string))
            }
        }),
    };
    match app.services.jobs.on_provider_webhook(&request_id, outcome).await {
        Ok(WebhookResult::Applied) => (StatusCode::OK, "ok", "applied"),
        Ok(WebhookResult::AlreadySettled) => (StatusCode::OK, "already settled", "already_settled"),
        Ok(WebhookResult::InHand) => (StatusCode::OK, "in hand", "in_hand"),
        Ok(WebhookResult::UnknownRequest) => {
            tracing::warn!(request_id, "a FAL webhook for a request we do not know");
            (StatusCode::OK, "unknown request", "unknown_request")
        }
        Err(error) => {
            // A 5xx makes FAL deliver again later; polling covers us meanwhile.
            tracing::error!(%error, request_id, "handling a FAL webhook failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "try again", "unavailable")
        }
    }
}
