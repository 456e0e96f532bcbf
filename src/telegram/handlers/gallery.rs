//! The gallery card: one photo with "3/17", ◀️ ▶️, ❤️, 🗑 (with confirmation), filters, stats
//! and Back. Navigation edits the card in place; photos Telegram has seen go by file id.

use serde::Deserialize;
use serde_json::{Value, json};
use teloxide::{
    payloads::{EditMessageCaptionSetters, EditMessageMediaSetters, EditMessageReplyMarkupSetters, SendPhotoSetters},
    prelude::Requester,
    types::{InputMedia, InputMediaPhoto, MessageId},
};

use super::{Result, Turn};
use crate::telegram::callback::Period;
use crate::telegram::delivery::remember_file_id;
use crate::telegram::keyboards;
use crate::telegram::outgoing::{self, is_unchanged, retrying};
use crate::telegram::state::{Card, CardFilter, Screen};
use crate::telegram::texts::{fill, truncate};

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardImage {
    id: String,
    url: String,
    telegram_file_id: Option<String>,
    prompt: String,
    model: String,
    favorite: bool,
    position: Option<Position>,
}

#[derive(Clone, Copy, Deserialize)]
struct Position {
    index: i64,
    total: i64,
}

#[derive(Deserialize)]
struct First {
    gallery: Connection,
}

#[derive(Deserialize)]
struct Connection {
    edges: Vec<Edge>,
}

#[derive(Deserialize)]
struct Edge {
    node: CardImage,
}

