//! The Imagen 4 flow (and FLUX with an avatar): prompt → aspect ratio → number of images →
//! confirmation with the price → a progress message (edited by the notifier) → the photos with
//! a result keyboard.

use serde::Deserialize;
use serde_json::{Value, json};
use teloxide::{payloads::EditMessageReplyMarkupSetters, prelude::Requester, types::InlineKeyboardMarkup};

use super::BotError;
use super::{Result, Turn};
use crate::telegram::callback::Callback;
use crate::telegram::client::ApiError;
use crate::telegram::delivery::{self, Watch};
use crate::telegram::keyboards;
use crate::telegram::outgoing::retrying;
use crate::telegram::state::{Draft, Screen};
use crate::telegram::texts::{fill, truncate};

/// The models the bot offers: Imagen 4, or FLUX with the user's avatar.
const MODEL: &str = "fal-ai/imagen4/preview";
const AVATAR_MODEL: &str = "fal-ai/flux-lora";

fn model_id(draft: &Draft) -> &'static str {
    if draft.avatar.is_some() { AVATAR_MODEL } else { MODEL }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Model {
    id: String,
    name: String,
    price_per_image: i64,
    aspect_ratios: Vec<String>,
    max_images: u8,
}

#[derive(Deserialize)]
struct Models {
    models: Vec<Model>,
    me: Balance,
}

#[derive(Deserialize)]
struct Balance {
    balance: i64,
}

async fn model(turn: &Turn<'_>) -> Result<(Model, i64)> {
    let data: Models = turn.run("Models", Value::Null).await?;
    let wanted = model_id(&turn.state.draft);
    let model = data.models.into_iter().find(|m| m.id == wanted).ok_or_else(|| {
        BotError::Api(ApiError::Refused {
            code: "NOT_FOUND".into(),
            message: format!("{wanted} is not on offer"),
            extensions: Value::Null,
        })
    })?;
    Ok((model, data.me.balance))
}

pub async fn ask_prompt(turn: &mut Turn<'_>) -> Result<()> {
    let t = turn.t();
    turn.show(Screen::AwaitPrompt, t.ask_prompt, Some(keyboards::only_back(t))).await
}

/// The prompt is kept as typed; the API judges it when the generation is created.
pub async fn prompt_received(turn: &mut Turn<'_>, text: &str) -> Result<()> {
    let avatar = turn.state.draft.avatar.take();
    turn.state.draft = Draft { prompt: Some(text.to_owned()), avatar, ..Draft::default() };
    ask_ratio(turn).await
}

pub async fn ask_ratio(turn: &mut Turn<'_>) -> Result<()> {
    let (model, _) = model(turn).await?;
    let t = turn.t();
    turn.show(Screen::Ratio, t.ask_ratio, Some(keyboards::ratios(t, &model.aspect_ratios))).await
}

pub async fn ratio_chosen(turn: &mut Turn<'_>, ratio: String) -> Result<()> {
    turn.state.draft.ratio = Some(ratio);
    ask_count(turn).await
}

pub async fn ask_count(turn: &mut Turn<'_>) -> Result<()> {
    let (model, _) = model(turn).await?;
    let t = turn.t();
    turn.show(Screen::Count, t.ask_count, Some(keyboards::counts(t, model.max_images))).await
}

pub async fn count_chosen(turn: &mut Turn<'_>, count: u8) -> Result<()> {
    turn.state.draft.count = Some(count);
    confirm(turn).await
}

async fn confirm(turn: &mut Turn<'_>) -> Result<()> {
    let Draft { prompt: Some(prompt), ratio: Some(ratio), count: Some(count), .. } = turn.state.draft.clone() else {
        return ask_prompt(turn).await;
    };
    let (model, balance) = model(turn).await?;
    let price = model.price_per_image * i64::from(count);
    let t = turn.t();
    let text = fill(
        t.confirm,
        &[
            ("model", &model.name),
            ("ratio", &ratio),
            ("count", &count),
            ("prompt", &truncate(&prompt, 300)),
            ("price", &price),
            ("balance", &balance),
        ],
    );
    turn.show(Screen::Confirm, &text, Some(keyboards::confirm(t, price))).await
}

