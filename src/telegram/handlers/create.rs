//! The Imagen 4 flow (and FLUX with an avatar): prompt → aspect ratio → number of images →
//! confirmation with the price → a progress message (edited by the notifier) → the photos with
//! a result keyboard.

use teloxide::{payloads::EditMessageReplyMarkupSetters, prelude::Requester, types::InlineKeyboardMarkup};

use super::BotError;
use super::{Result, Turn};
use crate::telegram::callback::Callback;
use crate::telegram::client::{ApiError, Details, ErrorCode};
use crate::telegram::delivery::{self, Watch};
use crate::telegram::keyboards;
use crate::telegram::operations::{
    CreateGeneration, EnhancePrompt, GalleryImage, GenerationForRepeat, Models, Quote, SetFavorite, create_generation,
    enhance_prompt, gallery_image, generation_for_repeat, models, quote, set_favorite,
};
use crate::telegram::outgoing::retrying;
use crate::telegram::state::{Draft, Screen};
use crate::telegram::texts::{fill, truncate};

/// The model the bot offers for this draft, as the API prices it for `count` images: a style's
/// own, else the catalogue's first that needs an avatar when the draft has one, else its first
/// that does not; with the user's balance and settings.
async fn model(turn: &Turn<'_>, count: u8) -> Result<(models::ModelsModels, models::ModelsMe)> {
    let data = turn.execute::<Models>(models::Variables { num_images: i64::from(count) }).await?;
    let with_avatar = turn.state.draft.avatar.is_some();
    let style_model = turn.state.draft.style.as_ref().map(|s| s.model.as_str());
    let model = data.models.into_iter().find(|m| match style_model {
        Some(id) => m.id == id,
        None => m.requires_avatar == with_avatar,
    });
    let model = model.ok_or_else(|| {
        let message = format!("no model {} an avatar is on offer", if with_avatar { "with" } else { "without" });
        BotError::Api(ApiError::Refused { code: ErrorCode::NotFound, message, details: Details::default() })
    })?;
    Ok((model, data.me))
}

pub async fn ask_prompt(turn: &mut Turn<'_>) -> Result<()> {
    let t = turn.t();
    turn.show(Screen::AwaitPrompt, t.ask_prompt, Some(keyboards::create(t))).await
}

/// The prompt is kept as typed; the API judges it when the generation is created.
pub async fn prompt_received(turn: &mut Turn<'_>, text: &str) -> Result<()> {
    let avatar = turn.state.draft.avatar.take();
    turn.state.draft = Draft { prompt: Some(text.to_owned()), avatar, ..Draft::default() };
    ask_ratio(turn).await
}

pub async fn ask_ratio(turn: &mut Turn<'_>) -> Result<()> {
    let (model, me) = model(turn, 1).await?;
    let t = turn.t();
    let default = turn.state.draft.style.as_ref().map_or(&me.settings.default_aspect_ratio, |s| &s.ratio);
    let keyboard = keyboards::ratios(t, &model.aspect_ratios, default);
    turn.show(Screen::Ratio, t.ask_ratio, Some(keyboard)).await
}

pub async fn ratio_chosen(turn: &mut Turn<'_>, ratio: String) -> Result<()> {
    turn.state.draft.ratio = Some(ratio);
    ask_count(turn).await
}

pub async fn ask_count(turn: &mut Turn<'_>) -> Result<()> {
    let (model, me) = model(turn, 1).await?;
    let t = turn.t();
    let max_images = u8::try_from(model.max_images).unwrap_or(1);
    let default = u8::try_from(me.settings.default_num_images).unwrap_or(1);
    turn.show(Screen::Count, t.ask_count, Some(keyboards::counts(t, max_images, default))).await
}

/// The API's quote for the draft: what the user would pay now, and whether to ask first.
async fn quote(turn: &Turn<'_>, model: &str, count: u8) -> Result<quote::ResponseData> {
    let variables = quote::Variables { model: model.to_owned(), num_images: i64::from(count) };
    turn.execute::<Quote>(variables).await
}

/// When the API says the user's quick mode covers the price, the picture is made at once.
pub async fn count_chosen(turn: &mut Turn<'_>, count: u8) -> Result<()> {
    turn.state.draft.count = Some(count);
    let (model, _) = model(turn, count).await?;
    if !quote(turn, &model.id, count).await?.quote.needs_confirmation {
        return confirmed(turn).await;
    }
    confirm(turn).await
}

pub async fn confirm(turn: &mut Turn<'_>) -> Result<()> {
    let Draft { prompt: Some(prompt), ratio: Some(ratio), count: Some(count), .. } = turn.state.draft.clone() else {
        return ask_prompt(turn).await;
    };
    let (model, _) = model(turn, count).await?;
    let quote::ResponseData { quote, me } = quote(turn, &model.id, count).await?;
    let t = turn.t();
    let discount = match quote.discount_percent {
        Some(percent) => fill(t.confirm_discount, &[("percent", &percent), ("price", &quote.price)]),
        None => String::new(),
    };
    let text = fill(
        t.confirm,
        &[
            ("model", &model.name),
            ("ratio", &ratio),
            ("count", &count),
            ("prompt", &truncate(&prompt, 300)),
            ("price", &quote.to_pay),
            ("discount", &discount),
            ("balance", &me.balance),
        ],
    );
    let can_enhance = turn.state.draft.style.is_none();
    turn.show(Screen::Confirm, &text, Some(keyboards::confirm(t, quote.to_pay, can_enhance))).await
}

