//! Stored images as clients see them: a signed link, what they are, and their place in the
//! gallery (neighbours and position under a filter).

use super::pagination::{BATCHED_COST, PER_ITEM_SQL_COST};
use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, dataloader::DataLoader};
use chrono::{DateTime, Utc};

use super::context::services;
use super::gallery::{GalleryFilterInput, GalleryPosition};
use super::generations::Generation;
use super::ids::{Kind, encode};
use super::loaders::GenerationLoader;
use crate::domain::{self, Result, gallery::ImageKind, time::to_datetime};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "ImageKind")]
pub enum ImageType {
    /// Made by Google Imagen 4.
    #[graphql(name = "IMAGEN4")]
    Imagen4,
    /// Made by FLUX 1.1 [pro] ultra.
    Flux,
    /// Made by Ideogram 3.
    Ideogram,
    /// Made with one of your avatars.
    Avatar,
    /// Drawn by the local renderer: not AI.
    Local,
    /// A clip animated from one of your pictures (`animateImage`).
    Video,
}

pub struct Image {
    image: domain::gallery::Image,
    /// The generation, when a list loaded them all at once beforehand.
    generation: Option<Option<Arc<domain::generations::Generation>>>,
}

impl Image {
    pub fn new(image: domain::gallery::Image) -> Self {
        Image { image, generation: None }
    }

    pub fn with_generation(
        image: domain::gallery::Image,
        generation: Option<Arc<domain::generations::Generation>>,
    ) -> Self {
        Image { image, generation: Some(generation) }
    }
}

#[Object]
impl Image {
    pub async fn id(&self) -> ID {
        encode(Kind::Image, self.image.id)
    }
    /// A signed link that works for at least an hour (by default) and stays the same for ten
    /// minutes, so that the image can be cached by its link.
    async fn url(&self, ctx: &Context<'_>) -> Result<String> {
        services(ctx).gallery.url(&self.image).await
    }
    /// A clip's poster frame (the picture it was animated from), a signed link like `url`;
    /// null for a picture.
    async fn poster_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        services(ctx).gallery.poster_url(&self.image).await
    }
    /// A clip's length in milliseconds; null for a picture.
    async fn duration_ms(&self) -> Option<i32> {
        self.image.duration_ms.map(|ms| ms.min(i32::MAX as u32) as i32)
    }
    async fn width(&self) -> i32 {
        self.image.width as i32
    }
    async fn height(&self) -> i32 {
        self.image.height as i32
    }
    async fn content_type(&self) -> &str {
        &self.image.content_type
    }
    async fn byte_size(&self) -> i64 {
        self.image.byte_size
    }
    /// Hex SHA-256 of the stored bytes.
    async fn sha256(&self) -> &str {
        &self.image.sha256
    }
    #[graphql(name = "type")]
    async fn kind(&self) -> ImageType {
        self.image.kind.into()
    }
    async fn model(&self) -> &str {
        &self.image.model
    }
    async fn prompt(&self) -> &str {
        &self.image.prompt
    }
    async fn aspect_ratio(&self) -> &str {
        self.image.aspect_ratio.as_str()
    }
    /// Telegram's id for this photo, once our bot has sent it.
    async fn telegram_file_id(&self) -> Option<&str> {
        self.image.telegram_file_id.as_deref()
    }
    async fn favorite(&self) -> bool {
        self.image.favorite
    }
    /// What the model's safety checker said of it (a blocked picture is never stored).
    async fn moderation(&self) -> ModerationVerdict {
        self.image.moderation.into()
    }
    /// The id of the generation that made it (no query; `generation` loads it whole).
    async fn generation_id(&self) -> Option<ID> {
        self.image.generation_id.map(|id| encode(Kind::Generation, id))
    }
    /// The generation that made it (batched: a page of images costs one query).
    #[graphql(complexity = "BATCHED_COST + child_complexity")]
    async fn generation(&self, ctx: &Context<'_>) -> Result<Option<Generation>> {
        let Some(id) = self.image.generation_id else { return Ok(None) };
        let generation = match &self.generation {
            Some(preloaded) => preloaded.as_deref().cloned(),
            None => {
                let loader = ctx.data_unchecked::<DataLoader<GenerationLoader>>();
                loader.load_one(id).await.map_err(domain::Error::internal)?.map(|g| (*g).clone())
            }
        };
        // Images and their generations share an owner; checked all the same.
        Ok(generation.filter(|g| g.user_id == self.image.user_id).map(Generation))
    }
    /// The next newer image under `filter` (◀️), or null at the newest.
    #[graphql(complexity = "PER_ITEM_SQL_COST + child_complexity")]
    async fn previous(&self, ctx: &Context<'_>, filter: Option<GalleryFilterInput>) -> Result<Option<Image>> {
        let filter = GalleryFilterInput::parse(filter)?;
        Ok(services(ctx).gallery.neighbour(&self.image, &filter, true).await?.map(Image::new))
    }
    /// The next older image under `filter` (▶️), or null at the oldest.
    #[graphql(complexity = "PER_ITEM_SQL_COST + child_complexity")]
    async fn next(&self, ctx: &Context<'_>, filter: Option<GalleryFilterInput>) -> Result<Option<Image>> {
        let filter = GalleryFilterInput::parse(filter)?;
        Ok(services(ctx).gallery.neighbour(&self.image, &filter, false).await?.map(Image::new))
    }
    /// Where it stands under `filter` (e.g. 3 of 17); null when the filter hides it.
    #[graphql(complexity = "PER_ITEM_SQL_COST + child_complexity")]
    async fn position(&self, ctx: &Context<'_>, filter: Option<GalleryFilterInput>) -> Result<Option<GalleryPosition>> {
        let filter = GalleryFilterInput::parse(filter)?;
        Ok(services(ctx).gallery.position(&self.image, &filter).await?.map(GalleryPosition::from))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        to_datetime(self.image.created_at)
    }
}

/// The safety verdict a stored image carries.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::gallery::Moderation")]
pub enum ModerationVerdict {
    /// The model has no checker or did not report (Imagen 4 does not return what it blocks).
    NotReported,
    /// The model's checker passed it.
    Passed,
}
