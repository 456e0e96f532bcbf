//! "My avatars": the list, a new avatar (name → type → photos in the chat, albums included,
//! with a running count and each refusal) → training with the price → progress (the notifier)
//! → ready → generating with it.

use std::io::{Seek, Write};

use async_graphql::UploadValue;
use serde_json::{Value, json};
use teloxide::{
    net::Download,
    payloads::EditMessageTextSetters,
    prelude::Requester,
    types::{FileId, Message, MessageId},
};

use super::{BotError, Result, Turn, create};
use crate::telegram::client::ApiError;
use crate::telegram::delivery::{self, Watch};
use crate::telegram::keyboards;
use crate::telegram::outgoing::{is_unchanged, retrying};
use crate::telegram::state::{Draft, Screen};
use crate::telegram::texts::fill;

/// Telegram's biggest download for bots is 20 MB, as is our limit per photo.
const MAX_DOWNLOAD: u64 = 20 * 1024 * 1024;

pub async fn list(turn: &mut Turn<'_>) -> Result<()> {
    let data: Value = turn.run("Avatars", Value::Null).await?;
    let t = turn.t();
    let avatars: Vec<(String, String)> = data["avatars"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let status = t.avatar_status(a["status"].as_str().unwrap_or_default());
            (
                a["id"].as_str().unwrap_or_default().to_owned(),
                format!("{} · {status}", a["name"].as_str().unwrap_or_default()),
            )
        })
        .collect();
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
    let input = json!({ "name": name, "trainingType": if style { "STYLE" } else { "PORTRAIT" } });
    let created: Value = match turn.run("CreateAvatar", json!({ "input": input })).await {
        Ok(created) => created,
        Err(BotError::Api(ApiError::Refused { code, message, .. })) if code == "BAD_USER_INPUT" => {
            // A name the API refuses: say why and ask again.
            let t = turn.t();
            turn.send(&message, None).await?;
            return turn.show(Screen::AwaitAvatarName, t.ask_avatar_name, Some(keyboards::only_back(t))).await;
        }
        Err(error) => return Err(error),
    };
    let id = created["createAvatar"]["id"].as_str().unwrap_or_default().to_owned();
    ask_photos(turn, &id).await
}

/// The photo-collecting screen, whose message counts the photos as they come.
pub async fn ask_photos(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    let data: Value = turn.run("Avatar", json!({ "id": avatar_id })).await?;
    let avatar = &data["avatar"];
    let (text, keyboard) = photos_screen(turn, avatar_id, avatar);
    turn.state.avatar = Some(avatar_id.to_owned());
    turn.show(Screen::AwaitPhotos, &text, Some(keyboard)).await
}

