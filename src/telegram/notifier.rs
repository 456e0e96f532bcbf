//! What reaches the user's chat without them asking. Final messages — a result, a failure and
//! its refund, a training's end, a payment credited or refunded — come from the durable
//! notifications the domain writes with each change: claimed under a lease on any instance,
//! delivered step by step (photos, then the result keyboard; a step is recorded once Telegram
//! took it, so a retry never sends it twice), retried with backoff when Telegram fails, parked
//! when it refuses for good. Progress edits come from the event bus and may be dropped; they
//! are throttled to one every few seconds per message, as Telegram's limits ask.

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use teloxide::{
    payloads::{EditMessageTextSetters, SendMessageSetters},
    prelude::Requester,
    types::{ChatId, InlineKeyboardMarkup, MessageId},
};
use tokio::sync::{Notify, Semaphore};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::client::Actor;
use super::delivery::{self, Photo, Progress, Watch};
use super::keyboards;
use super::operations::{
    AvatarDelivery, AvatarStatus as ApiAvatarStatus, GenerationDelivery, GenerationStatus, PaymentDelivery,
    RefundDelivery, avatar_delivery, generation_delivery, payment_delivery, refund_delivery,
};
use super::outgoing::{self, retrying};
use super::texts::{Lang, fill, truncate};
use super::{BotCtx, BotError, Result};
use crate::adapters::bus::EventBus;
use crate::domain::avatars::{Avatar, AvatarStatus};
use crate::domain::events::Event;
use crate::domain::generations::Generation;
use crate::domain::notifications::{Notification, NotificationKind, NotificationService};
use crate::graphql::{avatar_global_id, generation_global_id, star_payment_global_id, transaction_global_id};

/// Progress edits of one message at most this often.
const EDIT_INTERVAL: Duration = Duration::from_secs(3);
/// Notifications delivered at once.
const SLOTS: usize = 16;
/// How often an idle notifier looks for notifications made on other instances.
const IDLE: Duration = Duration::from_millis(500);
const DRAIN: Duration = Duration::from_secs(5);

/// Delivers notifications until `shutdown`, then releases what it still holds.
pub async fn deliver_notifications(
    bot: Arc<BotCtx>,
    notifications: NotificationService,
    bus: Arc<dyn EventBus>,
    shutdown: CancellationToken,
) {
    let wake = Arc::new(Notify::new());
    let listener = tokio::spawn(wake_on_news(bus, wake.clone()));
    let slots = Arc::new(Semaphore::new(SLOTS));
    let deliveries = TaskTracker::new();
    let mut rounds: u64 = 0;
    while !shutdown.is_cancelled() {
        rounds += 1;
        if rounds % 7200 == 1
            && let Err(error) = notifications.prune().await
        {
            tracing::warn!(%error, "could not prune sent notifications");
        }
        let claimed = match notifications.claim(slots.available_permits() as u64).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::error!(%error, "claiming notifications failed");
                Vec::new()
            }
        };
        let started = claimed.len();
        for notification in claimed {
            let Ok(slot) = slots.clone().try_acquire_owned() else { break };
            let (bot, notifications, wake) = (bot.clone(), notifications.clone(), wake.clone());
            deliveries.spawn(async move {
                deliver_one(&bot, &notifications, notification).await;
                drop(slot);
                wake.notify_one();
            });
        }
        if started == 0 {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(IDLE) => {}
                _ = shutdown.cancelled() => {}
            }
        }
    }
    listener.abort();
    deliveries.close();
    if tokio::time::timeout(DRAIN, deliveries.wait()).await.is_err() {
        tracing::warn!("notifications still being delivered at shutdown are released");
    }
    if let Err(error) = notifications.release_held().await {
        tracing::error!(%error, "could not release notifications; they lapse with their lease");
    }
}

/// Wakes the notifier when something ended (on any instance: the bus carries it).
async fn wake_on_news(bus: Arc<dyn EventBus>, wake: Arc<Notify>) {
    let mut events = bus.subscribe();
    while let Some(event) = events.next().await {
        let news = match &event {
            Event::GenerationUpdated(g) => g.status.is_terminal(),
            Event::AvatarUpdated(a) => {
                matches!(a.status, AvatarStatus::Ready | AvatarStatus::Failed | AvatarStatus::Cancelled)
            }
            Event::BalanceChanged { .. } => true,
            _ => false,
        };
        if news {
            wake.notify_one();
        }
    }
}

