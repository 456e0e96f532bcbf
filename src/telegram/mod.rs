//! The Telegram bot: one client of the GraphQL API. The webhook writes each update to the
//! inbox before it answers 200 (`webhook.rs`); the dispatcher claims updates from the inbox on
//! any instance — in order within a chat, concurrently across chats, payment pre-checks in a
//! lane of their own (`dispatcher.rs`); handlers render screens and keyboards and run every
//! read and write as a GraphQL operation (`operations/*.graphql`) in-process, as the Telegram
//! user. Progress messages follow their job through the schema's subscriptions, in-process
//! (`progress.rs`). What users must be told arrives as durable notifications, which the bot
//! delivers as the outbox's courier (`notifier.rs`), step by step (`delivery.rs`).

mod callback;
pub mod client;
mod delivery;
mod dispatcher;
mod handlers;
mod keyboards;
mod limiter;
mod notifier;
pub mod operations;
mod outgoing;
mod progress;
mod stars;
mod state;
mod texts;
mod webhook;
mod work;

use std::sync::Arc;

use anyhow::Context as _;
use secrecy::ExposeSecret;
use teloxide::{
    RequestError,
    payloads::{SetChatMenuButtonSetters, SetWebhookSetters},
    prelude::Requester,
    types::{AllowedUpdate, MenuButton, WebAppInfo},
};
use tokio_util::sync::CancellationToken;

use crate::adapters::cache::Cache;
use crate::adapters::outbound::{DownloadSettings, Downloads};
use crate::config::{Config, TelegramConfig};
use crate::domain::Services;
use crate::domain::notifications::{Courier, Undelivered};
use crate::graphql::ObservedSchema;
use crate::metrics::Metrics;
use client::{ApiError, ErrorCode, GraphqlClient};
use dispatcher::Dispatcher;
use limiter::Limiter;
use outgoing::{BotApi, retrying};

pub use stars::{reconcile_stars, stars_gateway};
pub use webhook::PATH as WEBHOOK_PATH;

