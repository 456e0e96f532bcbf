use std::{collections::HashSet, sync::Arc, time::Duration};

use futures_util::{Stream, StreamExt, stream};
use sea_orm::{DatabaseConnection, TransactionTrait};
use sha2::{Digest, Sha256};

use super::model::{Avatar, AvatarPhoto, PhotoStatus, TrainingType, Upload};
use super::photos::{MAX_PHOTOS, MIN_PHOTOS, inspect};
use super::repository::{self as repo, NewAvatar, NewPhoto};
use crate::adapters::{
    bus::EventBus,
    storage::{LinkWindow, Storage},
};
use crate::domain::gallery::StatsCache;
use crate::domain::jobs::JobEngine;
use crate::domain::rate_limits::{Action, Caller, RateLimiter};
use crate::domain::storage::{Bucket, Objects, StorageKey};
use crate::domain::{Error, Result, events::Event, time::now_micros};

#[derive(Clone, Debug)]
pub struct AvatarSettings {
    /// Credits a training costs (`AISHA_TRAINING_PRICE`).
    pub training_price: i64,
    /// How long signed photo links live.
    pub url_ttl: Duration,
}

#[derive(Clone)]
pub struct AvatarService {
    db: DatabaseConnection,
    storage: Arc<dyn Storage>,
    bus: Arc<dyn EventBus>,
    jobs: JobEngine,
    stats: StatsCache,
    rate_limits: RateLimiter,
    settings: AvatarSettings,
}

impl AvatarService {
    pub fn new(
        db: DatabaseConnection,
        storage: Arc<dyn Storage>,
        bus: Arc<dyn EventBus>,
        jobs: JobEngine,
        stats: StatsCache,
        rate_limits: RateLimiter,
        settings: AvatarSettings,
    ) -> Self {
        AvatarService { db, storage, bus, jobs, stats, rate_limits, settings }
    }

    pub fn training_price(&self) -> i64 {
        self.settings.training_price
    }

    /// A `DRAFT` avatar with a trigger phrase of its own.
    pub async fn create(&self, user_id: i64, name: &str, training_type: TrainingType, is_main: bool) -> Result<Avatar> {
        let name = valid_name(name)?;
        let letters: String = (0..6).map(|_| char::from(b'a' + rand::random::<u8>() % 26)).collect();
        let trigger_phrase = format!("aisha_{letters}");
        let now = now_micros();
        let tx = self.db.begin().await?;
        repo::lock_owner(&tx, user_id).await?;
        if repo::count(&tx, user_id).await? >= MAX_AVATARS {
            tx.rollback().await?;
            return Err(Error::invalid(format!(
                "you can keep at most {MAX_AVATARS} avatars; delete one to make another"
            )));
        }
        let id = repo::insert(
            &tx,
            NewAvatar { user_id, name, training_type, is_main: false, trigger_phrase: &trigger_phrase, now },
        )
        .await?;
        if is_main {
            repo::set_main(&tx, user_id, id, now).await?;
        }
        tx.commit().await?;
        self.changed(user_id, id).await
    }

    pub async fn list(&self, user_id: i64) -> Result<Vec<Avatar>> {
        repo::list(&self.db, user_id).await
    }

    /// The user's avatar; `NOT_FOUND` for anyone else's.
    pub async fn get(&self, user_id: i64, id: i64) -> Result<Avatar> {
        repo::find(&self.db, user_id, id).await?.ok_or(Error::NotFound("avatar"))
    }

    /// The photos of many avatars at once (for DataLoaders), without an owner check: the
    /// caller resolved the avatars for their owner.
    pub async fn photos_of(&self, avatar_ids: &[i64]) -> Result<Vec<AvatarPhoto>> {
        repo::photos_of(&self.db, avatar_ids).await
    }

    pub async fn photo_url(&self, photo: &AvatarPhoto) -> Result<Option<String>> {
        let Some(path) = &photo.storage_key else { return Ok(None) };
        let key = StorageKey::stored(Bucket::Photos, path.as_str());
        Ok(Some(self.storage.link(&key, LinkWindow::from_now(self.settings.url_ttl)).await?))
    }

    /// Whether `count` photos may be sent to the avatar now: it is the user's, it can still
    /// change, and it has room. Asked before an upload's bytes are read, and again (under the
    /// avatar's lock) as they are added.
    pub async fn check_upload(&self, user_id: i64, avatar_id: i64, count: usize) -> Result<()> {
        if count == 0 {
            return Err(Error::invalid("send at least one photo"));
        }
        if count as i64 > MAX_PHOTOS {
            return Err(Error::invalid(format!("send at most {MAX_PHOTOS} photos at a time")));
        }
        let avatar = self.get(user_id, avatar_id).await?;
        if !avatar.is_editable() {
            return Err(Error::invalid(NOT_EDITABLE));
        }
        if avatar.photo_count >= MAX_PHOTOS {
            return Err(Error::invalid(format!(
                "an avatar takes at most {MAX_PHOTOS} photos; remove one to add another"
            )));
        }
        Ok(())
    }

