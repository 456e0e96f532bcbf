//! Cached gallery statistics. Each user has a version token; cached stats live under a key that
//! includes it, and any change (a new image, a favourite, a delete) replaces the token, so old
//! entries are never read again and simply expire — no key scan, and it works the same on Redis.

use std::{sync::Arc, time::Duration};

use sha2::{Digest, Sha256};

use super::model::{GalleryFilter, GalleryStats};
use crate::adapters::cache::Cache;

const STATS_TTL: Duration = Duration::from_secs(600);
/// Longer than any stats entry, so a version outlives what it guards.
const VERSION_TTL: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct StatsCache {
    cache: Arc<dyn Cache>,
}

impl StatsCache {
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        StatsCache { cache }
    }

    /// Forgets every cached statistic of the user.
    pub async fn invalidate(&self, user_id: i64) {
        let token = format!("{:016x}", rand::random::<u64>());
        if let Err(error) = self.cache.set(&version_key(user_id), &token, VERSION_TTL).await {
            tracing::warn!(%error, user_id, "could not invalidate gallery stats");
        }
    }

    pub async fn get(&self, user_id: i64, filter: &GalleryFilter) -> Option<GalleryStats> {
        let key = self.key(user_id, filter).await?;
        let cached = self.cache.get(&key).await.ok()??;
        serde_json::from_str(&cached).ok()
    }

    pub async fn put(&self, user_id: i64, filter: &GalleryFilter, stats: &GalleryStats) {
        let (Some(key), Ok(json)) = (self.key(user_id, filter).await, serde_json::to_string(stats)) else { return };
        if let Err(error) = self.cache.set(&key, &json, STATS_TTL).await {
            tracing::warn!(%error, user_id, "could not cache gallery stats");
        }
    }

    /// `stats:<user>:<version>:<filter>`; None when the cache cannot be reached.
    async fn key(&self, user_id: i64, filter: &GalleryFilter) -> Option<String> {
        let version_key = version_key(user_id);
        let version = match self.cache.get(&version_key).await.ok()? {
            Some(version) => version,
            None => {
                // No version yet (or it expired): start one; nothing cached under it can be stale.
                let token = format!("{:016x}", rand::random::<u64>());
                self.cache.set_if_absent(&version_key, &token, VERSION_TTL).await.ok()?;
                self.cache.get(&version_key).await.ok()??
            }
        };
        let filter = serde_json::to_string(filter).ok()?;
        let filter = hex::encode(&Sha256::digest(filter.as_bytes())[..12]);
        Some(format!("stats:{user_id}:{version}:{filter}"))
    }
}

fn version_key(user_id: i64) -> String {
    format!("stats-version:{user_id}")
}
