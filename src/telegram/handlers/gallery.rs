//! The gallery card: one photo or clip with "3/17", ◀️ ▶️, ❤️, 🗑 (with confirmation), 🎬,
//! filters, stats and Back. Navigation edits the card in place (a photo becomes a clip and back
//! through `editMessageMedia`); files Telegram has seen go by file id.

use teloxide::{
    payloads::{EditMessageCaptionSetters, EditMessageMediaSetters, EditMessageReplyMarkupSetters},
    prelude::Requester,
    types::MessageId,
};

use super::{Result, Turn};
use crate::telegram::callback::Period;
use crate::telegram::delivery::{MediaKind, remember_file_id, send_media};
use crate::telegram::keyboards;
use crate::telegram::operations::{
    DeleteImage, GalleryFirst, GalleryImage, GalleryNeighbours, GalleryStats, SavedFilters, SetFavorite, delete_image,
    gallery_first, gallery_image, gallery_neighbours, gallery_stats, saved_filters, set_favorite,
};
use crate::telegram::outgoing::{self, is_unchanged, retrying};
use crate::telegram::state::{Card, CardFilter, Screen};
use crate::telegram::texts::{fill, truncate};

/// One image as the card shows it (each operation's `Card` fragment, converted).
#[derive(Clone, Debug)]
pub struct CardImage {
    id: String,
    /// The generation that made it (none for an image whose generation is gone).
    generation_id: Option<String>,
    url: String,
    telegram_file_id: Option<String>,
    /// How Telegram shows it (a clip is an animation or a video).
    media: MediaKind,
    prompt: String,
    model: String,
    favorite: bool,
    /// Where it is under the filter; `None` once it is no longer under it.
    position: Option<Position>,
}

#[derive(Clone, Copy, Debug)]
struct Position {
    index: i64,
    total: i64,
}

/// `From` each operation's `Card` (the derive makes one per operation).
macro_rules! card_from {
    ($($module:ident),+) => {$(
        impl From<$module::Card> for CardImage {
            fn from(card: $module::Card) -> Self {
                CardImage {
                    id: card.id,
                    generation_id: card.generation_id,
                    url: card.url,
                    telegram_file_id: card.telegram_file_id,
                    media: MediaKind::of(&card.content_type),
                    prompt: card.prompt,
                    model: card.model,
                    favorite: card.favorite,
                    position: card.position.map(|p| Position { index: p.index, total: p.total }),
                }
            }
        }
    )+};
}

card_from!(gallery_first, gallery_image, gallery_neighbours, set_favorite);

async fn first(turn: &Turn<'_>) -> Result<Option<CardImage>> {
    let variables = gallery_first::Variables { filter: turn.state.filter.to_variable() };
    let data = turn.execute::<GalleryFirst>(variables).await?;
    Ok(data.gallery.edges.into_iter().next().map(|e| e.node.into()))
}

async fn image(turn: &Turn<'_>, id: &str) -> Result<CardImage> {
    let variables = gallery_image::Variables { id: id.to_owned(), filter: turn.state.filter.to_variable() };
    Ok(turn.execute::<GalleryImage>(variables).await?.image.into())
}

/// The images before and after this one under the filter.
async fn neighbours(turn: &Turn<'_>, id: &str) -> Result<(Option<CardImage>, Option<CardImage>)> {
    let variables = gallery_neighbours::Variables { id: id.to_owned(), filter: turn.state.filter.to_variable() };
    let image = turn.execute::<GalleryNeighbours>(variables).await?.image;
    Ok((image.previous.map(Into::into), image.next.map(Into::into)))
}

async fn saved_filters(turn: &Turn<'_>) -> Result<Vec<saved_filters::SavedFiltersSavedFilters>> {
    Ok(turn.execute::<SavedFilters>(saved_filters::Variables).await?.saved_filters)
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
        && let Ok(card) = image(turn, &id).await
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
    let card = image(turn, id).await?;
    render(turn, card).await
}

