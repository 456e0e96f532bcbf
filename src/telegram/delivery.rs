//! Putting results in front of the user, for handlers and the notifier alike: the progress
//! message of a generation or training started in the bot (which message, in the cache), the
//! text that settles it, photos and albums (by Telegram's file id when it gave us one), and
//! remembering the file ids Telegram gives our photos.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use teloxide::{
    payloads::SendPhotoSetters,
    prelude::Requester,
    types::{ChatId, InputMedia, InputMediaPhoto, Message, MessageId},
};

use super::client::Actor;
use super::outgoing::{self, retrying};
use super::texts::{Lang, fill};
use super::{BotCtx, Result};

/// How long the bot remembers which message shows a job's progress.
const WATCH_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// A message that shows a job's progress.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Watch {
    pub chat: i64,
    pub message: i32,
    pub lang: Lang,
}

fn generation_key(generation_id: &str) -> String {
    format!("tg:progress:{generation_id}")
}

fn avatar_key(avatar_id: &str) -> String {
    format!("tg:avatar-progress:{avatar_id}")
}

async fn remember(bot: &BotCtx, key: &str, watch: Watch) {
    let value = serde_json::to_string(&watch).unwrap_or_default();
    if let Err(error) = bot.cache.set(key, &value, WATCH_TTL).await {
        tracing::warn!(%error, "could not remember a progress message");
    }
}

async fn recall(bot: &BotCtx, key: &str) -> Option<Watch> {
    match bot.cache.get(key).await {
        Ok(value) => value.and_then(|v| serde_json::from_str(&v).ok()),
        Err(error) => {
            tracing::warn!(%error, "could not read which message shows progress");
            None
        }
    }
}

/// Remembers which message shows this generation's progress.
pub async fn watch_generation(bot: &BotCtx, generation_id: &str, watch: Watch) {
    remember(bot, &generation_key(generation_id), watch).await;
}

pub async fn generation_watch(bot: &BotCtx, generation_id: &str) -> Option<Watch> {
    recall(bot, &generation_key(generation_id)).await
}

/// Remembers which message shows this avatar's training.
pub async fn watch_avatar(bot: &BotCtx, avatar_id: &str, watch: Watch) {
    remember(bot, &avatar_key(avatar_id), watch).await;
}

pub async fn avatar_watch(bot: &BotCtx, avatar_id: &str) -> Option<Watch> {
    recall(bot, &avatar_key(avatar_id)).await
}

/// The progress message's text for a generation in this state (`status`, `progress`, `error`
/// as the API gives them).
pub fn progress_text(generation: &Value, lang: Lang) -> String {
    let t = lang.texts();
    match generation["status"].as_str().unwrap_or_default() {
        "PENDING" | "QUEUED" => t.progress_queued.to_owned(),
        "RUNNING" => fill(t.progress_running, &[("progress", &generation["progress"].as_i64().unwrap_or_default())]),
        "COMPLETED" => t.done.to_owned(),
        "CANCELLED" => t.cancelled.to_owned(),
        _ => fill(t.failed, &[("error", &generation["error"].as_str().unwrap_or("?"))]),
    }
}

fn settled_key(generation_id: &str) -> String {
    format!("tg:progress-settled:{generation_id}")
}

/// Whether the generation's progress message shows its end already (a late progress edit must
/// not overwrite it).
pub async fn is_settled(bot: &BotCtx, generation_id: &str) -> bool {
    bot.cache.get(&settled_key(generation_id)).await.ok().flatten().is_some()
}

/// Shows a generation's state on its progress message; false if the message could not be
/// edited (it is gone, say), so that the caller can send the news anew.
pub async fn settle_progress(bot: &BotCtx, generation: &Value, watch: Watch) -> Result<bool> {
    let terminal = generation["status"].as_str().is_some_and(|s| ["COMPLETED", "FAILED", "CANCELLED"].contains(&s));
    if terminal
        && let Some(id) = generation["id"].as_str()
        && let Err(error) = bot.cache.set(&settled_key(id), "1", WATCH_TTL).await
    {
        tracing::debug!(%error, "could not mark a progress message settled");
    }
    let request =
        bot.api.edit_message_text(ChatId(watch.chat), MessageId(watch.message), progress_text(generation, watch.lang));
    match retrying(request).await {
        Ok(_) => Ok(true),
        Err(error) if outgoing::is_unchanged(&error) => Ok(true),
        Err(error) if outgoing::is_transient(&error) => Err(error.into()),
        Err(error) => {
            tracing::debug!(%error, "could not edit a progress message");
            Ok(false)
        }
    }
}

/// Sends one photo, or an album of 2–10; Telegram's file ids are remembered for the next time.
/// `images` are the API's `Image`s (`id`, `url`, `telegramFileId`).
pub async fn send_photos(bot: &BotCtx, actor: &Actor, chat: ChatId, images: &[Value], caption: &str) -> Result<()> {
    let mut inputs = Vec::new();
    for image in images.iter().take(10) {
        let url = image["url"].as_str().unwrap_or_default();
        inputs.push(outgoing::photo(&bot.own_links, url, image["telegramFileId"].as_str()).await);
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
        let messages = bot.deliver(chat, bot.api.send_media_group(chat, media)).await?;
        for (id, message) in ids.iter().zip(&messages) {
            remember_file_id(bot, actor, id, message).await;
        }
    }
    Ok(())
}

/// Keeps the file id Telegram gave the photo, so it is uploaded once.
pub async fn remember_file_id(bot: &BotCtx, actor: &Actor, image_id: &str, message: &Message) {
    let Some(file_id) = message.photo().and_then(|sizes| sizes.last()).map(|p| p.file.id.0.clone()) else { return };
    let variables = json!({ "imageId": image_id, "fileId": file_id });
    if let Err(error) = bot.gql.run::<Value>(actor, "RememberTelegramFileId", variables).await {
        tracing::warn!(%error, image = image_id, "could not remember a Telegram file id; the photo is uploaded again next time");
    }
}
