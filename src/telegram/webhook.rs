//! `POST /telegram/webhook`: the secret header is checked (constant time; 401), then the update
//! is written to the inbox *before* the answer — a 200 means the update is durable; a repeated
//! `update_id` is answered 200 and dropped; a database that cannot take it gets 503, so that
//! Telegram delivers again. A payment pre-check is handled at once by this instance (it holds
//! the claim from the start); everything else waits for the dispatcher, which is woken.
//!
//! teloxide's webhook router answers 200 before anything is durable, so we do not mount it.

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    routing::post,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::dispatcher::Dispatcher;
use crate::domain::auth::constant_time_eq;
use crate::domain::inbox::{InboxService, Lane, NewUpdate};
use crate::metrics::Metrics;

pub const PATH: &str = "/telegram/webhook";
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// Updates are small; anything bigger is not one.
const MAX_UPDATE_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct Webhook {
    pub secret: SecretString,
    pub inbox: InboxService,
    pub metrics: Arc<Metrics>,
    pub dispatcher: Arc<Dispatcher>,
}

pub fn router(webhook: Webhook) -> Router {
    Router::new().route(PATH, post(receive)).layer(DefaultBodyLimit::max(MAX_UPDATE_BYTES)).with_state(webhook)
}

/// Just what the inbox needs to know of an update: its id, the chat it orders with, its lane.
#[derive(Deserialize)]
struct Envelope {
    update_id: i64,
    message: Option<InChat>,
    edited_message: Option<InChat>,
    channel_post: Option<InChat>,
    edited_channel_post: Option<InChat>,
    callback_query: Option<Pressed>,
    pre_checkout_query: Option<FromUser>,
    shipping_query: Option<FromUser>,
    inline_query: Option<FromUser>,
}

#[derive(Deserialize)]
struct InChat {
    chat: Id,
}

#[derive(Deserialize)]
struct Pressed {
    from: Id,
    message: Option<InChat>,
}

#[derive(Deserialize)]
struct FromUser {
    from: Id,
}

#[derive(Deserialize)]
struct Id {
    id: i64,
}

impl Envelope {
    fn lane(&self) -> Lane {
        if self.pre_checkout_query.is_some() { Lane::Checkout } else { Lane::Chat }
    }

    /// The chat whose updates are handled in order (the sender's own, when there is no chat).
    fn chat_key(&self) -> i64 {
        let in_chat = [&self.message, &self.edited_message, &self.channel_post, &self.edited_channel_post];
        if let Some(chat) = in_chat.into_iter().flatten().next() {
            return chat.chat.id;
        }
        if let Some(pressed) = &self.callback_query {
            return pressed.message.as_ref().map_or(pressed.from.id, |m| m.chat.id);
        }
        [&self.pre_checkout_query, &self.shipping_query, &self.inline_query]
            .into_iter()
            .flatten()
            .next()
            .map_or(0, |f| f.from.id)
    }
}

async fn receive(State(webhook): State<Webhook>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let authentic = headers
        .get(SECRET_HEADER)
        .is_some_and(|v| constant_time_eq(v.as_bytes(), webhook.secret.expose_secret().as_bytes()));
    if !authentic {
        webhook.metrics.record_webhook("telegram", "refused");
        return StatusCode::UNAUTHORIZED;
    }
    let envelope = match serde_json::from_slice::<Envelope>(&body) {
        Ok(envelope) => envelope,
        Err(error) => {
            // Not an update we could ever handle: acknowledged, so Telegram does not repeat it.
            tracing::warn!(%error, "dropped a webhook body that is not an update");
            webhook.metrics.record_webhook("telegram", "unreadable");
            return StatusCode::OK;
        }
    };
    let update = NewUpdate {
        update_id: envelope.update_id,
        chat_key: envelope.chat_key(),
        lane: envelope.lane(),
        payload: String::from_utf8_lossy(&body).into_owned(),
    };
    let checkout = update.lane == Lane::Checkout;
    match webhook.inbox.store(update, checkout).await {
        Ok(Some(claimed)) => {
            webhook.metrics.record_telegram_received(false);
            webhook.metrics.record_webhook("telegram", "accepted");
            if checkout {
                webhook.dispatcher.handle_now(claimed);
            } else {
                webhook.dispatcher.wake();
            }
            StatusCode::OK
        }
        Ok(None) => {
            webhook.metrics.record_telegram_received(true);
            webhook.metrics.record_webhook("telegram", "duplicate");
            StatusCode::OK
        }
        Err(error) => {
            tracing::error!(%error, update_id = envelope.update_id, "could not store an update; Telegram will deliver it again");
            webhook.metrics.record_webhook("telegram", "unavailable");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(json: &str) -> Envelope {
        serde_json::from_str(json).expect("an envelope")
    }

    #[test]
    fn updates_are_ordered_by_their_chat_and_checks_get_their_lane() {
        let message = envelope(r#"{"update_id":1,"message":{"message_id":1,"chat":{"id":42},"from":{"id":7}}}"#);
        assert_eq!((message.chat_key(), message.lane()), (42, Lane::Chat));
        let pressed =
            envelope(r#"{"update_id":2,"callback_query":{"id":"q","from":{"id":7},"message":{"chat":{"id":42}}}}"#);
        assert_eq!(pressed.chat_key(), 42);
        let check = envelope(r#"{"update_id":3,"pre_checkout_query":{"id":"p","from":{"id":7},"currency":"XTR"}}"#);
        assert_eq!((check.chat_key(), check.lane()), (7, Lane::Checkout));
        assert_eq!(envelope(r#"{"update_id":4,"poll":{}}"#).chat_key(), 0);
        assert!(serde_json::from_str::<Envelope>(r#"{"message":{}}"#).is_err(), "an update needs its id");
    }
}
