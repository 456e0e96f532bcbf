use serde::{Deserialize, Serialize};

use crate::adapters::storage::Bucket;
use crate::domain::{Error, Result, generations::AspectRatio, time::Micros};

/// What an image is: the gallery filters by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageKind {
    /// Made by Google Imagen 4.
    Imagen4,
    /// Made with the user's trained avatar.
    Avatar,
    /// Drawn by the local renderer (not AI).
    Local,
}

impl ImageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::Imagen4 => "IMAGEN4",
            ImageKind::Avatar => "AVATAR",
            ImageKind::Local => "LOCAL",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "IMAGEN4" => ImageKind::Imagen4,
            "AVATAR" => ImageKind::Avatar,
            "LOCAL" => ImageKind::Local,
            other => return Err(Error::internal(format!("unknown image kind {other:?}"))),
        })
    }

    /// Imagen 4 results live in the images bucket; avatar results with the photos.
    pub fn bucket(self) -> Bucket {
        match self {
            ImageKind::Avatar => Bucket::Photos,
            ImageKind::Imagen4 | ImageKind::Local => Bucket::Images,
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
}