async fn deliver_one(bot: &BotCtx, notifications: &NotificationService, notification: Notification) {
    let delivered = match notification.kind {
        NotificationKind::GenerationFinished => generation_finished(bot, notifications, &notification).await,
        NotificationKind::TrainingFinished => training_finished(bot, &notification).await,
        NotificationKind::PaymentCredited => payment_credited(bot, &notification).await,
        NotificationKind::PaymentRefunded => payment_refunded(bot, &notification).await,
    };
    let recorded = match delivered {
        Ok(()) => notifications.sent(&notification).await.map(drop),
        Err(error) if error.is_transient() => {
            tracing::warn!(%error, id = notification.id, "a notification was not delivered; it will be retried");
            notifications.failed(&notification, &error.to_string()).await.map(drop)
        }
        Err(error) => {
            tracing::warn!(%error, id = notification.id, "a notification cannot be delivered; parked");
            notifications.park(&notification, &error.to_string()).await.map(drop)
        }
    };
    if let Err(error) = recorded {
        tracing::error!(%error, id = notification.id, "could not record a delivery; it may be tried again after its lease");
    }
}

/// The chat of a Telegram user, from the API's `me { telegramId }` (none for a user who never
/// wrote to the bot: nothing to deliver).
fn chat_of(telegram_id: Option<&str>) -> Option<ChatId> {
    let id = telegram_id?;
    match id.parse::<i64>() {
        Ok(id) => Some(ChatId(id)),
        Err(error) => {
            tracing::warn!(%error, id, "a user's Telegram id is not a number");
            None
        }
    }
}

/// The language of the message that shows the progress, else the user's.
fn language(language_code: Option<&str>, watch: Option<Watch>) -> Lang {
    watch.map(|w| w.lang).unwrap_or_else(|| Lang::from_code(language_code))
}

/// A generation ended: on a success the photos (step 1), then the result keyboard; otherwise
/// the failure on its progress message, or as a message of its own.
async fn generation_finished(
    bot: &BotCtx,
    notifications: &NotificationService,
    notification: &Notification,
) -> Result<()> {
    let actor = Actor::User(notification.user_id);
    let id = generation_global_id(notification.subject_id);
    let variables = generation_delivery::Variables { id: id.clone() };
    let data = bot.gql.execute::<GenerationDelivery>(&actor, variables).await?;
    let Some(chat) = chat_of(data.me.telegram_id.as_deref()) else { return Ok(()) };
    let watch = delivery::generation_watch(bot, &id).await;
    let lang = language(data.me.language_code.as_deref(), watch);
    let t = lang.texts();
    let generation = data.generation;
    let progress = Progress {
        id: &generation.id,
        status: generation.status,
        progress: generation.progress,
        error: generation.error.as_deref(),
    };
    if generation.status != GenerationStatus::Completed {
        let shown = match watch {
            Some(watch) => delivery::settle_progress(bot, progress, watch).await?,
            None => false,
        };
        if !shown {
            bot.deliver(chat, bot.api.send_message(chat, delivery::progress_text(progress, lang))).await?;
        }
        return Ok(());
    }
    let caption = truncate(&generation.prompt, 1024);
    if notification.step < 1 {
        if let Some(watch) = watch {
            delivery::settle_progress(bot, progress, watch).await?;
        }
        let photos: Vec<Photo> = generation
            .images
            .iter()
            .map(|i| Photo { image_id: i.id.clone(), url: i.url.clone(), telegram_file_id: i.telegram_file_id.clone() })
            .collect();
        delivery::send_photos(bot, &actor, chat, &photos, &caption).await?;
        if !notifications.advance(notification, 1).await? {
            tracing::warn!(id = notification.id, "a notification changed hands while its photos were sent");
        }
    }
    let buttons: Vec<(String, bool)> = generation.images.iter().map(|i| (i.id.clone(), i.favorite)).collect();
    let text = truncate(&fill(t.result, &[("prompt", &truncate(&caption, 200))]), 4096);
    bot.deliver(chat, bot.api.send_message(chat, text).reply_markup(keyboards::result(t, &id, &buttons))).await?;
    Ok(())
}

/// A training ended: on its progress message, or as a message of its own.
async fn training_finished(bot: &BotCtx, notification: &Notification) -> Result<()> {
    let id = avatar_global_id(notification.subject_id);
    let actor = Actor::User(notification.user_id);
    let data = bot.gql.execute::<AvatarDelivery>(&actor, avatar_delivery::Variables { id: id.clone() }).await?;
    let Some(chat) = chat_of(data.me.telegram_id.as_deref()) else { return Ok(()) };
    let watch = delivery::avatar_watch(bot, &id).await;
    let t = language(data.me.language_code.as_deref(), watch).texts();
    let avatar = data.avatar;
    let (text, keyboard) = match avatar.status {
        ApiAvatarStatus::Ready => (fill(t.avatar_ready, &[("name", &avatar.name)]), keyboards::use_avatar(t, &id)),
        _ => (
            fill(t.avatar_failed, &[("name", &avatar.name), ("error", &avatar.error.as_deref().unwrap_or("?"))]),
            keyboards::main_menu(t),
        ),
    };
    if let Some(watch) = watch
        && edited(bot, watch, &text, keyboard.clone()).await?
    {
        return Ok(());
    }
    bot.deliver(chat, bot.api.send_message(chat, text).reply_markup(keyboard)).await?;
    Ok(())
}