/// "Create": the generation is made by the API (which reserves the price); the confirmation
/// message becomes the progress message. Pressing twice creates one generation (the key is the
/// confirmation message).
pub async fn confirmed(turn: &mut Turn<'_>) -> Result<()> {
    let Draft { prompt: Some(prompt), ratio: Some(ratio), count: Some(count), avatar } = turn.state.draft.clone()
    else {
        return ask_prompt(turn).await;
    };
    let Some(message_id) = turn.origin.as_ref().map(|o| o.message_id) else { return Ok(()) };
    let input = json!({
        "model": model_id(&turn.state.draft),
        "prompt": prompt,
        "aspectRatio": ratio,
        "numImages": count,
        "avatarId": avatar,
        "idempotencyKey": format!("tg:{}:{}", turn.chat.0, message_id.0),
    });
    let t = turn.t();
    let created: Value = match turn.run("CreateGeneration", json!({ "input": input })).await {
        Ok(created) => created,
        Err(BotError::Api(error)) if error.code() == "INSUFFICIENT_CREDITS" => {
            return turn.show_not_enough(Screen::Confirm, &error).await;
        }
        Err(BotError::Api(ApiError::Refused { code, message, .. })) if code == "BAD_USER_INPUT" => {
            return turn.show(Screen::Confirm, &message, Some(keyboards::only_back(t))).await;
        }
        Err(error) => return Err(error),
    };
    let generation_id = created["createGeneration"]["id"].as_str().unwrap_or_default().to_owned();
    turn.show(Screen::Menu, t.progress_queued, None).await?;
    turn.state.draft = Draft::default();
    turn.save().await?;
    let watch = Watch { chat: turn.chat.0, message: message_id.0, lang: turn.lang() };
    delivery::watch_generation(turn.bot, &generation_id, watch).await;
    // It may have moved on before we started watching: then show where it is now (its end is
    // told by the notifier, which reads the same watch).
    let status: Value = turn.run("GenerationStatus", json!({ "id": generation_id })).await?;
    if !status["generation"]["status"].as_str().is_some_and(|s| ["COMPLETED", "FAILED", "CANCELLED"].contains(&s)) {
        delivery::settle_progress(turn.bot, &status["generation"], watch).await?;
    }
    Ok(())
}

/// "Again": the same prompt, format and count, back to the confirmation.
pub async fn again(turn: &mut Turn<'_>, generation_id: &str) -> Result<()> {
    let data: Value = turn.run("GenerationForRepeat", json!({ "id": generation_id })).await?;
    let generation = &data["generation"];
    turn.state.draft = Draft {
        prompt: generation["prompt"].as_str().map(str::to_owned),
        ratio: generation["aspectRatio"].as_str().map(str::to_owned),
        count: generation["numImages"].as_u64().and_then(|n| u8::try_from(n).ok()),
        avatar: generation["avatarId"].as_str().map(str::to_owned),
    };
    turn.origin = None; // keep the result message; ask below it
    confirm(turn).await
}

pub async fn show_prompt(turn: &mut Turn<'_>, generation_id: &str) -> Result<()> {
    let data: Value = turn.run("GenerationForRepeat", json!({ "id": generation_id })).await?;
    let t = turn.t();
    let prompt = data["generation"]["prompt"].as_str().unwrap_or_default();
    turn.send(&truncate(&fill(t.prompt_was, &[("prompt", &prompt)]), 4096), None).await.map(drop)
}

/// ❤️ under delivered photos: toggles that image and redraws just that button.
pub async fn favorite_from_result(turn: &mut Turn<'_>, image_id: &str) -> Result<()> {
    let data: Value = turn.run("GalleryImage", json!({ "id": image_id, "filter": null })).await?;
    let favorite = !data["image"]["favorite"].as_bool().unwrap_or(false);
    turn.run::<Value>("SetFavorite", json!({ "imageId": image_id, "favorite": favorite })).await?;
    let Some(origin) = &turn.origin else { return Ok(()) };
    let Some(markup) = origin.markup.clone() else { return Ok(()) };
    let markup = swap_heart(markup, &Callback::Favorite(image_id.to_owned()).encode(), favorite);
    let request = turn.bot.api.edit_message_reply_markup(turn.chat, origin.message_id).reply_markup(markup);
    retrying(request).await?;
    Ok(())
}

fn swap_heart(mut markup: InlineKeyboardMarkup, data: &str, favorite: bool) -> InlineKeyboardMarkup {
    use teloxide::types::InlineKeyboardButtonKind::CallbackData;
    for button in markup.inline_keyboard.iter_mut().flatten() {
        if matches!(&button.kind, CallbackData(d) if d == data) {
            let (from, to) = if favorite { ("🤍", "❤️") } else { ("❤️", "🤍") };
            button.text = button.text.replace(from, to);
        }
    }
    markup
}
