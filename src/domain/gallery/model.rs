use serde::{Deserialize, Serialize};

use crate::domain::storage::Bucket;
use crate::domain::{Error, Result, generations::AspectRatio, time::Micros};

/// What an image is: the gallery filters by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageKind {
    /// Made by Google Imagen 4.
    Imagen4,
    /// Made by FLUX 1.1 [pro] ultra.
    Flux,
    /// Made by Ideogram 3 (text in pictures).
    Ideogram,
    /// Made with the user's trained avatar.
    Avatar,
    /// Drawn by the local renderer (not AI).
    Local,
    /// A clip animated from one of the user's pictures.
    Video,
}

impl ImageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::Imagen4 => "IMAGEN4",
            ImageKind::Flux => "FLUX",
            ImageKind::Ideogram => "IDEOGRAM",
            ImageKind::Avatar => "AVATAR",
            ImageKind::Local => "LOCAL",
            ImageKind::Video => "VIDEO",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "IMAGEN4" => ImageKind::Imagen4,
            "FLUX" => ImageKind::Flux,
            "IDEOGRAM" => ImageKind::Ideogram,
            "AVATAR" => ImageKind::Avatar,
            "LOCAL" => ImageKind::Local,
            "VIDEO" => ImageKind::Video,
            other => return Err(Error::internal(format!("unknown image kind {other:?}"))),
        })
    }

    /// Text-to-image results live in the images bucket; avatar results with the photos.
    pub fn bucket(self) -> Bucket {
        match self {
            ImageKind::Avatar => Bucket::Photos,
            ImageKind::Imagen4 | ImageKind::Flux | ImageKind::Ideogram | ImageKind::Local | ImageKind::Video => {
                Bucket::Images
            }
        }
    }
}

/// A stored image: the database keeps where it is and what it is, never a URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub id: i64,
    pub user_id: i64,
    pub generation_id: Option<i64>,
    pub avatar_id: Option<i64>,
    pub kind: ImageKind,
    pub model: String,
    pub prompt: String,
    pub aspect_ratio: AspectRatio,
    pub bucket: Bucket,
    pub storage_key: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub byte_size: i64,
    pub sha256: String,
    pub favorite: bool,
    pub created_at: Micros,
    /// The id of this photo on Telegram's servers, once the bot has sent it.
    pub telegram_file_id: Option<String>,
    /// What the model's safety checker said of it (a blocked picture is never stored).
    #[serde(default)]
    pub moderation: Moderation,
    /// A clip's length (videos only).
    #[serde(default)]
    pub duration_ms: Option<u32>,
    /// A clip's poster frame: the picture it was animated from, stored beside it.
    #[serde(default)]
    pub poster_key: Option<String>,
}

impl Image {
    pub fn is_video(&self) -> bool {
        self.kind == ImageKind::Video
    }
}

/// The safety verdict a stored image carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Moderation {
    /// The model has no checker, or did not report one (Imagen 4 filters silently: what it
    /// blocks it does not return).
    #[default]
    NotReported,
    /// The model's checker looked at it and passed it.
    Passed,
}

impl Moderation {
    pub(crate) fn stored(self) -> Option<&'static str> {
        match self {
            Moderation::NotReported => None,
            Moderation::Passed => Some("PASSED"),
        }
    }

    pub(crate) fn from_stored(value: Option<&str>) -> Self {
        match value {
            Some("PASSED") => Moderation::Passed,
            _ => Moderation::NotReported,
        }
    }
}

/// Which images a gallery view shows. Every field narrows; an empty filter shows everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GalleryFilter {
    pub types: Vec<ImageKind>,
    pub models: Vec<String>,
    pub favorites_only: bool,
    /// Inclusive.
    pub created_after: Option<Micros>,
    /// Exclusive.
    pub created_before: Option<Micros>,
    pub aspect_ratios: Vec<AspectRatio>,
    pub avatar_ids: Vec<i64>,
    /// Case-insensitive substring of the prompt.
    pub prompt_contains: Option<String>,
}

impl GalleryFilter {
    /// Refuses filters that cannot match anything by construction.
    pub fn validate(&self) -> Result<()> {
        if let (Some(after), Some(before)) = (self.created_after, self.created_before)
            && after >= before
        {
            return Err(Error::invalid("createdAfter must be before createdBefore"));
        }
        if self.prompt_contains.as_ref().is_some_and(|p| p.chars().count() > 200) {
            return Err(Error::invalid("promptContains must be at most 200 characters"));
        }
        let too_many = [self.types.len(), self.models.len(), self.aspect_ratios.len(), self.avatar_ids.len()];
        if too_many.iter().any(|n| *n > 50) {
            return Err(Error::invalid("a filter list may hold at most 50 values"));
        }
        Ok(())
    }
}

/// A place in the gallery's order (newest first): the seek key of keyset pagination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GalleryCursor {
    pub created_at: Micros,
    pub id: i64,
}

impl GalleryCursor {
    pub fn of(image: &Image) -> Self {
        GalleryCursor { created_at: image.created_at, id: image.id }
    }
}

/// Where an image stands within a filter: `index` of `total`, counting from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub index: u64,
    pub total: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GalleryStats {
    pub total: u64,
    pub favorites: u64,
    pub by_type: Vec<(ImageKind, u64)>,
    pub by_model: Vec<(String, u64)>,
    pub last_30_days: u64,
    /// Net credits spent on paid actions (charges less refunds), from the ledger.
    pub credits_spent: i64,
    pub last_generated_at: Option<Micros>,
}

/// A named filter the user can pick again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedFilter {
    pub id: i64,
    pub name: String,
    pub filter: GalleryFilter,
    pub created_at: Micros,
}
