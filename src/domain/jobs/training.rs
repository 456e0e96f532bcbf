//! Avatar trainings as jobs: the same rows, claims, deadlines, webhooks, cancels and refunds as
//! generations, in a pool of their own. The avatar's status moves in the same transactions as
//! its job: `TRAINING` when it starts, then `READY` (weights stored) or `FAILED`/`CANCELLED`
//! (price refunded), exactly once. A `READY` avatar trained anew stays `READY` on its old
//! weights (`retraining`) until the new ones replace them; if that training does not succeed,
//! it keeps the old ones.

use std::time::Duration;

use sea_orm::TransactionTrait;

use super::engine::JobEngine;
use super::model::{Job, JobKind};
use super::repository::{self as repo, NewJob};
use crate::adapters::storage::LinkWindow;
use crate::domain::avatars::{self, Avatar, AvatarStatus, MAX_PHOTOS, MIN_PHOTOS, zip_stored};
use crate::domain::credits::{IdempotencyKey, NotApplied, capture_in_tx, reserve_in_tx};
use crate::domain::generations::{AspectRatio, GenerationStatus};
use crate::domain::notifications::NotificationKind;
use crate::domain::promos;
use crate::domain::storage::{Bucket, Objects, StorageKey};
use crate::domain::{Error, Result, time::now_micros};
use crate::providers::ProducedFile;

/// How long the links handed to a trainer (photos archive) or a generator (weights) live.
const INPUT_URL_TTL: Duration = Duration::from_secs(24 * 3600);

impl JobEngine {
    /// Reserves the price and queues the training, moving the avatar to `TRAINING`; all in one
    /// transaction (the avatar's row lock also keeps photo uploads out meanwhile).
    pub async fn start_training(&self, avatar: &Avatar, price: i64) -> Result<()> {
        let now = now_micros();
        let tx = self.db().begin().await?;
        if !avatars::begin_training(&tx, avatar.id, now).await? {
            tx.rollback().await?;
            return Err(Error::invalid("this avatar is training already"));
        }
        let photos = avatars::accepted_count(&tx, avatar.id).await?;
        if !(MIN_PHOTOS..=MAX_PHOTOS).contains(&photos) {
            tx.rollback().await?;
            return Err(Error::invalid(format!(
                "training needs {MIN_PHOTOS}-{MAX_PHOTOS} accepted photos; this avatar has {photos}"
            )));
        }
        let key = IdempotencyKey::internal(format!("training:{}:{:032x}", avatar.id, rand::random::<u128>()));
        let (price, discount) = promos::discount_in_tx(&tx, avatar.user_id, price).await?;
        let (reservation, charge) = match reserve_in_tx(&tx, avatar.user_id, price, "avatar training", &key).await? {
            Ok(reserved) => reserved,
            Err(NotApplied::InsufficientCredits) => {
                tx.rollback().await?;
                let available = self.deps().credits.balance(avatar.user_id).await?;
                return Err(Error::InsufficientCredits { needed: price, available });
            }
            Err(NotApplied::Duplicate) => {
                tx.rollback().await?;
                return Err(Error::internal("a fresh training key was a duplicate"));
            }
        };
        if let Some(redemption_id) = discount {
            promos::link_discount_in_tx(&tx, redemption_id, reservation.id).await?;
        }
        let active_jobs = repo::active_jobs(&tx, avatar.user_id, JobKind::Training).await?;
        let job = NewJob {
            user_id: avatar.user_id,
            kind: JobKind::Training,
            model: avatar.training_type.trainer(),
            prompt: &avatar.trigger_phrase,
            aspect_ratio: AspectRatio::Square,
            num_images: 1,
            seed: None,
            avatar_id: Some(avatar.id),
            cost: price,
            reservation_id: reservation.id,
            idempotency_key: None,
            provider: self.provider_name(),
            status: self.initial_status(active_jobs),
            deadline_at: now + self.settings().training_deadline.as_micros() as i64,
            now,
            template_id: None,
            original_prompt: None,
            source_image_id: None,
        };
        let job_id =
            repo::insert(&tx, job).await?.ok_or_else(|| Error::internal("a training job without a key conflicted"))?;
        avatars::set_training_job(&tx, avatar.id, job_id).await?;
        tx.commit().await?;
        self.deps().credits.announce(&charge).await;
        self.after_change(job_id, avatar.user_id).await;
        self.wake(JobKind::Training);
        Ok(())
    }

