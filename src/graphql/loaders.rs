//! DataLoaders: what a list resolves per item is loaded for the whole list at once. They hold no
//! cache (each load reads fresh data) and check no owner: the resolvers that use them do.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;

use crate::domain::{self, Services};

pub struct GenerationLoader(pub Services);

impl Loader<i64> for GenerationLoader {
    type Value = Arc<domain::generations::Generation>;
    type Error = Arc<domain::Error>;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let generations = self.0.generations.get_many(ids).await.map_err(Arc::new)?;
        Ok(generations.into_iter().map(|g| (g.id, Arc::new(g))).collect())
    }
}

/// An avatar's photos (accepted and refused), by avatar id.
pub struct AvatarPhotoLoader(pub Services);

impl Loader<i64> for AvatarPhotoLoader {
    type Value = Arc<Vec<domain::avatars::AvatarPhoto>>;
    type Error = Arc<domain::Error>;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let mut by_avatar: HashMap<i64, Vec<domain::avatars::AvatarPhoto>> =
            ids.iter().map(|id| (*id, Vec::new())).collect();
        for photo in self.0.avatars.photos_of(ids).await.map_err(Arc::new)? {
            by_avatar.entry(photo.avatar_id).or_default().push(photo);
        }
        Ok(by_avatar.into_iter().map(|(id, photos)| (id, Arc::new(photos))).collect())
    }
}

/// Ledger rows by id (a list of promo redemptions shows the row each one paid).
pub struct TransactionLoader(pub Services);

impl Loader<i64> for TransactionLoader {
    type Value = Arc<domain::credits::LedgerEntry>;
    type Error = Arc<domain::Error>;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let entries = self.0.credits.entries(ids).await.map_err(Arc::new)?;
        Ok(entries.into_iter().map(|e| (e.id, Arc::new(e))).collect())
    }
}
