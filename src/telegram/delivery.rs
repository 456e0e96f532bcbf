//! Putting results in front of the user, for handlers and the notifier alike: the progress
//! message of a generation or training started in the bot (which message, in the cache), the
//! text that settles it, photos, albums and clips (by Telegram's file id when it gave us one),
//! and remembering the file ids Telegram gives them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use teloxide::{
    payloads::{SendAnimationSetters, SendPhotoSetters, SendVideoSetters},
    prelude::Requester,
    types::{ChatId, InputFile, InputMedia, InputMediaAnimation, InputMediaPhoto, InputMediaVideo, Message, MessageId},
};

use super::client::Actor;
use super::operations::{GenerationStatus, RememberTelegramFileId, remember_telegram_file_id};
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
    let value = match serde_json::to_string(&watch) {
        Ok(value) => value,
        Err(error) => return tracing::error!(%error, "could not write down a progress message"),
    };
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

/// Where a generation is, as its progress message shows it.
#[derive(Clone, Copy, Debug)]
pub struct Progress<'a> {
    /// The generation's global id.
    pub id: &'a str,
    pub status: GenerationStatus,
    pub progress: i64,
    pub error: Option<&'a str>,
    /// Pictures the safety filter blocked.
    pub blocked: i64,
    /// Seconds left, about (while active).
    pub eta: Option<i64>,
}

/// The progress message's text for a generation in this state.
pub fn progress_text(generation: Progress<'_>, lang: Lang) -> String {
    let t = lang.texts();
    let eta = || generation.eta.map_or_else(String::new, |seconds| fill(t.progress_eta, &[("seconds", &seconds)]));
    match generation.status {
        GenerationStatus::Pending | GenerationStatus::Queued => format!("{}{}", t.progress_queued, eta()),
        GenerationStatus::Running => {
            format!("{}{}", fill(t.progress_running, &[("progress", &generation.progress)]), eta())
        }
        GenerationStatus::Completed => t.done.to_owned(),
        GenerationStatus::Cancelled => t.cancelled.to_owned(),
        GenerationStatus::Failed if generation.blocked > 0 => t.blocked_all.to_owned(),
        GenerationStatus::Failed => fill(t.failed, &[("error", &generation.error.unwrap_or("?"))]),
    }
}

fn settled_key(job_id: &str) -> String {
    format!("tg:progress-settled:{job_id}")
}

/// Whether a job's progress message (by the job's global id) shows its end already: a late
/// progress edit must not overwrite it.
pub async fn is_settled(bot: &BotCtx, job_id: &str) -> bool {
    bot.cache.get(&settled_key(job_id)).await.ok().flatten().is_some()
}

/// Marks a job's progress message as showing its end.
pub async fn mark_settled(bot: &BotCtx, job_id: &str) {
    if let Err(error) = bot.cache.set(&settled_key(job_id), "1", WATCH_TTL).await {
        tracing::debug!(%error, "could not mark a progress message settled");
    }
}

/// Shows a generation's state on its progress message; false if the message could not be
/// edited (it is gone, say), so that the caller can send the news anew.
pub async fn settle_progress(bot: &BotCtx, generation: Progress<'_>, watch: Watch) -> Result<bool> {
    if generation.status.is_terminal() {
        mark_settled(bot, generation.id).await;
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

/// A photo or clip to send: the API's `Image` (`id`, `url`, `telegramFileId`, `contentType`).
#[derive(Clone, Debug)]
pub struct Photo {
    pub image_id: String,
    pub url: String,
    pub telegram_file_id: Option<String>,
    pub content_type: String,
}

/// How Telegram shows a stored file: a GIF clip is an animation, an MP4 a video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Photo,
    Animation,
    Video,
}

impl MediaKind {
    pub fn of(content_type: &str) -> Self {
        match content_type {
            "image/gif" => MediaKind::Animation,
            t if t.starts_with("video/") => MediaKind::Video,
            _ => MediaKind::Photo,
        }
    }

    /// The name an uploaded file gets, by which Telegram tells its kind.
    pub fn file_name(self) -> &'static str {
        match self {
            MediaKind::Photo => "image.png",
            MediaKind::Animation => "clip.gif",
            MediaKind::Video => "clip.mp4",
        }
    }

    /// The file as an item of `editMessageMedia`, with its caption.
    pub fn input_media(self, file: InputFile, caption: String) -> InputMedia {
        match self {
            MediaKind::Photo => InputMedia::Photo(InputMediaPhoto::new(file).caption(caption)),
            MediaKind::Animation => InputMedia::Animation(InputMediaAnimation::new(file).caption(caption)),
            MediaKind::Video => InputMedia::Video(InputMediaVideo::new(file).caption(caption)),
        }
    }
}