/// ◀️ (newer) and ▶️ (older); at either end nothing happens.
pub async fn step(turn: &mut Turn<'_>, id: &str, older: bool) -> Result<()> {
    let (previous, next) = neighbours(turn, id).await?;
    match if older { next } else { previous } {
        Some(card) => render(turn, card).await,
        None => Ok(()),
    }
}

pub async fn toggle_favorite(turn: &mut Turn<'_>, id: &str) -> Result<()> {
    let card = image(turn, id).await?;
    let filter = turn.state.filter.to_variable();
    let variables = set_favorite::Variables { image_id: id.to_owned(), favorite: !card.favorite, filter };
    let changed: CardImage = turn.execute::<SetFavorite>(variables).await?.set_favorite.into();
    if changed.position.is_some() {
        redraw_keyboard(turn, &changed).await
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
    let (previous, next) = neighbours(turn, id).await?;
    let neighbour = next.or(previous).map(|c| c.id);
    turn.execute::<DeleteImage>(delete_image::Variables { id: id.to_owned() }).await?;
    match neighbour {
        Some(next) => {
            let card = image(turn, &next).await?;
            render(turn, card).await
        }
        None => show_first(turn).await,
    }
}

pub async fn filters(turn: &mut Turn<'_>) -> Result<()> {
    let names: Vec<String> = saved_filters(turn).await?.into_iter().map(|f| f.name).collect();
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
    let since = period.map(|p| chrono::Utc::now() - chrono::Duration::days(p.days()));
    set_filter(turn, |f| {
        f.period = period;
        f.since = since;
    })
    .await
}

pub async fn saved_filter(turn: &mut Turn<'_>, index: u8) -> Result<()> {
    let Some(chosen) = saved_filters(turn).await?.into_iter().nth(usize::from(index)) else {
        return filters(turn).await;
    };
    turn.state.filter = CardFilter { saved: Some(chosen.filter.into()), ..CardFilter::default() };
    show_first(turn).await
}

pub async fn stats(turn: &mut Turn<'_>) -> Result<()> {
    let variables = gallery_stats::Variables { filter: turn.state.filter.to_variable() };
    let stats = turn.execute::<GalleryStats>(variables).await?.gallery_stats;
    let types = stats.by_type.iter().map(|c| format!("{}: {}", c.type_.wire_name(), c.count));
    let lines: Vec<String> = types.chain(stats.by_model.iter().map(|c| format!("{}: {}", c.model, c.count))).collect();
    let t = turn.t();
    let text = fill(
        t.stats,
        &[
            ("total", &stats.total),
            ("favorites", &stats.favorites),
            ("last30", &stats.last30_days),
            ("spent", &stats.credits_spent),
            ("types", &lines.join("\n")),
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
    let is_video = card.media != MediaKind::Photo;
    let keyboard = keyboards::card(t, &card.id, card.generation_id.as_deref(), card.favorite, (index, total), is_video);
    let file = outgoing::media(&turn.bot.own_links, &card.url, card.telegram_file_id.as_deref(), card.media).await;
    let on_card = turn.origin.as_ref().filter(|o| o.is_photo).map(|o| o.message_id);
    let message = match on_card {
        Some(message_id) => {
            let media = card.media.input_media(file, caption);
            let request = turn.bot.api.edit_message_media(turn.chat, message_id, media).reply_markup(keyboard);
            match retrying(request).await {
                Ok(message) => Some(message),
                Err(error) if is_unchanged(&error) => None,
                Err(error) => return Err(error.into()),
            }
        }
        None => Some(send_media(turn.bot, turn.chat, card.media, file, caption, Some(keyboard)).await?),
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
    let keyboard = keyboards::card(
        turn.t(),
        &card.id,
        card.generation_id.as_deref(),
        card.favorite,
        (position.index, position.total),
        card.media != MediaKind::Photo,
    );
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