/// Edits a progress message into the final news; false if it cannot be edited any more.
async fn edited(bot: &BotCtx, watch: Watch, text: &str, keyboard: InlineKeyboardMarkup) -> Result<bool> {
    let request = bot.api.edit_message_text(ChatId(watch.chat), MessageId(watch.message), text).reply_markup(keyboard);
    match retrying(request).await {
        Ok(_) => Ok(true),
        Err(error) if outgoing::is_unchanged(&error) => Ok(true),
        Err(error) if outgoing::is_transient(&error) => Err(error.into()),
        Err(_) => Ok(false),
    }
}

async fn payment_credited(bot: &BotCtx, notification: &Notification) -> Result<()> {
    let id = transaction_global_id(notification.subject_id);
    let actor = Actor::User(notification.user_id);
    let data = bot.gql.execute::<PaymentDelivery>(&actor, payment_delivery::Variables { id }).await?;
    let Some(chat) = chat_of(data.me.telegram_id.as_deref()) else { return Ok(()) };
    let t = language(data.me.language_code.as_deref(), None).texts();
    let payment_delivery::PaymentDeliveryNode::Transaction(entry) = data.node else {
        return Err(BotError::Undeliverable("a payment notification names no transaction"));
    };
    let text = fill(t.paid, &[("credits", &entry.amount), ("balance", &entry.balance_after)]);
    bot.deliver(chat, bot.api.send_message(chat, text).reply_markup(keyboards::main_menu(t))).await?;
    Ok(())
}

async fn payment_refunded(bot: &BotCtx, notification: &Notification) -> Result<()> {
    let id = star_payment_global_id(notification.subject_id);
    let actor = Actor::User(notification.user_id);
    let data = bot.gql.execute::<RefundDelivery>(&actor, refund_delivery::Variables { id }).await?;
    let Some(chat) = chat_of(data.me.telegram_id.as_deref()) else { return Ok(()) };
    let t = language(data.me.language_code.as_deref(), None).texts();
    let refund_delivery::RefundDeliveryNode::StarPayment(payment) = data.node else {
        return Err(BotError::Undeliverable("a refund notification names no Stars payment"));
    };
    let text =
        fill(t.refunded, &[("stars", &payment.stars), ("credits", &payment.credits), ("balance", &data.me.balance)]);
    bot.deliver(chat, bot.api.send_message(chat, text).reply_markup(keyboards::main_menu(t))).await?;
    Ok(())
}

/// Keeps progress messages up to date from the bus until `shutdown` (best effort).
pub async fn follow_progress(bot: Arc<BotCtx>, bus: Arc<dyn EventBus>, shutdown: CancellationToken) {
    let mut events = bus.subscribe();
    loop {
        let event = tokio::select! {
            event = events.next() => event,
            _ = shutdown.cancelled() => return,
        };
        let Some(event) = event else { return };
        let bot = bot.clone();
        match event {
            Event::GenerationUpdated(generation) if !generation.status.is_terminal() => {
                tokio::spawn(async move { generation_progress(&bot, *generation).await });
            }
            Event::AvatarUpdated(avatar) if avatar.status == AvatarStatus::Training => {
                tokio::spawn(async move { training_progress(&bot, *avatar).await });
            }
            _ => {}
        }
    }
}

/// True at most once per message every `EDIT_INTERVAL` (across instances, with Redis).
async fn may_edit(bot: &BotCtx, key: &str) -> bool {
    bot.cache.set_if_absent(key, "1", EDIT_INTERVAL).await.unwrap_or(false)
}

async fn generation_progress(bot: &BotCtx, generation: Generation) {
    let id = generation_global_id(generation.id);
    let Some(watch) = delivery::generation_watch(bot, &id).await else { return };
    if delivery::is_settled(bot, &id).await || !may_edit(bot, &format!("tg:progress-edit:{id}")).await {
        return;
    }
    let Some(status) = GenerationStatus::from_wire_name(generation.status.as_str()) else { return };
    let snapshot = Progress { id: &id, status, progress: i64::from(generation.progress), error: None };
    if let Err(error) = delivery::settle_progress(bot, snapshot, watch).await {
        tracing::debug!(%error, "a progress edit was dropped");
    }
}

async fn training_progress(bot: &BotCtx, avatar: Avatar) {
    let id = avatar_global_id(avatar.id);
    let Some(watch) = delivery::avatar_watch(bot, &id).await else { return };
    if !may_edit(bot, &format!("tg:avatar-edit:{id}")).await {
        return;
    }
    let text = fill(watch.lang.texts().training, &[("name", &avatar.name), ("progress", &avatar.progress)]);
    let request = bot.api.edit_message_text(ChatId(watch.chat), MessageId(watch.message), text);
    if let Err(error) = retrying(request).await
        && !outgoing::is_unchanged(&error)
    {
        tracing::debug!(%error, "a training progress edit was dropped");
    }
}