/// Sends one photo or clip with its caption (and keyboard); the message Telegram made.
pub async fn send_media(
    bot: &BotCtx,
    chat: ChatId,
    kind: MediaKind,
    file: InputFile,
    caption: String,
    keyboard: Option<teloxide::types::InlineKeyboardMarkup>,
) -> Result<Message> {
    // Three request types with the same setters.
    macro_rules! send {
        ($request:expr) => {{
            let request = $request.caption(caption);
            match keyboard {
                Some(keyboard) => bot.deliver(chat, request.reply_markup(keyboard)).await?,
                None => bot.deliver(chat, request).await?,
            }
        }};
    }
    Ok(match kind {
        MediaKind::Photo => send!(bot.api.send_photo(chat, file)),
        MediaKind::Animation => send!(bot.api.send_animation(chat, file)),
        MediaKind::Video => send!(bot.api.send_video(chat, file)),
    })
}

/// Sends one photo or clip, or an album of 2–10 photos; Telegram's file ids are remembered for
/// the next time.
pub async fn send_photos(bot: &BotCtx, actor: &Actor, chat: ChatId, photos: &[Photo], caption: &str) -> Result<()> {
    let photos = &photos[..photos.len().min(10)];
    let mut inputs = Vec::new();
    for photo in photos {
        let kind = MediaKind::of(&photo.content_type);
        inputs.push(outgoing::media(&bot.own_links, &photo.url, photo.telegram_file_id.as_deref(), kind).await);
    }
    if inputs.len() == 1 {
        let input = inputs.remove(0);
        let kind = MediaKind::of(&photos[0].content_type);
        let message = send_media(bot, chat, kind, input, caption.to_owned(), None).await?;
        remember_file_id(bot, actor, &photos[0].image_id, &message).await;
    } else if !inputs.is_empty() {
        let media = inputs.into_iter().enumerate().map(|(i, photo)| {
            let photo = InputMediaPhoto::new(photo);
            InputMedia::Photo(if i == 0 { photo.caption(caption) } else { photo })
        });
        let messages = bot.deliver(chat, bot.api.send_media_group(chat, media)).await?;
        for (photo, message) in photos.iter().zip(&messages) {
            remember_file_id(bot, actor, &photo.image_id, message).await;
        }
    }
    Ok(())
}

/// Keeps the file id Telegram gave the photo or clip, so it is uploaded once.
pub async fn remember_file_id(bot: &BotCtx, actor: &Actor, image_id: &str, message: &Message) {
    let photo = message.photo().and_then(|sizes| sizes.last()).map(|p| &p.file);
    let clip = message.animation().map(|a| &a.file).or_else(|| message.video().map(|v| &v.file));
    let Some(file_id) = photo.or(clip).map(|file| file.id.0.clone()) else { return };
    let variables = remember_telegram_file_id::Variables { image_id: image_id.to_owned(), file_id };
    if let Err(error) = bot.gql.execute::<RememberTelegramFileId>(actor, variables).await {
        tracing::warn!(%error, image = image_id, "could not remember a Telegram file id; the photo is uploaded again next time");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(status: GenerationStatus, eta: Option<i64>, blocked: i64) -> Progress<'static> {
        Progress { id: "g", status, progress: 40, error: Some("the safety filter blocked every picture"), blocked, eta }
    }

    #[test]
    fn the_progress_text_tells_the_eta_and_a_blocked_generation_in_plain_words() {
        let text = progress_text(progress(GenerationStatus::Running, Some(12), 0), Lang::En);
        assert_eq!(text, "⏳ Drawing… 40% · about 12 s left");
        assert_eq!(progress_text(progress(GenerationStatus::Queued, None, 0), Lang::En), "⏳ Queued…");
        let blocked = progress_text(progress(GenerationStatus::Failed, None, 2), Lang::Ru);
        assert!(blocked.starts_with("🛡 Фильтр безопасности"), "{blocked}");
    }
}
