//! The Telegram bot: one client of the GraphQL API. It takes updates from the webhook, keeps
//! per-chat UI state in the cache, renders screens and keyboards, and runs every read and write
//! as a GraphQL operation (`operations/*.graphql`) in-process, as the Telegram user.

mod callback;
pub mod client;
mod handlers;
mod keyboards;
mod limiter;
mod notifier;
mod outgoing;
mod queue;
mod state;
mod texts;
mod webhook;

use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use teloxide::{
    payloads::SetWebhookSetters,
    prelude::Requester,
    types::{AllowedUpdate, Update},
    update_listeners::{AsUpdateStream, webhooks},
};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::adapters::{bus::EventBus, cache::Cache};
use crate::config::{Config, TelegramConfig};
use crate::graphql::ObservedSchema;
use crate::metrics::Metrics;
use handlers::BotCtx;

pub use webhook::PATH as WEBHOOK_PATH;

pub struct TelegramBot {
    router: axum::Router,
    updates: Mutex<Option<UnboundedReceiver<Update>>>,
    ctx: Arc<BotCtx>,
}

impl TelegramBot {
    /// Mounts the webhook; nothing is processed until [`TelegramBot::start`].
    pub fn new(config: &TelegramConfig, public_url: &url::Url, schema: ObservedSchema, cache: Arc<dyn Cache>, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        let url = public_url.join(WEBHOOK_PATH.trim_start_matches('/')).context("the webhook URL")?;
        let options = webhooks::Options::new(([127, 0, 0, 1], 0).into(), url)
            .path(WEBHOOK_PATH.to_owned())
            .secret_token(config.webhook_secret.expose_secret().to_owned());
        let (mut listener, _stop, router) = webhooks::axum_no_setup(options);
        // teloxide's listener must live as long as its router; it feeds our per-chat queues.
        let (sender, updates) = unbounded_channel();
        tokio::spawn(async move {
            let stream = listener.as_stream();
            futures_util::pin_mut!(stream);
            while let Some(update) = stream.next().await {
                let Ok(update) = update;
                if sender.send(update).is_err() {
                    break;
                }
            }
        });
        let gate = webhook::Gate { secret: config.webhook_secret.clone(), cache: cache.clone(), metrics: metrics.clone() };
        let ctx = BotCtx {
            api: outgoing::connect(config),
            limiter: limiter::Limiter::new(config.messages_per_sec_chat, config.messages_per_sec_overall),
            gql: client::GraphqlClient::new(schema)?,
            cache,
            http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build()?,
            metrics,
        };
        Ok(TelegramBot { router: webhook::guarded(router, gate), updates: Mutex::new(Some(updates)), ctx: Arc::new(ctx) })
    }

    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }

    /// Starts handling updates and sending notifications from the bus.
    pub fn start(&self, bus: Arc<dyn EventBus>) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        if let Some(updates) = self.updates.lock().unwrap_or_else(|p| p.into_inner()).take() {
            tasks.push(tokio::spawn(queue::run(self.ctx.clone(), updates)));
        }
        tasks.push(tokio::spawn(notifier::run(self.ctx.clone(), bus)));
        tasks
    }
}

fn plain_bot(config: &TelegramConfig) -> teloxide::Bot {
    teloxide::Bot::new(config.bot_token.expose_secret()).set_api_url(config.api_url.clone())
}

/// `aisha set-webhook`: points Telegram at `AISHA_PUBLIC_URL/telegram/webhook` with the secret
/// and the update types the bot handles.
pub async fn set_webhook(config: &Config) -> anyhow::Result<url::Url> {
    let telegram = config.telegram.as_ref().context("TELEGRAM_BOT_TOKEN is not set")?;
    let url = config.public_url.join(WEBHOOK_PATH.trim_start_matches('/'))?;
    plain_bot(telegram)
        .set_webhook(url.clone())
        .secret_token(telegram.webhook_secret.expose_secret().to_owned())
        .allowed_updates([AllowedUpdate::Message, AllowedUpdate::CallbackQuery, AllowedUpdate::PreCheckoutQuery])
        .await
        .context("setWebhook")?;
    Ok(url)
}

/// `aisha delete-webhook`.
pub async fn delete_webhook(config: &Config) -> anyhow::Result<()> {
    let telegram = config.telegram.as_ref().context("TELEGRAM_BOT_TOKEN is not set")?;
    plain_bot(telegram).delete_webhook().await.context("deleteWebhook")?;
    Ok(())
}
