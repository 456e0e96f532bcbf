//! Results to the user's chat, once, whoever started the generation or training (bot, web or
//! API), from the event bus; and the progress message of one started in the bot, edited as
//! progress arrives — at most every few seconds, as Telegram's limits ask. "Once" holds across instances:
//! the first to set a dedupe mark in the cache (Redis when configured) delivers.

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use teloxide::{
    payloads::{EditMessageTextSetters, SendMessageSetters, SendPhotoSetters},
    prelude::Requester,
    types::{ChatId, InputMedia, InputMediaPhoto, MessageId},
};

use super::client::Actor;
use super::handlers::{BotCtx, remember_file_id};
use super::keyboards;
use super::outgoing::{self, retrying};
use super::texts::{Lang, fill, truncate};
use crate::adapters::bus::EventBus;
use crate::domain::avatars::{Avatar, AvatarStatus};
use crate::domain::{events::Event, generations::Generation};
use crate::graphql::{avatar_global_id, generation_global_id};

/// Progress edits of one message at most this often.
const EDIT_INTERVAL: Duration = Duration::from_secs(3);
const DELIVERED_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// A progress message to keep up to date.
#[derive(Serialize, Deserialize)]
struct Watch {
    chat: i64,
    message: i32,
    lang: Lang,
}

fn watch_key(generation_id: &str) -> String {
    format!("tg:progress:{generation_id}")
}

/// Remembers which message shows this generation's progress.
pub async fn watch(bot: &BotCtx, generation_id: &str, chat: ChatId, message: MessageId, lang: Lang) {
    let value = serde_json::to_string(&Watch { chat: chat.0, message: message.0, lang }).unwrap_or_default();
    if let Err(error) = bot.cache.set(&watch_key(generation_id), &value, DELIVERED_TTL).await {
        tracing::warn!(%error, "could not remember a progress message");
    }
}

fn avatar_watch_key(avatar_id: &str) -> String {
    format!("tg:avatar-progress:{avatar_id}")
}

/// Remembers which message shows this avatar's training.
pub async fn watch_avatar(bot: &BotCtx, avatar_id: &str, chat: ChatId, message: MessageId, lang: Lang) {
    let value = serde_json::to_string(&Watch { chat: chat.0, message: message.0, lang }).unwrap_or_default();
    if let Err(error) = bot.cache.set(&avatar_watch_key(avatar_id), &value, DELIVERED_TTL).await {
        tracing::warn!(%error, "could not remember a training message");
    }
}

/// Follows the bus until it ends.
pub async fn run(bot: Arc<BotCtx>, bus: Arc<dyn EventBus>) {
    let mut events = bus.subscribe();
    while let Some(event) = events.next().await {
        let bot = bot.clone();
        match event {
            Event::GenerationUpdated(generation) => {
                tokio::spawn(async move { on_update(&bot, *generation).await });
            }
            Event::AvatarUpdated(avatar) => {
                tokio::spawn(async move { on_avatar(&bot, *avatar).await });
            }
            _ => {}
        }
    }
}

async fn load_watch(bot: &BotCtx, key: &str) -> Option<Watch> {
    bot.cache.get(key).await.ok().flatten().and_then(|v| serde_json::from_str(&v).ok())
}

/// A training's progress on its message; its end told once (per training), with the next step.
async fn on_avatar(bot: &BotCtx, avatar: Avatar) {
    let id = avatar_global_id(avatar.id);
    let watch = load_watch(bot, &avatar_watch_key(&id)).await;
    let Some(job) = avatar.training_job_id else { return };
    match avatar.status {
        AvatarStatus::Training => {
            let Some(watch) = watch else { return };
            if bot.cache.set_if_absent(&format!("tg:avatar-edit:{id}"), "1", EDIT_INTERVAL).await.unwrap_or(false) {
                let t = watch.lang.texts();
                let text = fill(t.training, &[("name", &avatar.name), ("progress", &avatar.progress)]);
                if let Err(error) = retrying(bot.api.edit_message_text(ChatId(watch.chat), MessageId(watch.message), text)).await
                    && !outgoing::is_unchanged(&error)
                {
                    tracing::debug!(%error, "could not edit a training message");
                }
            }
        }
        AvatarStatus::Ready | AvatarStatus::Failed | AvatarStatus::Cancelled => {
            if !bot.cache.set_if_absent(&format!("tg:trained:{job}"), "1", DELIVERED_TTL).await.unwrap_or(false) {
                return;
            }
            if let Err(error) = deliver_avatar(bot, avatar.user_id, &id, watch).await {
                tracing::warn!(%error, avatar = id, "could not tell Telegram about a training");
            }
        }
        AvatarStatus::Draft => {}
    }
}

async fn deliver_avatar(bot: &BotCtx, user_id: i64, avatar_id: &str, watch: Option<Watch>) -> Result<(), super::handlers::BotError> {
    let data: Value = bot.gql.run(&Actor::User(user_id), "AvatarDelivery", json!({ "id": avatar_id })).await?;
    let Some(chat) = data["me"]["telegramId"].as_str().and_then(|id| id.parse::<i64>().ok()).map(ChatId) else {
        return Ok(()); // not a Telegram user
    };
    let lang = watch.as_ref().map(|w| w.lang).unwrap_or_else(|| Lang::from_code(data["me"]["languageCode"].as_str()));
    let t = lang.texts();
    let avatar = &data["avatar"];
    let name = avatar["name"].as_str().unwrap_or_default();
    let (text, keyboard) = match avatar["status"].as_str().unwrap_or_default() {
        "READY" => (fill(t.avatar_ready, &[("name", &name)]), keyboards::use_avatar(t, avatar_id)),
        _ => (
            fill(t.avatar_failed, &[("name", &name), ("error", &avatar["error"].as_str().unwrap_or("?"))]),
            keyboards::main_menu(t),
        ),
    };
    match watch {
        Some(watch) => {
            let edit = bot.api.edit_message_text(chat, MessageId(watch.message), text).reply_markup(keyboard);
            retrying(edit).await?;
        }
        None => {
            bot.deliver(chat, bot.api.send_message(chat, text).reply_markup(keyboard)).await?;
        }
    }
    Ok(())
}

