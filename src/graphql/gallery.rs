//! The gallery: pages of images under a filter, an image's neighbours and position, favourites,
//! deletion, statistics and saved filters.

use super::pagination::{ROW_COST, STATS_COST, page_cost};
use async_graphql::{
    Context, ID, InputObject, Object, SimpleObject,
    connection::{Connection, CursorType, Edge},
    dataloader::DataLoader,
};
use chrono::{DateTime, Utc};

use super::context::{current_bot_user, current_user, services};
use super::ids::{Kind, decode_as, encode};
use super::images::{Image, ImageType};
use super::loaders::GenerationLoader;
use super::pagination::{decode_cursor, encode_cursor, page_request};
use crate::domain::{
    self, Error, Result,
    gallery::{GalleryCursor, GalleryFilter, ImageKind},
    generations::AspectRatio,
    time::to_datetime,
};

/// Which images to show; every field narrows, an empty filter shows everything.
#[derive(InputObject, SimpleObject, Clone, Default)]
#[graphql(input_name = "GalleryFilter", name = "GalleryFilterValue")]
pub struct GalleryFilterInput {
    #[graphql(default)]
    pub types: Vec<ImageType>,
    #[graphql(default)]
    pub models: Vec<String>,
    #[graphql(default)]
    pub favorites_only: bool,
    /// Inclusive.
    pub created_after: Option<DateTime<Utc>>,
    /// Exclusive.
    pub created_before: Option<DateTime<Utc>>,
    /// `1:1`, `16:9`, `9:16`, `3:4`, `4:3`.
    #[graphql(default)]
    pub aspect_ratios: Vec<String>,
    #[graphql(default)]
    pub avatar_ids: Vec<ID>,
    /// Case-insensitive substring of the prompt.
    pub prompt_contains: Option<String>,
}

impl GalleryFilterInput {
    pub fn parse(filter: Option<GalleryFilterInput>) -> Result<GalleryFilter> {
        let Some(f) = filter else { return Ok(GalleryFilter::default()) };
        Ok(GalleryFilter {
            types: f.types.into_iter().map(ImageKind::from).collect(),
            models: f.models,
            favorites_only: f.favorites_only,
            created_after: f.created_after.map(|t| t.timestamp_micros()),
            created_before: f.created_before.map(|t| t.timestamp_micros()),
            aspect_ratios: f.aspect_ratios.iter().map(|r| AspectRatio::parse(r)).collect::<Result<_>>()?,
            avatar_ids: f.avatar_ids.iter().map(|id| decode_as(id, Kind::Avatar, "avatar")).collect::<Result<_>>()?,
            prompt_contains: f.prompt_contains,
        })
    }

    fn show(filter: &GalleryFilter) -> GalleryFilterInput {
        GalleryFilterInput {
            types: filter.types.iter().map(|k| (*k).into()).collect(),
            models: filter.models.clone(),
            favorites_only: filter.favorites_only,
            created_after: filter.created_after.map(to_datetime),
            created_before: filter.created_before.map(to_datetime),
            aspect_ratios: filter.aspect_ratios.iter().map(|r| r.as_str().to_owned()).collect(),
            avatar_ids: filter.avatar_ids.iter().map(|id| encode(Kind::Avatar, *id)).collect(),
            prompt_contains: filter.prompt_contains.clone(),
        }
    }
}

/// An edge's cursor is kept as its seek key and written out only when a client asks for it:
/// most pages are read without cursors (`pageInfo` carries the ends).
impl CursorType for GalleryCursor {
    type Error = Error;

    fn decode_cursor(cursor: &str) -> Result<Self> {
        decode_gallery_cursor(cursor)
    }

    fn encode_cursor(&self) -> String {
        encode_cursor(&format!("img:{}:{}", self.created_at, self.id))
    }
}

