//! What reaches the user's chat without them asking: the final messages — a result, a failure
//! and its refund, a training's end, a payment credited or refunded — of the durable
//! notifications the domain writes with each change. The bot is their [`Courier`]: the outbox
//! claims, retries and parks; this tells the user, reading what to say through the API, in
//! steps (photos, then the result keyboard) so that a retry never sends a step twice. Progress
//! on the way there is `progress.rs`.

use std::sync::Arc;

use teloxide::{
    payloads::{EditMessageTextSetters, SendMessageSetters},
    prelude::Requester,
    types::{ChatId, InlineKeyboardMarkup, MessageId},
};

use super::client::Actor;
use super::delivery::{self, Photo, Progress, Watch};
use super::keyboards;
use super::operations::{
    AvatarDelivery, AvatarStatus, GenerationDelivery, GenerationStatus, ImageType, PaymentDelivery, RefundDelivery,
    avatar_delivery, generation_delivery, payment_delivery, refund_delivery,
};
use super::outgoing::{self, retrying};
use super::texts::{Lang, fill, truncate};
use super::{BotCtx, BotError, Result};
use crate::domain::notifications::{Courier, NotificationKind, Parcel, Undelivered};
use crate::graphql::{avatar_global_id, generation_global_id, star_payment_global_id, transaction_global_id};

/// The bot, delivering notifications.
pub struct TelegramCourier(pub Arc<BotCtx>);