    /// Checks each photo by its bytes and keeps the acceptable ones in the `photos` bucket.
    /// Every photo gets a row with its verdict; a refused one stores nothing. The avatar row is
    /// locked meanwhile, so racing uploads cannot pass 20 photos, nor slip in after training
    /// began.
    pub async fn add_photos(
        &self,
        user_id: i64,
        avatar_id: i64,
        uploads: Vec<Upload>,
    ) -> Result<(Avatar, Vec<AvatarPhoto>)> {
        self.check_upload(user_id, avatar_id, uploads.len()).await?;
        let now = now_micros();
        let tx = self.db.begin().await?;
        if !repo::lock_editable(&tx, avatar_id, now).await? {
            tx.rollback().await?;
            return Err(Error::invalid(NOT_EDITABLE));
        }
        let existing = repo::photos(&tx, avatar_id).await?;
        let mut hashes: HashSet<String> =
            existing.iter().filter(|p| p.status == PhotoStatus::Accepted).map(|p| p.sha256.clone()).collect();
        let mut accepted = hashes.len() as i64;
        let mut added = Vec::with_capacity(uploads.len());
        for upload in uploads {
            let bytes = upload.body.read().await.map_err(|e| Error::failed("reading an upload", e))?;
            let sha256 = hex::encode(Sha256::digest(&bytes));
            let verdict = inspect(&bytes).and_then(|facts| {
                if hashes.contains(&sha256) {
                    Err("the same photo is already there".to_owned())
                } else if accepted >= MAX_PHOTOS {
                    Err(format!("an avatar takes at most {MAX_PHOTOS} photos"))
                } else {
                    Ok(facts)
                }
            });
            let byte_size = bytes.len() as i64;
            let id = match verdict {
                Ok(facts) => {
                    let key = StorageKey::avatar_photo(user_id, avatar_id, &sha256, facts.content_type);
                    self.storage.store(&key, bytes).await?;
                    hashes.insert(sha256.clone());
                    accepted += 1;
                    let row = NewPhoto {
                        avatar_id,
                        user_id,
                        status: PhotoStatus::Accepted,
                        reject_reason: None,
                        storage_key: Some(key.path()),
                        content_type: Some(facts.content_type),
                        width: Some(facts.width),
                        height: Some(facts.height),
                        byte_size,
                        sha256: &sha256,
                        now,
                    };
                    repo::insert_photo(&tx, row).await?
                }
                Err(reason) => {
                    let reason = format!("{}: {reason}", label(&upload.file_name));
                    let row = NewPhoto {
                        avatar_id,
                        user_id,
                        status: PhotoStatus::Rejected,
                        reject_reason: Some(&reason),
                        storage_key: None,
                        content_type: None,
                        width: None,
                        height: None,
                        byte_size,
                        sha256: &sha256,
                        now,
                    };
                    repo::insert_photo(&tx, row).await?
                }
            };
            added.push(id);
        }
        repo::forget_old_rejections(&tx, avatar_id, MAX_KEPT_REJECTIONS).await?;
        tx.commit().await?;
        let photos = repo::photos(&self.db, avatar_id).await?.into_iter().filter(|p| added.contains(&p.id)).collect();
        Ok((self.changed(user_id, avatar_id).await?, photos))
    }

    /// Removes a photo (and its stored file) while the avatar can still change.
    pub async fn remove_photo(&self, user_id: i64, photo_id: i64) -> Result<Avatar> {
        let photo = repo::photo(&self.db, user_id, photo_id).await?.ok_or(Error::NotFound("photo"))?;
        let tx = self.db.begin().await?;
        if !repo::lock_editable(&tx, photo.avatar_id, now_micros()).await? {
            tx.rollback().await?;
            return Err(Error::invalid(NOT_EDITABLE));
        }
        repo::delete_photo(&tx, photo.id).await?;
        tx.commit().await?;
        if let Some(path) = &photo.storage_key {
            self.forget(&StorageKey::stored(Bucket::Photos, path.as_str())).await;
        }
        self.changed(user_id, photo.avatar_id).await
    }

    /// Renames the avatar, whatever its status (its trigger phrase, which the weights know, stays).
    pub async fn rename(&self, user_id: i64, id: i64, name: &str) -> Result<Avatar> {
        let name = valid_name(name)?;
        if !repo::rename(&self.db, user_id, id, name, now_micros()).await? {
            return Err(Error::NotFound("avatar"));
        }
        self.changed(user_id, id).await
    }

    pub async fn set_main(&self, user_id: i64, id: i64) -> Result<Avatar> {
        if !repo::set_main(&self.db, user_id, id, now_micros()).await? {
            return Err(Error::NotFound("avatar"));
        }
        self.changed(user_id, id).await
    }