fn decode_gallery_cursor(cursor: &str) -> Result<GalleryCursor> {
    let key = decode_cursor(cursor)?;
    let mut parts = key.strip_prefix("img:").unwrap_or("").splitn(2, ':');
    match (parts.next().and_then(|a| a.parse().ok()), parts.next().and_then(|b| b.parse().ok())) {
        (Some(created_at), Some(id)) => Ok(GalleryCursor { created_at, id }),
        _ => Err(Error::invalid("invalid cursor")),
    }
}

#[derive(Default)]
pub struct GalleryQuery;

#[Object]
impl GalleryQuery {
    /// Your images, newest first (Relay connection; `first`/`after` forwards, `last`/`before`
    /// backwards).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn gallery(
        &self,
        ctx: &Context<'_>,
        filter: Option<GalleryFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<GalleryCursor, Image, GalleryTotal>> {
        let user = current_user(ctx).await?;
        let filter = GalleryFilterInput::parse(filter)?;
        let request = page_request(ctx, (first, after), (last, before), decode_gallery_cursor)?;
        let page = services(ctx).gallery.page(user, &filter, request).await?;
        // A page that shows each image's generation loads them in one batch, up front.
        let wants_generations = ctx.look_ahead().field("edges").field("node").field("generation").exists();
        let generations = if wants_generations {
            let ids: Vec<i64> = page.items.iter().filter_map(|i| i.generation_id).collect();
            let loader = ctx.data_unchecked::<DataLoader<GenerationLoader>>();
            Some(loader.load_many(ids).await.map_err(Error::internal)?)
        } else {
            None
        };
        let mut connection =
            Connection::with_additional_fields(page.has_previous, page.has_next, GalleryTotal { user, filter });
        connection.edges.extend(page.items.into_iter().map(|image| {
            let cursor = GalleryCursor::of(&image);
            let node = match &generations {
                Some(loaded) => {
                    let generation = image.generation_id.and_then(|id| loaded.get(&id).cloned());
                    Image::with_generation(image, generation)
                }
                None => Image::new(image),
            };
            Edge::new(cursor, node)
        }));
        Ok(connection)
    }

    /// One of your images.
    #[graphql(complexity = "ROW_COST + child_complexity")]
    async fn image(&self, ctx: &Context<'_>, id: ID) -> Result<Image> {
        let user = current_user(ctx).await?;
        Ok(Image::new(services(ctx).gallery.image(user, decode_as(&id, Kind::Image, "image")?).await?))
    }

    /// Counts over your images (cached; any change refreshes them).
    #[graphql(complexity = "STATS_COST + child_complexity")]
    async fn gallery_stats(&self, ctx: &Context<'_>, filter: Option<GalleryFilterInput>) -> Result<GalleryStats> {
        let user = current_user(ctx).await?;
        Ok(GalleryStats(services(ctx).gallery.stats(user, &GalleryFilterInput::parse(filter)?).await?))
    }

    #[graphql(complexity = "ROW_COST + child_complexity")]

    async fn saved_filters(&self, ctx: &Context<'_>) -> Result<Vec<SavedFilter>> {
        let user = current_user(ctx).await?;
        Ok(services(ctx).gallery.saved_filters(user).await?.into_iter().map(SavedFilter).collect())
    }
}

pub struct GalleryTotal {
    user: i64,
    filter: GalleryFilter,
}

#[Object]
impl GalleryTotal {
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        services(ctx).gallery.count(self.user, &self.filter).await
    }
}

#[derive(InputObject)]
pub struct SaveFilterInput {
    /// 1–64 characters, unique among your filters.
    pub name: String,
    pub filter: GalleryFilterInput,
}

#[derive(Default)]
pub struct GalleryMutation;

#[Object]
impl GalleryMutation {
    /// Marks or unmarks a favourite; repeating it changes nothing.
    async fn set_favorite(&self, ctx: &Context<'_>, image_id: ID, favorite: bool) -> Result<Image> {
        let user = current_user(ctx).await?;
        let id = decode_as(&image_id, Kind::Image, "image")?;
        Ok(Image::new(services(ctx).gallery.set_favorite(user, id, favorite).await?))
    }

