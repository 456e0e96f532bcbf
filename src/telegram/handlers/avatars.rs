//! "My avatars": the list, a new avatar (name → type → photos in the chat, albums included,
//! with a running count and each refusal) → training with the price → progress (the notifier)
//! → ready → generating with it.

use std::io::{Seek, Write};

use async_graphql::UploadValue;
use teloxide::{
    net::Download,
    payloads::EditMessageTextSetters,
    prelude::Requester,
    types::{FileId, Message, MessageId},
};

use super::{BotError, Result, Turn, create};
use crate::telegram::client::{ApiError, ErrorCode};
use crate::telegram::delivery::{self, Watch};
use crate::telegram::keyboards;
use crate::telegram::operations::{
    AddAvatarPhotos, Avatar, AvatarStatus, Avatars, CancelAvatarTraining, CreateAvatar, DeleteAvatar, PhotoStatus,
    RenameAvatar, SetMainAvatar, StartAvatarTraining, TrainingType, add_avatar_photos, avatar, avatars,
    cancel_avatar_training, create_avatar, delete_avatar, rename_avatar, set_main_avatar, start_avatar_training,
};
use crate::telegram::outgoing::{is_unchanged, retrying};
use crate::telegram::state::{Draft, Screen};
use crate::telegram::texts::fill;

/// Telegram's biggest download for bots is 20 MB, as is our limit per photo.
const MAX_DOWNLOAD: u64 = 20 * 1024 * 1024;

pub async fn list(turn: &mut Turn<'_>) -> Result<()> {
    let data = turn.execute::<Avatars>(avatars::Variables).await?;
    let t = turn.t();
    let avatars: Vec<(String, String)> =
        data.avatars.into_iter().map(|a| (a.id, format!("{} · {}", a.name, t.avatar_status(a.status)))).collect();
    let text = if avatars.is_empty() { t.no_avatars } else { t.avatars };
    turn.state.avatar = None;
    turn.show(Screen::Avatars, text, Some(keyboards::avatars(t, &avatars))).await
}

pub async fn ask_name(turn: &mut Turn<'_>) -> Result<()> {
    let t = turn.t();
    turn.show(Screen::AwaitAvatarName, t.ask_avatar_name, Some(keyboards::only_back(t))).await
}

/// The name is kept as typed; the API judges it when the avatar is created.
pub async fn name_received(turn: &mut Turn<'_>, name: &str) -> Result<()> {
    let t = turn.t();
    turn.state.avatar_name = Some(name.to_owned());
    turn.show(Screen::AvatarKind, t.ask_avatar_kind, Some(keyboards::avatar_kinds(t))).await
}

pub async fn kind_chosen(turn: &mut Turn<'_>, style: bool) -> Result<()> {
    let Some(name) = turn.state.avatar_name.take() else { return ask_name(turn).await };
    let training_type = if style { TrainingType::Style } else { TrainingType::Portrait };
    let input = create_avatar::CreateAvatarInput { name, training_type, is_main: false };
    let created = match turn.execute::<CreateAvatar>(create_avatar::Variables { input }).await {
        Ok(created) => created.create_avatar,
        Err(BotError::Api(ApiError::Refused { code: ErrorCode::BadUserInput, message, .. })) => {
            // A name the API refuses: say why and ask again.
            let t = turn.t();
            turn.send(&message, None).await?;
            return turn.show(Screen::AwaitAvatarName, t.ask_avatar_name, Some(keyboards::only_back(t))).await;
        }
        Err(error) => return Err(error),
    };
    ask_photos(turn, &created.id).await
}

/// The photo-collecting screen, whose message counts the photos as they come.
pub async fn ask_photos(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    let avatar = fetch(turn, avatar_id).await?;
    let (text, keyboard) = photos_screen(turn, avatar_id, &avatar);
    turn.state.avatar = Some(avatar_id.to_owned());
    turn.show(Screen::AwaitPhotos, &text, Some(keyboard)).await
}

async fn fetch(turn: &Turn<'_>, avatar_id: &str) -> Result<avatar::AvatarAvatar> {
    Ok(turn.execute::<Avatar>(avatar::Variables { id: avatar_id.to_owned() }).await?.avatar)
}