    /// Starts training (10–20 accepted photos; the price is reserved, refunded if it fails).
    /// A `READY` avatar trains anew on its photos now (the same, or changed since): it stays
    /// `READY` with its old weights until the new ones are ready, and keeps them if it fails.
    pub async fn start_training(&self, user_id: i64, id: i64) -> Result<Avatar> {
        let avatar = self.get(user_id, id).await?;
        if !avatar.is_editable() {
            return Err(Error::invalid("this avatar is training already"));
        }
        if !(MIN_PHOTOS..=MAX_PHOTOS).contains(&avatar.photo_count) {
            return Err(Error::invalid(format!(
                "training needs {MIN_PHOTOS}-{MAX_PHOTOS} accepted photos; this avatar has {}",
                avatar.photo_count
            )));
        }
        self.rate_limits.check(Caller::User(user_id), Action::Paid).await?;
        self.jobs.start_training(&avatar, self.settings.training_price).await?;
        self.changed(user_id, id).await
    }

    /// Stops a running training; its price is refunded and the avatar can be trained again.
    pub async fn cancel_training(&self, user_id: i64, id: i64) -> Result<Avatar> {
        let avatar = self.get(user_id, id).await?;
        match (avatar.is_training(), avatar.training_job_id) {
            (true, Some(job)) => {
                self.jobs.cancel(job, "cancelled by the user").await?;
            }
            _ => return Err(Error::invalid("this avatar is not training")),
        }
        self.changed(user_id, id).await
    }

    /// Deletes the avatar, its photos and its trained weights. A running training and the
    /// generations waiting to use the avatar are cancelled and refunded first. Images made with
    /// it stay in the gallery, no longer linked to it.
    pub async fn delete(&self, user_id: i64, id: i64) -> Result<()> {
        let avatar = self.get(user_id, id).await?;
        if avatar.is_training()
            && let Some(job) = avatar.training_job_id
        {
            self.jobs.cancel(job, "the avatar was deleted").await?;
        }
        self.jobs.cancel_with_avatar(id, "the avatar was deleted").await?;
        let photos = repo::photos(&self.db, id).await?;
        if !repo::delete(&self.db, user_id, id).await? {
            return Err(Error::NotFound("avatar"));
        }
        for path in photos.iter().filter_map(|p| p.storage_key.as_deref()) {
            self.forget(&StorageKey::stored(Bucket::Photos, path)).await;
        }
        if let Some(path) = &avatar.lora_key {
            self.forget(&StorageKey::stored(Bucket::Photos, path.as_str())).await;
        }
        if let Some(job) = avatar.training_job_id {
            self.forget(&StorageKey::training_archive(user_id, id, job)).await;
        }
        // The gallery's avatar filters and counts change with it.
        self.stats.invalidate(user_id).await;
        let event = Event::AvatarDeleted { user_id, avatar_id: id };
        if let Err(error) = self.bus.publish(&event).await {
            tracing::warn!(%error, "could not announce a deleted avatar");
        }
        Ok(())
    }

    /// The avatar now, then each change, until it is deleted.
    pub async fn follow(&self, user_id: i64, id: i64) -> Result<impl Stream<Item = Avatar> + use<>> {
        // Subscribe before reading, so no change falls between the snapshot and the stream.
        let events = self.bus.subscribe();
        let current = self.get(user_id, id).await?;
        let since = current.updated_at;
        let changes = events
            .take_while(move |event| {
                std::future::ready(!matches!(event, Event::AvatarDeleted { avatar_id, .. } if *avatar_id == id))
            })
            .filter_map(move |event| async move {
                match event {
                    Event::AvatarUpdated(a) if a.id == id && a.updated_at >= since => Some(*a),
                    _ => None,
                }
            });
        Ok(stream::once(async { current }).chain(changes))
    }

    /// Reloads the avatar and tells subscribers.
    async fn changed(&self, user_id: i64, id: i64) -> Result<Avatar> {
        let avatar = self.get(user_id, id).await?;
        if let Err(error) = self.bus.publish(&Event::AvatarUpdated(Box::new(avatar.clone()))).await {
            tracing::warn!(%error, "could not announce an avatar change");
        }
        Ok(avatar)
    }

    /// Deletes a stored object whose row is gone; a failure only leaves an orphan (logged).
    async fn forget(&self, key: &StorageKey) {
        if let Err(error) = self.storage.remove(key).await {
            tracing::warn!(%error, "could not delete a stored object; it is left over");
        }
    }
}

/// Avatars a user may keep.
pub const MAX_AVATARS: i64 = 20;
/// Refused photos remembered per avatar (the newest).
const MAX_KEPT_REJECTIONS: i64 = 20;

const NOT_EDITABLE: &str = "photos cannot be changed while the avatar trains";

/// A file name fit to quote in a message.
fn label(file_name: &str) -> String {
    let name: String = file_name.chars().filter(|c| !c.is_control()).take(64).collect();
    if name.is_empty() { "a photo".into() } else { name }
}

fn valid_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(Error::invalid("name must be 1-64 characters"));
    }
    Ok(name)
}
