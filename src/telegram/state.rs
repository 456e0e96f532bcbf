//! Per-chat UI state — the screen, the draft of a generation, the gallery filter and card —
//! kept in the cache adapter (Redis with a TTL when configured), never in the database: losing
//! it only sends the user back to the menu.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::callback::Period;
use super::operations::{DateTime, GalleryFilter, ImageType};
use super::texts::Lang;
use crate::adapters::cache::Cache;

const TTL: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Screen {
    #[default]
    Menu,
    AwaitPrompt,
    Ratio,
    Count,
    Confirm,
    Gallery,
    Filters,
    Stats,
    ConfirmDelete,
    Balance,
    TopUp,
    Help,
    Language,
    Avatars,
    Avatar,
    AwaitAvatarName,
    AvatarKind,
    AwaitPhotos,
    ConfirmDeleteAvatar,
    PaySupport,
    ConfirmRefund,
    AwaitPromo,
    Settings,
    History,
    Spending,
    Invite,
    ConfirmDeleteAccount,
    /// Waiting for the new prompt of a generation made again (`ChatState::editing`).
    AwaitEditedPrompt,
    /// Waiting for the new name of the avatar on screen (`ChatState::avatar`).
    AwaitAvatarRename,
    /// The style categories.
    Styles,
    /// The templates of a category (or the favourites).
    StyleList,
    /// One template with its preview.
    StyleCard,
    /// Waiting for the subject of the chosen template.
    AwaitSubject,
    /// An enhanced prompt on display, to use or leave.
    Suggestion,
}

impl Screen {
    /// Where "Back" leads from here.
    pub fn parent(self) -> Screen {
        match self {
            Screen::Ratio => Screen::AwaitPrompt,
            Screen::Count => Screen::Ratio,
            Screen::Confirm => Screen::Count,
            Screen::Suggestion => Screen::Confirm,
            Screen::Filters | Screen::Stats | Screen::ConfirmDelete => Screen::Gallery,
            Screen::TopUp | Screen::AwaitPromo | Screen::History | Screen::Spending => Screen::Balance,
            Screen::Avatar | Screen::AwaitAvatarName => Screen::Avatars,
            Screen::AvatarKind => Screen::AwaitAvatarName,
            Screen::AwaitPhotos | Screen::ConfirmDeleteAvatar | Screen::AwaitAvatarRename => Screen::Avatar,
            Screen::ConfirmRefund => Screen::PaySupport,
            Screen::ConfirmDeleteAccount => Screen::Settings,
            Screen::StyleList | Screen::StyleCard | Screen::AwaitSubject => Screen::Styles,
            Screen::Styles => Screen::AwaitPrompt,
            _ => Screen::Menu,
        }
    }
}

/// A generation being put together, step by step.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Draft {
    pub prompt: Option<String>,
    pub ratio: Option<String>,
    pub count: Option<u8>,
    /// Generating with this avatar (FLUX LoRA) rather than Imagen 4.
    pub avatar: Option<String>,
    /// A style template (`prompt` is then its subject), with the model and format it suits.
    #[serde(default)]
    pub style: Option<DraftStyle>,
    /// The user's own words when `prompt` is an enhancement of them.
    #[serde(default)]
    pub original: Option<String>,
    /// An enhancement on display, until it is used or left.
    #[serde(default)]
    pub suggestion: Option<String>,
}

/// The style template a draft is made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftStyle {
    pub template_id: String,
    pub model: String,
    pub ratio: String,
}

/// The gallery filter as the buttons set it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CardFilter {
    pub kind: Option<ImageType>,
    pub favorites: bool,
    pub period: Option<Period>,
    /// Start of the period, fixed when it was chosen so that positions stay stable.
    pub since: Option<DateTime>,
    /// A saved filter, when one is chosen.
    pub saved: Option<GalleryFilter>,
}

impl CardFilter {
    /// The `GalleryFilter` variable: the saved filter, narrowed by the buttons.
    pub fn to_variable<F: From<GalleryFilter>>(&self) -> Option<F> {
        let mut filter = self.saved.clone().unwrap_or_default();
        if let Some(kind) = self.kind {
            filter.types = vec![kind];
        }
        if self.favorites {
            filter.favorites_only = true;
        }
        if let Some(since) = self.since {
            filter.created_after = Some(since);
        }
        Some(filter.into())
    }
}

/// The gallery card on screen: which message shows which image.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Card {
    pub message_id: i32,
    pub image_id: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ChatState {
    pub lang: Option<Lang>,
    pub screen: Screen,
    pub draft: Draft,
    pub filter: CardFilter,
    pub card: Option<Card>,
    /// The avatar on screen (being made, or shown).
    pub avatar: Option<String>,
    /// A new avatar's name, until its type is chosen.
    pub avatar_name: Option<String>,
    /// The message showing the current screen (e.g. the one counting photos received).
    pub screen_message: Option<i32>,
    /// The generation whose prompt is being edited.
    #[serde(default)]
    pub editing: Option<String>,
}

fn key(chat_id: i64) -> String {
    format!("tg:chat:{chat_id}")
}

/// The chat's state; a fresh one when there is none or it cannot be read.
pub async fn load(cache: &dyn Cache, chat_id: i64) -> ChatState {
    match cache.get(&key(chat_id)).await {
        Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_else(|error| {
            // Written by an older bot, say: the chat starts again from the menu.
            tracing::info!(%error, "a chat's state could not be read; starting afresh");
            ChatState::default()
        }),
        Ok(None) => ChatState::default(),
        Err(error) => {
            tracing::warn!(%error, "could not read a chat's state");
            ChatState::default()
        }
    }
}

pub async fn save(cache: &dyn Cache, chat_id: i64, state: &ChatState) -> anyhow::Result<()> {
    cache.set(&key(chat_id), &serde_json::to_string(state)?, TTL).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_variable_combines_buttons_and_saved_filters() {
        let mut filter = CardFilter { kind: Some(ImageType::Imagen4), favorites: true, ..Default::default() };
        let wanted = GalleryFilter { types: vec![ImageType::Imagen4], favorites_only: true, ..Default::default() };
        assert_eq!(filter.to_variable::<GalleryFilter>(), Some(wanted));
        let cats = GalleryFilter { prompt_contains: Some("cat".into()), ..Default::default() };
        filter = CardFilter { saved: Some(cats.clone()), kind: Some(ImageType::Avatar), ..Default::default() };
        let wanted = GalleryFilter { types: vec![ImageType::Avatar], ..cats };
        assert_eq!(filter.to_variable::<GalleryFilter>(), Some(wanted));
        assert_eq!(Screen::Confirm.parent(), Screen::Count);
    }
}