fn photos_screen(
    turn: &Turn<'_>,
    avatar_id: &str,
    avatar: &avatar::AvatarAvatar,
) -> (String, teloxide::types::InlineKeyboardMarkup) {
    let t = turn.t();
    let text = fill(t.ask_photos, &[("name", &avatar.name), ("count", &avatar.photo_count)]);
    let train = avatar.can_train.then_some(avatar.training_price);
    (text, keyboards::photos(t, avatar_id, train))
}

/// The file of a photo message (the largest size), or of an image sent as a document.
pub fn photo_file(message: &Message) -> Option<FileId> {
    if let Some(sizes) = message.photo() {
        return sizes.last().map(|p| p.file.id.clone());
    }
    let document = message.document()?;
    let is_image = document.mime_type.as_ref().is_some_and(|m| m.type_() == "image");
    is_image.then(|| document.file.id.clone())
}

/// A Telegram file, or `None` once it streams past `MAX_DOWNLOAD`, whatever `getFile` said.
async fn download_capped(turn: &Turn<'_>, path: &str) -> Result<Option<Vec<u8>>> {
    use futures_util::StreamExt as _;
    let mut stream = turn.bot.api.download_file_stream(path);
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(teloxide::RequestError::from)?;
        if (bytes.len() + chunk.len()) as u64 > MAX_DOWNLOAD {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

/// A photo arrived: download it from Telegram and hand it to the API, which judges it. The
/// count message is updated; a refusal gets a message of its own.
pub async fn photo_received(turn: &mut Turn<'_>, file_id: FileId) -> Result<()> {
    let t = turn.t();
    let avatar_id = match (&turn.state.screen, &turn.state.avatar) {
        (Screen::AwaitPhotos, Some(id)) => id.clone(),
        _ => return turn.send(t.unknown_command, None).await.map(drop),
    };
    let file = turn.bot.api.get_file(file_id).await?;
    let bytes = match u64::from(file.size) {
        size if size > MAX_DOWNLOAD => None,
        _ => download_capped(turn, &file.path).await?,
    };
    let Some(bytes) = bytes else {
        let reason = fill(t.photo_rejected, &[("reason", &"> 20 MB")]);
        return turn.send(&reason, None).await.map(drop);
    };
    let name = file.path.rsplit('/').next().unwrap_or("photo.jpg").to_owned();
    let upload = to_upload(name, bytes)?;
    let variables = add_avatar_photos::Variables { id: avatar_id.clone(), photos: vec![()] };
    let files = vec![("variables.photos.0".into(), upload)];
    let added = match turn.bot.gql.execute_with_files::<AddAvatarPhotos>(&turn.actor, variables, files).await {
        Ok(data) => data.add_avatar_photos,
        Err(ApiError::Refused { code: ErrorCode::BadUserInput, message, .. }) => {
            return turn.send(&message, Some(keyboards::only_back(t))).await.map(drop);
        }
        Err(error) => return Err(error.into()),
    };
    if let Some(last) = added.photos.last()
        && last.status == PhotoStatus::Rejected
    {
        let reason = fill(t.photo_rejected, &[("reason", &last.reject_reason.as_deref().unwrap_or("?"))]);
        turn.send(&reason, None).await?;
    }
    let avatar = fetch(turn, &avatar_id).await?;
    let (text, keyboard) = photos_screen(turn, &avatar_id, &avatar);
    if let Some(message) = turn.state.screen_message {
        let request = turn.bot.api.edit_message_text(turn.chat, MessageId(message), text).reply_markup(keyboard);
        match retrying(request).await {
            Ok(_) => {}
            Err(error) if is_unchanged(&error) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// An upload as a multipart request would bring it: a temporary file.
fn to_upload(file_name: String, bytes: Vec<u8>) -> std::io::Result<UploadValue> {
    let mut content = tempfile::tempfile()?;
    content.write_all(&bytes)?;
    content.rewind()?;
    Ok(UploadValue { filename: file_name, content_type: None, content })
}

/// Starts training; the message shows progress until the notifier says it is done.
pub async fn train(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    let t = turn.t();
    let variables = start_avatar_training::Variables { id: avatar_id.to_owned() };
    let started = match turn.execute::<StartAvatarTraining>(variables).await {
        Ok(started) => started.start_avatar_training,
        Err(BotError::Api(error)) if error.code() == ErrorCode::InsufficientCredits => {
            return turn.show_not_enough(Screen::Avatar, &error).await;
        }
        Err(BotError::Api(ApiError::Refused { code: ErrorCode::BadUserInput, message, .. })) => {
            return turn.show(Screen::Avatar, &message, Some(keyboards::only_back(t))).await;
        }
        Err(error) => return Err(error),
    };
    let text = fill(t.training, &[("name", &started.name), ("progress", &started.progress)]);
    turn.show(Screen::Avatar, &text, None).await?;
    if let Some(message) = turn.state.screen_message {
        let watch = Watch { chat: turn.chat.0, message, lang: turn.lang() };
        delivery::watch_avatar(turn.bot, avatar_id, watch).await;
        turn.bot.followers.training(turn.actor.clone(), avatar_id, watch, &text);
    }
    Ok(())
}

/// Stops the training (refunded); the card shows the avatar as it is now.
pub async fn cancel_training(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    let variables = cancel_avatar_training::Variables { id: avatar_id.to_owned() };
    match turn.execute::<CancelAvatarTraining>(variables).await {
        Ok(_) => open(turn, avatar_id).await,
        // It ended meanwhile: the card shows how.
        Err(BotError::Api(error)) if error.code() == ErrorCode::BadUserInput => open(turn, avatar_id).await,
        Err(error) => Err(error),
    }
}

pub async fn open(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    let avatar = fetch(turn, avatar_id).await?;
    let t = turn.t();
    let mut text = fill(
        t.avatar_card,
        &[
            ("name", &avatar.name),
            ("status", &t.avatar_status(avatar.status)),
            ("photos", &avatar.photo_count),
            ("generations", &avatar.generation_count),
        ],
    );
    if avatar.status == AvatarStatus::Training {
        text.push_str(&format!(" · {}%", avatar.progress));
    }
    if avatar.retraining {
        text.push_str(&fill(t.avatar_retraining, &[("progress", &avatar.progress)]));
    }
    text.push_str(&fill(t.avatar_trainer, &[("trainer", &avatar.training_settings.trainer)]));
    if let Some(error) = &avatar.error {
        text.push_str(&format!("\n❌ {error}"));
    }
    if avatar.is_main {
        text.push_str(t.avatar_is_main);
    }
    let train = avatar.can_train.then_some(avatar.training_price);
    let keyboard = keyboards::avatar(t, avatar_id, (avatar.status, avatar.retraining), train, avatar.is_main);
    turn.state.avatar = Some(avatar_id.to_owned());
    turn.show(Screen::Avatar, &text, Some(keyboard)).await
}

pub async fn ask_rename(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    let avatar = fetch(turn, avatar_id).await?;
    turn.state.avatar = Some(avatar_id.to_owned());
    let t = turn.t();
    let text = fill(t.ask_avatar_rename, &[("name", &avatar.name)]);
    turn.show(Screen::AwaitAvatarRename, &text, Some(keyboards::only_back(t))).await
}

/// The new name goes to the API (which judges it); the card shows what it kept.
pub async fn rename_received(turn: &mut Turn<'_>, name: &str) -> Result<()> {
    let Some(avatar_id) = turn.state.avatar.clone() else { return list(turn).await };
    let variables = rename_avatar::Variables { id: avatar_id.clone(), name: name.to_owned() };
    match turn.execute::<RenameAvatar>(variables).await {
        Ok(_) => open(turn, &avatar_id).await,
        Err(BotError::Api(error)) if error.code() == ErrorCode::BadUserInput => {
            let t = turn.t();
            turn.show(Screen::AwaitAvatarRename, &error.message(), Some(keyboards::only_back(t))).await
        }
        Err(error) => Err(error),
    }
}

pub async fn make_main(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    turn.execute::<SetMainAvatar>(set_main_avatar::Variables { id: avatar_id.to_owned() }).await?;
    open(turn, avatar_id).await
}

/// "Create with it": the Imagen flow's steps, on FLUX with this avatar.
pub async fn use_avatar(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    turn.state.draft = Draft { avatar: Some(avatar_id.to_owned()), ..Draft::default() };
    create::ask_prompt(turn).await
}

pub async fn ask_delete(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    let avatar = fetch(turn, avatar_id).await?;
    let t = turn.t();
    let text = fill(t.confirm_delete_avatar, &[("name", &avatar.name)]);
    turn.state.avatar = Some(avatar_id.to_owned());
    turn.show(Screen::ConfirmDeleteAvatar, &text, Some(keyboards::confirm_delete_avatar(t, avatar_id))).await
}

pub async fn delete(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    turn.execute::<DeleteAvatar>(delete_avatar::Variables { id: avatar_id.to_owned() }).await?;
    list(turn).await
}