async fn on_update(bot: &BotCtx, generation: Generation) {
    let id = generation_global_id(generation.id);
    let watch = load_watch(bot, &watch_key(&id)).await;
    if !generation.status.is_terminal() {
        if let Some(watch) = watch {
            let throttle = format!("tg:progress-edit:{id}");
            if bot.cache.set_if_absent(&throttle, "1", EDIT_INTERVAL).await.unwrap_or(false) {
                let snapshot = json!({ "status": generation.status.as_str(), "progress": generation.progress });
                settle_progress(bot, &snapshot, ChatId(watch.chat), MessageId(watch.message), watch.lang).await;
            }
        }
        return;
    }
    match bot.cache.set_if_absent(&format!("tg:delivered:{id}"), "1", DELIVERED_TTL).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(error) => {
            tracing::warn!(%error, "no dedupe mark: a result is not sent rather than maybe sent twice");
            return;
        }
    }
    if let Err(error) = deliver(bot, generation.user_id, &id, watch).await {
        tracing::warn!(%error, generation = id, "could not deliver a result to Telegram");
    }
}

/// Shows the state of a generation on its progress message.
pub async fn settle_progress(bot: &BotCtx, generation: &Value, chat: ChatId, message: MessageId, lang: Lang) {
    let t = lang.texts();
    let text = match generation["status"].as_str().unwrap_or_default() {
        "PENDING" | "QUEUED" => t.progress_queued.to_owned(),
        "RUNNING" => fill(t.progress_running, &[("progress", &generation["progress"].as_i64().unwrap_or_default())]),
        "COMPLETED" => t.done.to_owned(),
        "CANCELLED" => t.cancelled.to_owned(),
        _ => fill(t.failed, &[("error", &generation["error"].as_str().unwrap_or("?"))]),
    };
    match retrying(bot.api.edit_message_text(chat, message, text)).await {
        Ok(_) => {}
        Err(error) if outgoing::is_unchanged(&error) => {}
        Err(error) => tracing::debug!(%error, "could not edit a progress message"),
    }
}

async fn deliver(bot: &BotCtx, user_id: i64, generation_id: &str, watch: Option<Watch>) -> Result<(), super::handlers::BotError> {
    let actor = Actor::User(user_id);
    let data: Value = bot.gql.run(&actor, "Delivery", json!({ "id": generation_id })).await?;
    let Some(chat) = data["me"]["telegramId"].as_str().and_then(|id| id.parse::<i64>().ok()).map(ChatId) else {
        return Ok(()); // not a Telegram user
    };
    let lang = watch.as_ref().map(|w| w.lang).unwrap_or_else(|| Lang::from_code(data["me"]["languageCode"].as_str()));
    let t = lang.texts();
    let generation = &data["generation"];
    if let Some(watch) = &watch {
        settle_progress(bot, generation, chat, MessageId(watch.message), lang).await;
    }
    if generation["status"] != "COMPLETED" {
        if watch.is_none() {
            let text = if generation["status"] == "CANCELLED" {
                t.cancelled.to_owned()
            } else {
                fill(t.failed, &[("error", &generation["error"].as_str().unwrap_or("?"))])
            };
            bot.deliver(chat, bot.api.send_message(chat, text)).await?;
        }
        return Ok(());
    }
    let images = generation["images"].as_array().cloned().unwrap_or_default();
    let caption = truncate(generation["prompt"].as_str().unwrap_or_default(), 1024);
    send_photos(bot, &actor, chat, &images, &caption).await?;
    let buttons: Vec<(String, bool)> = images
        .iter()
        .filter_map(|i| Some((i["id"].as_str()?.to_owned(), i["favorite"].as_bool().unwrap_or(false))))
        .collect();
    let text = truncate(&fill(t.result, &[("prompt", &truncate(&caption, 200))]), 4096);
    bot.deliver(chat, bot.api.send_message(chat, text).reply_markup(keyboards::result(t, generation_id, &buttons))).await?;
    Ok(())
}

/// One photo, or an album of 2–10; Telegram's file ids are remembered for the next time.
async fn send_photos(bot: &BotCtx, actor: &Actor, chat: ChatId, images: &[Value], caption: &str) -> Result<(), super::handlers::BotError> {
    let mut inputs = Vec::new();
    for image in images {
        let url = image["url"].as_str().unwrap_or_default();
        inputs.push(outgoing::photo(&bot.http, url, image["telegramFileId"].as_str()).await);
    }
    let ids: Vec<&str> = images.iter().map(|i| i["id"].as_str().unwrap_or_default()).collect();
    if inputs.len() == 1 {
        let photo = inputs.remove(0);
        let message = bot.deliver(chat, bot.api.send_photo(chat, photo).caption(caption)).await?;
        remember_file_id(bot, actor, ids[0], &message).await;
    } else if !inputs.is_empty() {
        let media = inputs.into_iter().enumerate().map(|(i, photo)| {
            let photo = InputMediaPhoto::new(photo);
            InputMedia::Photo(if i == 0 { photo.caption(caption) } else { photo })
        });
        let messages = bot.deliver(chat, bot.api.send_media_group(chat, media.take(10))).await?;
        for (id, message) in ids.iter().zip(&messages) {
            remember_file_id(bot, actor, id, message).await;
        }
    }
    Ok(())
}
