use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;

use super::model::{GalleryCursor, GalleryFilter, GalleryStats, Image, Position, SavedFilter};
use super::repository as repo;
use super::stats_cache::StatsCache;
use crate::adapters::db::reads::Reads;
use crate::adapters::storage::{LinkWindow, Storage};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::storage::Objects;
use crate::domain::{Error, Result, time::now_micros};

/// Names of saved filters are 1–64 characters; a user keeps at most this many.
pub const MAX_SAVED_FILTERS: i64 = 20;

/// A user's images: pages under a filter, neighbours, favourites, deletion, statistics and
/// saved filters. Every call takes the user and touches only their images.
#[derive(Clone)]
pub struct GalleryService {
    db: DatabaseConnection,
    storage: Arc<dyn Storage>,
    stats: StatsCache,
    url_ttl: Duration,
    /// Connections for pages and neighbours (the hot reads), on PostgreSQL.
    reads: Reads,
}

impl GalleryService {
    pub fn new(
        db: DatabaseConnection,
        reads: Reads,
        storage: Arc<dyn Storage>,
        stats: StatsCache,
        url_ttl: Duration,
    ) -> Self {
        GalleryService { db, storage, stats, url_ttl, reads }
    }

    /// The images of these generations, for the generations' own answers.
    pub(crate) async fn of_generations(&self, generation_ids: &[i64]) -> Result<Vec<Image>> {
        repo::of_generations(&self.db, generation_ids).await
    }

    /// A signed link to the image that expires after `AISHA_IMAGE_URL_TTL_SECS`.
    pub async fn url(&self, image: &Image) -> Result<String> {
        self.storage
            .sign(image.bucket, &image.storage_key, LinkWindow::from_now(self.url_ttl))
            .await
            .map_err(|e| Error::failed(format!("signing a link to {}", image.storage_key), e))
    }

    /// A signed link to a clip's poster frame; None for a picture.
    pub async fn poster_url(&self, image: &Image) -> Result<Option<String>> {
        let Some(path) = &image.poster_key else { return Ok(None) };
        let link = self.storage.sign(image.bucket, path, LinkWindow::from_now(self.url_ttl)).await;
        link.map(Some).map_err(|e| Error::failed(format!("signing a link to {path}"), e))
    }

    pub async fn page(
        &self,
        user_id: i64,
        filter: &GalleryFilter,
        request: PageRequest<GalleryCursor>,
    ) -> Result<Page<Image>> {
        filter.validate()?;
        let seek = request.seek();
        let limit = seek.limit as usize;
        let rows = repo::seek(&self.reads, user_id, filter, seek.cursor, seek.newer, limit).await?;
        Ok(request.page(rows))
    }

    pub async fn count(&self, user_id: i64, filter: &GalleryFilter) -> Result<u64> {
        repo::count(&self.db, user_id, filter, None).await
    }

    pub async fn image(&self, user_id: i64, id: i64) -> Result<Image> {
        repo::find(&self.db, user_id, id).await?.ok_or(Error::NotFound("image"))
    }

    /// The image before (newer) or after (older) this one in the filter's order.
    pub async fn neighbour(&self, image: &Image, filter: &GalleryFilter, newer: bool) -> Result<Option<Image>> {
        filter.validate()?;
        let cursor = super::model::GalleryCursor::of(image);
        Ok(repo::seek(&self.reads, image.user_id, filter, Some(cursor), newer, 1).await?.pop())
    }

    /// Where the image stands in the filter (e.g. 3 of 17); None when the filter hides it.
    pub async fn position(&self, image: &Image, filter: &GalleryFilter) -> Result<Option<Position>> {
        filter.validate()?;
        if !repo::matches(&self.db, image.user_id, filter, image.id).await? {
            return Ok(None);
        }
        let cursor = super::model::GalleryCursor::of(image);
        let newer = repo::count(&self.db, image.user_id, filter, Some(cursor)).await?;
        let total = repo::count(&self.db, image.user_id, filter, None).await?;
        Ok(Some(Position { index: newer + 1, total }))
    }

    /// Marks or unmarks a favourite; doing it twice changes nothing more.
    pub async fn set_favorite(&self, user_id: i64, id: i64, favorite: bool) -> Result<Image> {
        if !repo::set_favorite(&self.db, user_id, id, favorite, now_micros()).await? {
            return Err(Error::NotFound("image"));
        }
        self.stats.invalidate(user_id).await;
        self.image(user_id, id).await
    }

    /// Remembers Telegram's id for the photo (the bot sends it by id from then on).
    pub async fn set_telegram_file_id(&self, user_id: i64, id: i64, file_id: &str) -> Result<Image> {
        let file_id = file_id.trim();
        if file_id.is_empty() || file_id.len() > 256 {
            return Err(Error::invalid("fileId must be 1-256 characters"));
        }
        if !repo::set_telegram_file_id(&self.db, user_id, id, file_id).await? {
            return Err(Error::NotFound("image"));
        }
        self.image(user_id, id).await
    }

    /// Deletes the image and its stored object.
    pub async fn delete(&self, user_id: i64, id: i64) -> Result<()> {
        let keys = repo::delete(&self.db, user_id, id).await?.ok_or(Error::NotFound("image"))?;
        self.stats.invalidate(user_id).await;
        // The row is gone, so nobody can reach the objects any more: a failed delete only
        // leaves an orphan to clean up, and is logged for that.
        for key in keys {
            if let Err(error) = self.storage.remove(&key).await {
                tracing::warn!(%error, %key, "could not delete a stored image; it is left over");
            }
        }
        Ok(())
    }

    pub async fn stats(&self, user_id: i64, filter: &GalleryFilter) -> Result<GalleryStats> {
        filter.validate()?;
        if let Some(stats) = self.stats.get(user_id, filter).await {
            return Ok(stats);
        }
        let month_ago = now_micros() - 30 * 24 * 3600 * 1_000_000;
        let stats = repo::stats(&self.db, user_id, filter, month_ago).await?;
        self.stats.put(user_id, filter, &stats).await;
        Ok(stats)
    }

    pub async fn saved_filters(&self, user_id: i64) -> Result<Vec<SavedFilter>> {
        repo::saved_filters(&self.db, user_id).await
    }

    pub async fn saved_filter(&self, user_id: i64, id: i64) -> Result<SavedFilter> {
        repo::saved_filter(&self.db, user_id, id).await?.ok_or(Error::NotFound("saved filter"))
    }

    /// Saves a named filter: names are 1–64 characters and unique per user, 20 filters at most.
    pub async fn save_filter(&self, user_id: i64, name: &str, filter: GalleryFilter) -> Result<SavedFilter> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(Error::invalid("a filter's name must be 1-64 characters"));
        }
        filter.validate()?;
        let json = serde_json::to_string(&filter).map_err(|e| Error::failed("writing a saved filter", e))?;
        match repo::insert_saved_filter(&self.db, user_id, name, &json, MAX_SAVED_FILTERS, now_micros()).await? {
            Some(id) => self.saved_filter(user_id, id).await,
            None if repo::saved_filters(&self.db, user_id).await?.iter().any(|f| f.name == name) => {
                Err(Error::invalid(format!("you already have a filter named {name:?}")))
            }
            None => Err(Error::invalid(format!("you can keep at most {MAX_SAVED_FILTERS} filters"))),
        }
    }

    pub async fn delete_saved_filter(&self, user_id: i64, id: i64) -> Result<()> {
        if repo::delete_saved_filter(&self.db, user_id, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("saved filter"))
        }
    }
}