#[derive(Deserialize)]
struct One {
    image: Option<CardImage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Favorite {
    set_favorite: CardImage,
}

#[derive(Deserialize)]
struct Neighbours {
    image: Option<NeighbourPair>,
}

#[derive(Deserialize)]
struct NeighbourPair {
    previous: Option<CardImage>,
    next: Option<CardImage>,
}

fn filter(turn: &Turn<'_>) -> Value {
    turn.state.filter.to_variable()
}

async fn first(turn: &Turn<'_>) -> Result<Option<CardImage>> {
    let data: First = turn.run("GalleryFirst", json!({ "filter": filter(turn) })).await?;
    Ok(data.gallery.edges.into_iter().next().map(|e| e.node))
}

async fn image(turn: &Turn<'_>, id: &str) -> Result<Option<CardImage>> {
    let data: One = turn.run("GalleryImage", json!({ "id": id, "filter": filter(turn) })).await?;
    Ok(data.image)
}

/// The newest image under the filter, or the "empty" screen.
pub async fn show_first(turn: &mut Turn<'_>) -> Result<()> {
    match first(turn).await? {
        Some(card) => render(turn, card).await,
        None => {
            let t = turn.t();
            turn.show(Screen::Gallery, t.gallery_empty, Some(keyboards::empty_gallery(t))).await
        }
    }
}

/// The card again (after Back from filters, stats or a delete confirmation): the same image if
/// it is still under the filter, else the first.
pub async fn show_current(turn: &mut Turn<'_>) -> Result<()> {
    let current = turn.state.card.as_ref().map(|c| c.image_id.clone());
    if let Some(id) = current
        && let Ok(Some(card)) = image(turn, &id).await
        && card.position.is_some()
    {
        return render(turn, card).await;
    }
    show_first(turn).await
}

/// "Open in gallery" under delivered photos: that image, with no filter.
pub async fn open_at(turn: &mut Turn<'_>, id: &str) -> Result<()> {
    turn.state.filter = CardFilter::default();
    turn.origin = None; // a new card below the result
    turn.state.card = None;
    match image(turn, id).await? {
        Some(card) => render(turn, card).await,
        None => show_first(turn).await,
    }
}

/// ◀️ (newer) and ▶️ (older); at either end nothing happens.
pub async fn step(turn: &mut Turn<'_>, id: &str, older: bool) -> Result<()> {
    let data: Neighbours = turn.run("GalleryNeighbours", json!({ "id": id, "filter": filter(turn) })).await?;
    let Some(pair) = data.image else { return show_first(turn).await };
    match if older { pair.next } else { pair.previous } {
        Some(card) => render(turn, card).await,
        None => Ok(()),
    }
}

pub async fn toggle_favorite(turn: &mut Turn<'_>, id: &str) -> Result<()> {
    let Some(card) = image(turn, id).await? else { return show_first(turn).await };
    let variables = json!({ "imageId": id, "favorite": !card.favorite, "filter": filter(turn) });
    let changed: Favorite = turn.run("SetFavorite", variables).await?;
    if changed.set_favorite.position.is_some() {
        redraw_keyboard(turn, &changed.set_favorite).await
    } else {
        // It left the filter ("favourites only"): show what is there now.
        show_first(turn).await
    }
}

pub async fn ask_delete(turn: &mut Turn<'_>, id: &str) -> Result<()> {
    let t = turn.t();
    turn.state.screen = Screen::ConfirmDelete;
    edit_caption(turn, t.confirm_delete, keyboards::confirm_delete(t, id)).await?;
    turn.save().await
}

/// Deletes, then shows the next image (older, else newer, else the empty gallery).
pub async fn delete(turn: &mut Turn<'_>, id: &str) -> Result<()> {
    let data: Neighbours = turn.run("GalleryNeighbours", json!({ "id": id, "filter": filter(turn) })).await?;
    let neighbour = data.image.and_then(|p| p.next.or(p.previous)).map(|c| c.id);
    turn.run::<Value>("DeleteImage", json!({ "id": id })).await?;
    match neighbour {
        Some(next) => match image(turn, &next).await? {
            Some(card) => render(turn, card).await,
            None => show_first(turn).await,
        },
        None => show_first(turn).await,
    }
}

pub async fn filters(turn: &mut Turn<'_>) -> Result<()> {
    let saved: Value = turn.run("SavedFilters", Value::Null).await?;
    let names: Vec<String> = saved["savedFilters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str().map(str::to_owned))
        .collect();
    let t = turn.t();
    let keyboard = keyboards::filters(t, &turn.state.filter, &names);
    turn.state.screen = Screen::Filters;
    if turn.origin.as_ref().is_some_and(|o| o.is_photo) {
        edit_caption(turn, t.filters, keyboard).await?;
        turn.save().await
    } else {
        turn.show(Screen::Filters, t.filters, Some(keyboard)).await
    }
}

pub async fn set_filter(turn: &mut Turn<'_>, change: impl FnOnce(&mut CardFilter)) -> Result<()> {
    turn.state.filter.saved = None;
    change(&mut turn.state.filter);
    filters(turn).await
}

pub async fn set_period(turn: &mut Turn<'_>, period: Option<Period>) -> Result<()> {
    let since = period.map(|p| (chrono::Utc::now() - chrono::Duration::days(p.days())).to_rfc3339());
    set_filter(turn, |f| {
        f.period = period;
        f.since = since;
    })
    .await
}

pub async fn saved_filter(turn: &mut Turn<'_>, index: u8) -> Result<()> {
    let saved: Value = turn.run("SavedFilters", Value::Null).await?;
    let Some(chosen) = saved["savedFilters"].get(usize::from(index)) else { return filters(turn).await };
    turn.state.filter = CardFilter { saved: Some(chosen["filter"].clone()), ..CardFilter::default() };
    show_first(turn).await
}

pub async fn stats(turn: &mut Turn<'_>) -> Result<()> {
    let data: Value = turn.run("GalleryStats", json!({ "filter": filter(turn) })).await?;
    let stats = &data["galleryStats"];
    let counts = |list: &Value, key: &str| -> Vec<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .map(|c| format!("{}: {}", c[key].as_str().unwrap_or_default(), c["count"]))
            .collect()
    };
    let mut types = counts(&stats["byType"], "type");
    types.extend(counts(&stats["byModel"], "model"));
    let t = turn.t();
    let text = fill(
        t.stats,
        &[
            ("total", &stats["total"]),
            ("favorites", &stats["favorites"]),
            ("last30", &stats["last30Days"]),
            ("spent", &stats["creditsSpent"]),
            ("types", &types.join("\n")),
        ],
    );
    turn.state.screen = Screen::Stats;
    if turn.origin.as_ref().is_some_and(|o| o.is_photo) {
        edit_caption(turn, &text, keyboards::only_back(t)).await?;
        turn.save().await
    } else {
        turn.show(Screen::Stats, &text, Some(keyboards::only_back(t))).await
    }
}

/// Draws `card`: editing the card message when the button was on it, else sending a new one.
async fn render(turn: &mut Turn<'_>, card: CardImage) -> Result<()> {
    let t = turn.t();
    let Position { index, total } = card.position.unwrap_or(Position { index: 1, total: 1 });
    let caption = truncate(
        &fill(t.caption, &[("index", &index), ("total", &total), ("model", &card.model), ("prompt", &card.prompt)]),
        1024,
    );
    let keyboard = keyboards::card(t, &card.id, card.favorite, index, total);
    let photo = outgoing::photo(&turn.bot.own_links, &card.url, card.telegram_file_id.as_deref()).await;
    let on_card = turn.origin.as_ref().filter(|o| o.is_photo).map(|o| o.message_id);
    let message = match on_card {
        Some(message_id) => {
            let media = InputMedia::Photo(InputMediaPhoto::new(photo).caption(caption));
            let request = turn.bot.api.edit_message_media(turn.chat, message_id, media).reply_markup(keyboard);
            match retrying(request).await {
                Ok(message) => Some(message),
                Err(error) if is_unchanged(&error) => None,
                Err(error) => return Err(error.into()),
            }
        }
        None => Some(
            turn.bot
                .deliver(turn.chat, turn.bot.api.send_photo(turn.chat, photo).caption(caption).reply_markup(keyboard))
                .await?,
        ),
    };
    let message_id = message.as_ref().map(|m| m.id).or(on_card).unwrap_or(MessageId(0));
    if card.telegram_file_id.is_none()
        && let Some(message) = &message
    {
        remember_file_id(turn.bot, &turn.actor, &card.id, message).await;
    }
    turn.state.screen = Screen::Gallery;
    turn.state.card = Some(Card { message_id: message_id.0, image_id: card.id });
    turn.save().await
}

async fn redraw_keyboard(turn: &mut Turn<'_>, card: &CardImage) -> Result<()> {
    let Some(message_id) = turn.origin.as_ref().map(|o| o.message_id) else { return Ok(()) };
    let position = card.position.unwrap_or(Position { index: 1, total: 1 });
    let keyboard = keyboards::card(turn.t(), &card.id, card.favorite, position.index, position.total);
    let request = turn.bot.api.edit_message_reply_markup(turn.chat, message_id).reply_markup(keyboard);
    match retrying(request).await {
        Ok(_) => Ok(()),
        Err(error) if is_unchanged(&error) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

async fn edit_caption(turn: &Turn<'_>, text: &str, keyboard: teloxide::types::InlineKeyboardMarkup) -> Result<()> {
    let Some(message_id) = turn.origin.as_ref().map(|o| o.message_id) else { return Ok(()) };
    let request = turn.bot.api.edit_message_caption(turn.chat, message_id).caption(text).reply_markup(keyboard);
    match retrying(request).await {
        Ok(_) => Ok(()),
        Err(error) if is_unchanged(&error) => Ok(()),
        Err(error) => Err(error.into()),
    }
}