    /// `PENDING`, or `QUEUED` when the user's earlier jobs take their share already (the new
    /// one waits its turn).
    pub fn initial_status(&self, active_jobs: i64) -> GenerationStatus {
        if active_jobs >= self.settings().per_user.max(1) as i64 {
            GenerationStatus::Queued
        } else {
            GenerationStatus::Pending
        }
    }

    /// A link to the job's photo archive, for the trainer.
    pub(super) async fn training_archive_url(&self, user_id: i64, avatar_id: i64, job_id: i64) -> Result<String> {
        self.signed(&StorageKey::training_archive(user_id, avatar_id, job_id)).await
    }

    /// Zips the avatar's accepted photos into storage (the same key each time: a retried
    /// submit rewrites it) and returns the archive.
    pub(super) async fn store_training_archive(&self, job: &Job) -> Result<bytes::Bytes> {
        let avatar_id = job.avatar_id().ok_or_else(|| Error::internal("a training without an avatar"))?;
        let photos = avatars::avatar_photos(self.db(), avatar_id).await?;
        let storage = &self.deps().storage;
        let mut files = Vec::new();
        for (index, photo) in photos.iter().enumerate() {
            let Some(path) = &photo.storage_key else { continue };
            let key = StorageKey::stored(Bucket::Photos, path.as_str());
            let object = storage.read(&key).await?;
            let object = object.ok_or_else(|| Error::internal(format!("photo {key} is missing from storage")))?;
            files.push((format!("photo_{index:02}.{}", key.extension()), object.bytes));
        }
        let entries: Vec<(String, &[u8])> = files.iter().map(|(name, bytes)| (name.clone(), bytes.as_ref())).collect();
        let key = StorageKey::training_archive(job.user_id, avatar_id, job.id);
        let archive = bytes::Bytes::from(zip_stored(&entries));
        storage.store(&key, archive.clone()).await?;
        Ok(archive)
    }

    /// Removes the job's photo archive, best effort: a failure is only logged.
    pub(super) async fn forget_training_archive(&self, job: &Job) {
        let Some(avatar_id) = job.avatar_id() else { return };
        let key = StorageKey::training_archive(job.user_id, avatar_id, job.id);
        if let Err(error) = self.deps().storage.remove(&key).await {
            tracing::warn!(%error, %key, "a training archive could not be removed");
        }
    }

    /// A link to the avatar's weights, for `fal-ai/flux-lora`.
    pub(super) async fn weights_url(&self, avatar: &Avatar) -> Result<String> {
        let path = avatar.lora_key.as_deref().ok_or_else(|| Error::invalid("this avatar is not trained"))?;
        self.signed(&StorageKey::stored(Bucket::Photos, path)).await
    }

    pub(super) async fn signed(&self, key: &StorageKey) -> Result<String> {
        self.deps().storage.link(key, LinkWindow::from_now(INPUT_URL_TTL)).await
    }

    /// Stores the trained weights, then completes the job and readies the avatar in one
    /// transaction.
    pub(super) async fn complete_training(&self, job: &Job, avatar_id: i64, files: Vec<ProducedFile>) -> Result<()> {
        let Some(weights) = files.into_iter().next() else {
            return self.settle(job.id, GenerationStatus::Failed, "the trainer returned no weights").await.map(drop);
        };
        let key = StorageKey::lora_weights(job.user_id, avatar_id, job.id);
        self.deps().storage.store(&key, weights.bytes).await?;
        // A retraining replaces weights that served until now.
        let previous = avatars::find_any(self.db(), avatar_id).await?.and_then(|a| a.lora_key);
        let now = now_micros();
        let tx = self.db().begin().await?;
        let Some(reservation) = repo::finish(&tx, job.id, GenerationStatus::Completed, None, now).await? else {
            tx.rollback().await?;
            return Ok(()); // settled by someone else first
        };
        avatars::finish_training(&tx, job.id, AvatarStatus::Ready, Some(key.path()), None, now).await?;
        if let Some(reservation) = reservation {
            capture_in_tx(&tx, reservation).await?;
        }
        self.deps()
            .notifications
            .record(&tx, job.user_id, NotificationKind::TrainingFinished, avatar_id, job.id)
            .await?;
        tx.commit().await?;
        if let Some(old) = previous.filter(|old| *old != key.path()) {
            let old = StorageKey::stored(Bucket::Photos, old.as_str());
            if let Err(error) = self.deps().storage.remove(&old).await {
                tracing::warn!(%error, "the weights a retraining replaced could not be deleted; they are left over");
            }
        }
        self.after_change(job.id, job.user_id).await;
        Ok(())
    }
}