#[async_trait::async_trait]
impl Courier for TelegramCourier {
    async fn deliver(&self, parcel: &Parcel<'_>) -> std::result::Result<(), Undelivered> {
        let bot = self.0.as_ref();
        let delivered = match parcel.kind() {
            NotificationKind::GenerationFinished => generation_finished(bot, parcel).await,
            NotificationKind::TrainingFinished => training_finished(bot, parcel).await,
            NotificationKind::PaymentCredited => payment_credited(bot, parcel).await,
            NotificationKind::PaymentRefunded => payment_refunded(bot, parcel).await,
        };
        delivered.map_err(|error| match error.is_transient() {
            true => Undelivered::ForNow(error.to_string()),
            false => Undelivered::ForGood(error.to_string()),
        })
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
async fn generation_finished(bot: &BotCtx, parcel: &Parcel<'_>) -> Result<()> {
    let actor = Actor::User(parcel.user_id());
    let id = generation_global_id(parcel.subject_id());
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
        blocked: generation.blocked_images,
        eta: generation.eta,
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
    if parcel.step() < 1 {
        if let Some(watch) = watch {
            delivery::settle_progress(bot, progress, watch).await?;
        }
        let photos: Vec<Photo> = generation
            .images
            .iter()
            .map(|i| Photo {
                image_id: i.id.clone(),
                url: i.url.clone(),
                telegram_file_id: i.telegram_file_id.clone(),
                content_type: i.content_type.clone(),
            })
            .collect();
        delivery::send_photos(bot, &actor, chat, &photos, &caption).await?;
        parcel.advance(1).await.map_err(BotError::Outbox)?;
    }
    let buttons: Vec<(String, bool)> = generation.images.iter().map(|i| (i.id.clone(), i.favorite)).collect();
    let mut text = fill(t.result, &[("prompt", &truncate(&caption, 200))]);
    if data.me.settings.show_technical_details {
        let seconds = generation.completed_at.map_or(0.0, |done| (done - generation.created_at).as_seconds_f64());
        let seed = generation.seed.map_or_else(String::new, |s| format!(" · seed {s}"));
        let details =
            fill(t.technical, &[("model", &generation.model), ("seed", &seed), ("seconds", &format!("{seconds:.1}"))]);
        text = format!("{text}\n{details}");
    }
    if generation.blocked_images > 0 {
        let (blocked, asked) = (generation.blocked_images, generation.num_images);
        text = format!("{text}\n{}", fill(t.blocked_some, &[("blocked", &blocked), ("asked", &asked)]));
    }
    let text = truncate(&text, 4096);
    let is_video = generation.images.first().is_some_and(|i| i.type_ == ImageType::Video);
    let keyboard = keyboards::result(t, &id, &buttons, is_video);
    bot.deliver(chat, bot.api.send_message(chat, text).reply_markup(keyboard)).await?;
    Ok(())
}

/// A training ended: on its progress message, or as a message of its own.
async fn training_finished(bot: &BotCtx, parcel: &Parcel<'_>) -> Result<()> {
    let id = avatar_global_id(parcel.subject_id());
    let actor = Actor::User(parcel.user_id());
    let data = bot.gql.execute::<AvatarDelivery>(&actor, avatar_delivery::Variables { id: id.clone() }).await?;
    let Some(chat) = chat_of(data.me.telegram_id.as_deref()) else { return Ok(()) };
    let watch = delivery::avatar_watch(bot, &id).await;
    if watch.is_some() {
        delivery::mark_settled(bot, &id).await;
    }
    let t = language(data.me.language_code.as_deref(), watch).texts();
    let avatar = data.avatar;
    let (text, keyboard) = match (avatar.status, avatar.error.as_deref()) {
        // A retraining that did not succeed: the avatar works as before.
        (AvatarStatus::Ready, Some(error)) => {
            (fill(t.avatar_retrain_failed, &[("name", &avatar.name), ("error", &error)]), keyboards::use_avatar(t, &id))
        }
        (AvatarStatus::Ready, None) => (fill(t.avatar_ready, &[("name", &avatar.name)]), keyboards::use_avatar(t, &id)),
        _ => (
            fill(t.avatar_failed, &[("name", &avatar.name), ("error", &avatar.error.as_deref().unwrap_or("?"))]),
            keyboards::main_menu(t, bot.web_app.as_ref()),
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

async fn payment_credited(bot: &BotCtx, parcel: &Parcel<'_>) -> Result<()> {
    let id = transaction_global_id(parcel.subject_id());
    let actor = Actor::User(parcel.user_id());
    let data = bot.gql.execute::<PaymentDelivery>(&actor, payment_delivery::Variables { id }).await?;
    let Some(chat) = chat_of(data.me.telegram_id.as_deref()) else { return Ok(()) };
    let t = language(data.me.language_code.as_deref(), None).texts();
    let payment_delivery::PaymentDeliveryNode::Transaction(entry) = data.node else {
        return Err(BotError::Undeliverable("a payment notification names no transaction"));
    };
    // A promo bonus is its own row, written right after the top-up: the balance is after both.
    let (bonus, balance) = match &entry.promo_bonus {
        Some(b) => (fill(t.paid_bonus, &[("bonus", &b.amount)]), b.balance_after),
        None => (String::new(), entry.balance_after),
    };
    let text = fill(t.paid, &[("credits", &entry.amount), ("bonus", &bonus), ("balance", &balance)]);
    bot.deliver(chat, bot.api.send_message(chat, text).reply_markup(keyboards::main_menu(t, bot.web_app.as_ref())))
        .await?;
    Ok(())
}

async fn payment_refunded(bot: &BotCtx, parcel: &Parcel<'_>) -> Result<()> {
    let id = star_payment_global_id(parcel.subject_id());
    let actor = Actor::User(parcel.user_id());
    let data = bot.gql.execute::<RefundDelivery>(&actor, refund_delivery::Variables { id }).await?;
    let Some(chat) = chat_of(data.me.telegram_id.as_deref()) else { return Ok(()) };
    let t = language(data.me.language_code.as_deref(), None).texts();
    let refund_delivery::RefundDeliveryNode::StarPayment(payment) = data.node else {
        return Err(BotError::Undeliverable("a refund notification names no Stars payment"));
    };
    let text = fill(
        t.refunded,
        &[("stars", &payment.stars), ("credits", &payment.refund_credits), ("balance", &data.me.balance)],
    );
    bot.deliver(chat, bot.api.send_message(chat, text).reply_markup(keyboards::main_menu(t, bot.web_app.as_ref())))
        .await?;
    Ok(())
}