/// "Create": the generation is made by the API (which reserves the price); the confirmation
/// message becomes the progress message. Pressing twice creates one generation (the key is the
/// confirmation message).
pub async fn confirmed(turn: &mut Turn<'_>) -> Result<()> {
    let Draft { prompt: Some(prompt), ratio: Some(ratio), count: Some(count), avatar, style, original, .. } =
        turn.state.draft.clone()
    else {
        return ask_prompt(turn).await;
    };
    let Some(message_id) = turn.origin.as_ref().map(|o| o.message_id) else { return Ok(()) };
    let (model, _) = model(turn, count).await?;
    // With a style the API fills the template's prompt from the subject.
    let (prompt, template_id, subject) = match style {
        Some(style) => (None, Some(style.template_id), Some(prompt)),
        None => (Some(prompt), None, None),
    };
    let input = create_generation::CreateGenerationInput {
        model: Some(model.id),
        prompt,
        template_id,
        subject,
        original_prompt: original,
        aspect_ratio: Some(ratio),
        num_images: Some(i64::from(count)),
        seed: None,
        avatar_id: avatar,
        idempotency_key: Some(format!("tg:{}:{}", turn.chat.0, message_id.0)),
    };
    let t = turn.t();
    let created = match turn.execute::<CreateGeneration>(create_generation::Variables { input }).await {
        Ok(created) => created.create_generation,
        Err(BotError::Api(error)) if error.code() == ErrorCode::InsufficientCredits => {
            return turn.show_not_enough(Screen::Confirm, &error).await;
        }
        Err(BotError::Api(ApiError::Refused { code: ErrorCode::BadUserInput, message, .. })) => {
            return turn.show(Screen::Confirm, &message, Some(keyboards::only_back(t))).await;
        }
        Err(error) => return Err(error),
    };
    turn.show(Screen::Menu, t.progress_queued, None).await?;
    turn.state.draft = Draft::default();
    turn.save().await?;
    follow(turn, &created.id, message_id).await;
    Ok(())
}

/// From here the message follows the generation (its end is told by the notifier, which reads
/// the same watch).
pub(super) async fn follow(turn: &Turn<'_>, generation_id: &str, message_id: teloxide::types::MessageId) {
    let watch = Watch { chat: turn.chat.0, message: message_id.0, lang: turn.lang() };
    delivery::watch_generation(turn.bot, generation_id, watch).await;
    turn.bot.followers.generation(turn.actor.clone(), generation_id, watch, turn.t().progress_queued);
}

pub(super) async fn for_repeat(
    turn: &Turn<'_>,
    generation_id: &str,
) -> Result<generation_for_repeat::GenerationForRepeatGeneration> {
    let variables = generation_for_repeat::Variables { id: generation_id.to_owned() };
    Ok(turn.execute::<GenerationForRepeat>(variables).await?.generation)
}

/// "Again": the same prompt, format and count, back to the confirmation.
pub async fn again(turn: &mut Turn<'_>, generation_id: &str) -> Result<()> {
    let generation = for_repeat(turn, generation_id).await?;
    turn.state.draft = Draft {
        prompt: Some(generation.prompt),
        ratio: Some(generation.aspect_ratio),
        count: u8::try_from(generation.num_images).ok(),
        avatar: generation.avatar_id,
        original: generation.original_prompt,
        ..Draft::default()
    };
    turn.origin = None; // keep the result message; ask below it
    confirm(turn).await
}

/// The full prompt sent to the model, and the user's own words when they differ.
pub async fn show_prompt(turn: &mut Turn<'_>, generation_id: &str) -> Result<()> {
    let generation = for_repeat(turn, generation_id).await?;
    let t = turn.t();
    let mut text = fill(t.prompt_was, &[("prompt", &generation.prompt)]);
    if let Some(original) = generation.original_prompt.filter(|o| *o != generation.prompt) {
        text.push_str(&fill(t.prompt_original, &[("original", &original)]));
    }
    turn.send(&truncate(&text, 4096), None).await.map(drop)
}

/// ✨ on the confirmation: the API's enhancement of the draft's prompt, shown to be used or left.
pub async fn enhance(turn: &mut Turn<'_>) -> Result<()> {
    let Some(prompt) = turn.state.draft.prompt.clone() else { return ask_prompt(turn).await };
    let mine = turn.state.draft.original.clone().unwrap_or(prompt);
    let variables = enhance_prompt::Variables { prompt: mine };
    let enhanced = turn.execute::<EnhancePrompt>(variables).await?.enhance_prompt.enhanced;
    let t = turn.t();
    let text = truncate(&fill(t.suggestion, &[("prompt", &enhanced)]), 4096);
    turn.state.draft.suggestion = Some(enhanced);
    turn.show(Screen::Suggestion, &text, Some(keyboards::suggestion(t))).await
}

/// "Use it": the enhancement becomes the prompt, the user's words are kept beside it.
pub async fn use_enhanced(turn: &mut Turn<'_>) -> Result<()> {
    let draft = &mut turn.state.draft;
    let Some(suggestion) = draft.suggestion.take() else { return confirm(turn).await };
    if draft.original.is_none() {
        draft.original = draft.prompt.take();
    }
    draft.prompt = Some(suggestion);
    confirm(turn).await
}

/// ❤️ under delivered photos: toggles that image and redraws just that button.
pub async fn favorite_from_result(turn: &mut Turn<'_>, image_id: &str) -> Result<()> {
    let variables = gallery_image::Variables { id: image_id.to_owned(), filter: None };
    let favorite = !turn.execute::<GalleryImage>(variables).await?.image.favorite;
    let variables = set_favorite::Variables { image_id: image_id.to_owned(), favorite, filter: None };
    turn.execute::<SetFavorite>(variables).await?;
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