    /// Bot only: remembers the id Telegram gave this photo, so that it is sent by id later.
    async fn remember_telegram_file_id(&self, ctx: &Context<'_>, image_id: ID, file_id: String) -> Result<Image> {
        let user = current_bot_user(ctx).await?;
        let id = decode_as(&image_id, Kind::Image, "image")?;
        Ok(Image::new(services(ctx).gallery.set_telegram_file_id(user, id, &file_id).await?))
    }

    /// Deletes the image and its stored file.
    async fn delete_image(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let user = current_user(ctx).await?;
        services(ctx).gallery.delete(user, decode_as(&id, Kind::Image, "image")?).await?;
        Ok(true)
    }

    /// Saves a named filter (at most 20).
    async fn save_filter(&self, ctx: &Context<'_>, input: SaveFilterInput) -> Result<SavedFilter> {
        let user = current_user(ctx).await?;
        let filter = GalleryFilterInput::parse(Some(input.filter))?;
        Ok(SavedFilter(services(ctx).gallery.save_filter(user, &input.name, filter).await?))
    }

    async fn delete_saved_filter(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let user = current_user(ctx).await?;
        services(ctx).gallery.delete_saved_filter(user, decode_as(&id, Kind::SavedFilter, "saved filter")?).await?;
        Ok(true)
    }
}

pub struct SavedFilter(pub domain::gallery::SavedFilter);

#[Object]
impl SavedFilter {
    pub async fn id(&self) -> ID {
        encode(Kind::SavedFilter, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn filter(&self) -> GalleryFilterInput {
        GalleryFilterInput::show(&self.0.filter)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.created_at)
    }
}

/// Where an image stands within a filter: `index` of `total`, from 1 (the newest).
#[derive(SimpleObject)]
pub struct GalleryPosition {
    index: u64,
    total: u64,
}

impl From<domain::gallery::Position> for GalleryPosition {
    fn from(p: domain::gallery::Position) -> Self {
        GalleryPosition { index: p.index, total: p.total }
    }
}

#[derive(SimpleObject)]
pub struct TypeCount {
    #[graphql(name = "type")]
    kind: ImageType,
    count: u64,
}

#[derive(SimpleObject)]
pub struct ModelCount {
    model: String,
    count: u64,
}

pub struct GalleryStats(domain::gallery::GalleryStats);

#[Object]
impl GalleryStats {
    async fn total(&self) -> u64 {
        self.0.total
    }
    async fn favorites(&self) -> u64 {
        self.0.favorites
    }
    async fn by_type(&self) -> Vec<TypeCount> {
        self.0.by_type.iter().map(|(kind, count)| TypeCount { kind: (*kind).into(), count: *count }).collect()
    }
    async fn by_model(&self) -> Vec<ModelCount> {
        self.0.by_model.iter().map(|(model, count)| ModelCount { model: model.clone(), count: *count }).collect()
    }
    /// Images made in the last 30 days.
    #[graphql(name = "last30Days")]
    async fn last_30_days(&self) -> u64 {
        self.0.last_30_days
    }
    /// Net credits you spent on paid actions (charges less refunds), from the ledger; not
    /// narrowed by the filter.
    async fn credits_spent(&self) -> i64 {
        self.0.credits_spent
    }
    async fn last_generated_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_generated_at.map(to_datetime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Any cursor a client sends is decoded or refused as bad input, never a panic.
        #[test]
        fn any_cursor_is_decoded_or_refused(cursor in "\\PC{0,120}") {
            if let Err(error) = decode_gallery_cursor(&cursor) {
                proptest::prop_assert!(matches!(error, Error::InvalidInput(_)));
            }
        }

        /// The cursors we hand out come back as the same position.
        #[test]
        fn our_cursors_round_trip(created_at in proptest::num::i64::ANY, id in proptest::num::i64::ANY) {
            let cursor = GalleryCursor { created_at, id };
            let decoded = decode_gallery_cursor(&cursor.encode_cursor()).map(|c| (c.created_at, c.id));
            proptest::prop_assert_eq!(decoded.ok(), Some((created_at, id)));
        }
    }
}