fn photos_screen(turn: &Turn<'_>, avatar_id: &str, avatar: &Value) -> (String, teloxide::types::InlineKeyboardMarkup) {
    let t = turn.t();
    let count = avatar["photoCount"].as_i64().unwrap_or_default();
    let price = avatar["trainingPrice"].as_i64().unwrap_or_default();
    let text = fill(t.ask_photos, &[("name", &avatar["name"].as_str().unwrap_or_default()), ("count", &count)]);
    (text, keyboards::photos(t, avatar_id, count, price))
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
    let variables = json!({ "id": avatar_id, "photos": [null] });
    let result: std::result::Result<Value, ApiError> = turn
        .bot
        .gql
        .run_with_files(&turn.actor, "AddAvatarPhotos", variables, vec![("variables.photos.0".into(), upload)])
        .await;
    let data = match result {
        Ok(data) => data,
        Err(ApiError::Refused { code, message, .. }) if code == "BAD_USER_INPUT" => {
            return turn.send(&message, Some(keyboards::only_back(t))).await.map(drop);
        }
        Err(error) => return Err(error.into()),
    };
    let added = &data["addAvatarPhotos"];
    if let Some(last) = added["photos"].as_array().and_then(|p| p.last())
        && last["status"] == "REJECTED"
    {
        let reason = fill(t.photo_rejected, &[("reason", &last["rejectReason"].as_str().unwrap_or_default())]);
        turn.send(&reason, None).await?;
    }
    let avatar: Value = turn.run("Avatar", json!({ "id": avatar_id })).await?;
    let (text, keyboard) = photos_screen(turn, &avatar_id, &avatar["avatar"]);
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
    let data: Value = turn.run("Avatar", json!({ "id": avatar_id })).await?;
    let avatar = data["avatar"].clone();
    match turn.run::<Value>("StartAvatarTraining", json!({ "id": avatar_id })).await {
        Ok(_) => {}
        Err(BotError::Api(error)) if error.code() == "INSUFFICIENT_CREDITS" => {
            return turn.show_not_enough(Screen::Avatar, &error).await;
        }
        Err(BotError::Api(ApiError::Refused { code, message, .. })) if code == "BAD_USER_INPUT" => {
            return turn.show(Screen::Avatar, &message, Some(keyboards::only_back(t))).await;
        }
        Err(error) => return Err(error),
    }
    let name = avatar["name"].as_str().unwrap_or_default().to_owned();
    let text = fill(t.training, &[("name", &name), ("progress", &0)]);
    turn.show(Screen::Avatar, &text, None).await?;
    if let Some(message) = turn.state.screen_message {
        delivery::watch_avatar(turn.bot, avatar_id, Watch { chat: turn.chat.0, message, lang: turn.lang() }).await;
    }
    Ok(())
}

/// Stops the training (refunded); the card shows the avatar as it is now.
pub async fn cancel_training(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    match turn.run::<Value>("CancelAvatarTraining", json!({ "id": avatar_id })).await {
        Ok(_) => open(turn, avatar_id).await,
        // It ended meanwhile: the card shows how.
        Err(BotError::Api(error)) if error.code() == "BAD_USER_INPUT" => open(turn, avatar_id).await,
        Err(error) => Err(error),
    }
}

pub async fn open(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    let data: Value = turn.run("Avatar", json!({ "id": avatar_id })).await?;
    let avatar = &data["avatar"];
    let t = turn.t();
    let status = avatar["status"].as_str().unwrap_or_default();
    let photos = avatar["photoCount"].as_i64().unwrap_or_default();
    let mut text = fill(
        t.avatar_card,
        &[
            ("name", &avatar["name"].as_str().unwrap_or_default()),
            ("status", &t.avatar_status(status)),
            ("photos", &photos),
            ("generations", &avatar["generationCount"]),
        ],
    );
    if status == "TRAINING" {
        text.push_str(&format!(" · {}%", avatar["progress"]));
    }
    if let Some(error) = avatar["error"].as_str() {
        text.push_str(&format!("\n❌ {error}"));
    }
    let keyboard =
        keyboards::avatar(t, avatar_id, status, photos, avatar["trainingPrice"].as_i64().unwrap_or_default());
    turn.state.avatar = Some(avatar_id.to_owned());
    turn.show(Screen::Avatar, &text, Some(keyboard)).await
}

/// "Create with it": the Imagen flow's steps, on FLUX with this avatar.
pub async fn use_avatar(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    turn.state.draft = Draft { avatar: Some(avatar_id.to_owned()), ..Draft::default() };
    create::ask_prompt(turn).await
}

pub async fn ask_delete(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    let data: Value = turn.run("Avatar", json!({ "id": avatar_id })).await?;
    let t = turn.t();
    let text = fill(t.confirm_delete_avatar, &[("name", &data["avatar"]["name"].as_str().unwrap_or_default())]);
    turn.state.avatar = Some(avatar_id.to_owned());
    turn.show(Screen::ConfirmDeleteAvatar, &text, Some(keyboards::confirm_delete_avatar(t, avatar_id))).await
}

pub async fn delete(turn: &mut Turn<'_>, avatar_id: &str) -> Result<()> {
    turn.run::<Value>("DeleteAvatar", json!({ "id": avatar_id })).await?;
    list(turn).await
}