/// What every handler and the notifier share.
pub struct BotCtx {
    pub api: BotApi,
    /// Keeps messages within Telegram's limits.
    pub limiter: Limiter,
    pub gql: GraphqlClient,
    pub cache: Arc<dyn Cache>,
    /// Fetches our own signed image links, for Telegram when it cannot reach them itself.
    pub own_links: Downloads,
    pub metrics: Arc<Metrics>,
    /// The progress messages to keep up to date.
    pub followers: progress::Followers,
    /// Where the main menu's "Open the app" button leads (https only, as Telegram requires).
    pub web_app: Option<url::Url>,
}

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("Telegram: {0}")]
    Telegram(#[from] RequestError),
    #[error("cache: {0:#}")]
    Cache(#[from] anyhow::Error),
    #[error("a temporary file: {0}")]
    TempFile(#[from] std::io::Error),
    /// The inbox or the notifications could not be read or written.
    #[error("the bot's store: {0}")]
    Store(#[from] crate::domain::Error),
    /// The outbox could not record a delivery's step.
    #[error("the outbox: {0}")]
    Outbox(Undelivered),
    /// What the API answered cannot be delivered (a notification naming the wrong kind of thing).
    #[error("undeliverable: {0}")]
    Undeliverable(&'static str),
}

impl BotError {
    /// Worth handling the update (or delivering the notification) again later.
    pub fn is_transient(&self) -> bool {
        match self {
            BotError::Api(ApiError::Refused { code, .. }) => {
                matches!(code, ErrorCode::Internal | ErrorCode::Unavailable)
            }
            BotError::Api(ApiError::Variables(..) | ApiError::Shape(..) | ApiError::UnknownOperation(_)) => false,
            BotError::Telegram(error) => outgoing::is_transient(error),
            BotError::Cache(_) | BotError::TempFile(_) | BotError::Store(_) => true,
            BotError::Outbox(undelivered) => matches!(undelivered, Undelivered::ForNow(_)),
            BotError::Undeliverable(_) => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, BotError>;

impl BotCtx {
    /// Sends a message-like request (a message, photo, album, invoice) to a chat, within the
    /// outgoing limits — waiting for them without holding a work permit — and waits out a 429.
    pub async fn deliver<R>(
        &self,
        chat: teloxide::types::ChatId,
        request: R,
    ) -> std::result::Result<teloxide::requests::Output<R>, RequestError>
    where
        R: teloxide::requests::Request<Err = RequestError>,
    {
        work::paused(self.limiter.wait(chat.0)).await;
        retrying(request).await
    }
}

pub struct TelegramBot {
    router: axum::Router,
    ctx: Arc<BotCtx>,
    dispatcher: Arc<Dispatcher>,
}

impl TelegramBot {
    /// Mounts the webhook; nothing is handled until [`TelegramBot::start`].
    pub fn new(
        config: &TelegramConfig,
        public_url: &url::Url,
        schema: ObservedSchema,
        cache: Arc<dyn Cache>,
        metrics: Arc<Metrics>,
        services: &Services,
    ) -> anyhow::Result<Self> {
        let ctx = Arc::new(BotCtx {
            api: outgoing::connect(config).context("the Bot API client")?,
            limiter: Limiter::new(config.messages_per_sec_chat, config.messages_per_sec_overall),
            gql: GraphqlClient::new(schema)?,
            cache,
            own_links: Downloads::new(DownloadSettings {
                max_bytes: 50 * 1024 * 1024,
                timeout: std::time::Duration::from_secs(30),
                allow_private: true,
            }),
            metrics: metrics.clone(),
            followers: progress::Followers::default(),
            web_app: web_app_url(public_url),
        });
        let dispatcher = Arc::new(Dispatcher::new(ctx.clone(), services.inbox.clone()));
        let gate = webhook::Webhook {
            secret: config.webhook_secret.clone(),
            inbox: services.inbox.clone(),
            metrics,
            dispatcher: dispatcher.clone(),
        };
        Ok(TelegramBot { router: webhook::router(gate), ctx, dispatcher })
    }

    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }

    /// Starts handling updates from the inbox and keeping progress messages up to date, until
    /// `shutdown`.
    pub fn start(&self, shutdown: CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
        vec![
            tokio::spawn(self.dispatcher.clone().run(shutdown.clone())),
            tokio::spawn(progress::follow_progress(self.ctx.clone(), shutdown)),
        ]
    }

    /// The bot as the channel that delivers notifications.
    pub fn courier(&self) -> Arc<dyn Courier> {
        Arc::new(notifier::TelegramCourier(self.ctx.clone()))
    }
}

fn plain_bot(config: &TelegramConfig) -> teloxide::Bot {
    teloxide::Bot::new(config.bot_token.expose_secret()).set_api_url(config.api_url.clone())
}

/// `aisha set-webhook`: points Telegram at `AISHA_PUBLIC_URL/telegram/webhook` with the secret
/// and the update types the bot handles; with an https public URL (Telegram opens Mini Apps over
/// https only) the chat menu button opens the web app too.
pub async fn set_webhook(config: &Config) -> anyhow::Result<url::Url> {
    let telegram = config.telegram.as_ref().context("TELEGRAM_BOT_TOKEN is not set")?;
    let url = config.public_url.join(WEBHOOK_PATH.trim_start_matches('/'))?;
    let bot = plain_bot(telegram);
    bot.set_webhook(url.clone())
        .secret_token(telegram.webhook_secret.expose_secret().to_owned())
        .allowed_updates([AllowedUpdate::Message, AllowedUpdate::CallbackQuery, AllowedUpdate::PreCheckoutQuery])
        .await
        .context("setWebhook")?;
    if let Some(app) = web_app_url(&config.public_url) {
        let button = MenuButton::WebApp { text: "AISHA".into(), web_app: WebAppInfo { url: app } };
        bot.set_chat_menu_button().menu_button(button).await.context("setChatMenuButton")?;
    }
    Ok(url)
}

/// Where Telegram opens the web app: the public URL's root, when it is https.
pub fn web_app_url(public_url: &url::Url) -> Option<url::Url> {
    (public_url.scheme() == "https").then(|| public_url.join("/").unwrap_or_else(|_| public_url.clone()))
}

/// `aisha delete-webhook`.
pub async fn delete_webhook(config: &Config) -> anyhow::Result<()> {
    let telegram = config.telegram.as_ref().context("TELEGRAM_BOT_TOKEN is not set")?;
    plain_bot(telegram).delete_webhook().await.context("deleteWebhook")?;
    Ok(())
}
