//! The exactly-once transitions: complete (images stored, reservation captured), fail or cancel
//! (reservation refunded), for images and trainings alike. Each is one transaction around a
//! conditional update of the job, with its notification in the same transaction; after commit,
//! `after_change` invalidates the owner's gallery statistics and publishes the new state, so
//! every transition that changes what the statistics count does it in the same place.

use sea_orm::TransactionTrait;
use sha2::{Digest, Sha256};

use super::engine::JobEngine;
use super::media;
use super::model::{Job, JobKind, Purpose};
use super::repository as repo;
use super::{ProviderOutcome, WebhookResult};
use crate::domain::avatars::{self, AvatarStatus};
use crate::domain::credits::{capture_except_in_tx, capture_in_tx, release_in_tx};
use crate::domain::events::Event;
use crate::domain::gallery::{ImageKind, Moderation, NewImage, images_of_generations, insert_image_in_tx};
use crate::domain::generations::GenerationStatus;
use crate::domain::notifications::NotificationKind;
use crate::domain::storage::{Objects, StorageKey};
use crate::domain::{Error, Result, time::now_micros};
use crate::providers::{ProducedFile, ProviderError, Verdict};

/// Why a job whose every picture was blocked failed, in words its user reads.
pub const BLOCKED_REASON: &str = "the safety filter blocked every picture";

impl JobEngine {
    /// Stores what the provider made and completes the job; a job that ended meanwhile is left
    /// as it is.
    pub(super) async fn complete(&self, id: i64, files: Vec<ProducedFile>) -> Result<()> {
        let Some(job) = repo::find(self.db(), id).await? else { return Ok(()) };
        if job.status.is_terminal() {
            return Ok(());
        }
        match job.purpose {
            Purpose::Training { avatar_id } => self.complete_training(&job, avatar_id, files).await,
            Purpose::Image { .. } => self.complete_images(&job, files).await,
        }
    }

    /// Stores the pictures that passed the model's safety filter and completes the job; the
    /// share of the blocked ones (flagged, or asked for and not returned) is refunded in the same
    /// transaction. When none passed, the job fails with a full refund.
    async fn complete_images(&self, job: &Job, files: Vec<ProducedFile>) -> Result<()> {
        if files.is_empty() {
            return self.settle(job.id, GenerationStatus::Failed, "the provider returned no images").await.map(drop);
        }
        let returned = files.len();
        let passed: Vec<ProducedFile> = files.into_iter().filter(|f| f.verdict != Verdict::Blocked).collect();
        let asked = job.num_images.max(1);
        let blocked = usize::from(asked).saturating_sub(passed.len()) as u8;
        if passed.is_empty() {
            return self.settle_blocked(job.id, asked).await.map(drop);
        }
        if blocked > 0 {
            tracing::info!(job = job.id, blocked, returned, asked, "the safety filter held back some pictures");
        }
        let kind = self.catalog().iter().find(|m| m.id == job.model).map_or(ImageKind::Imagen4, |m| m.kind);
        let stored = match self.store_images(job, kind, passed).await? {
            Ok(stored) => stored,
            Err(reason) => return self.settle(job.id, GenerationStatus::Failed, &reason).await.map(drop),
        };
        let now = now_micros();
        let tx = self.db().begin().await?;
        let Some(finished) = repo::finish(&tx, job.id, GenerationStatus::Completed, None, now).await? else {
            tx.rollback().await?;
            return Ok(()); // somebody else settled it first
        };
        for image in &stored {
            insert_image_in_tx(&tx, image.as_new_image(job, kind, now)).await?;
        }
        let mut refund = None;
        if blocked > 0 {
            repo::set_blocked_images(&tx, job.id, blocked).await?;
        }
        if let Some(reservation) = finished {
            if blocked > 0 {
                let reason = format!("refund: the safety filter blocked {blocked} of {asked} pictures");
                refund = capture_except_in_tx(&tx, reservation, blocked, asked, &reason).await?;
            } else {
                capture_in_tx(&tx, reservation).await?;
            }
        }
        self.deps()
            .notifications
            .record(&tx, job.user_id, NotificationKind::GenerationFinished, job.id, job.id)
            .await?;
        tx.commit().await?;
        self.durations().record(&job.model, now - job.created_at);
        if let Some(entry) = refund {
            self.deps().credits.announce(&entry).await;
        }
        self.after_change(job.id, job.user_id).await;
        Ok(())
    }

    /// Fails a job whose every picture the safety filter blocked, with the full refund.
    pub(super) async fn settle_blocked(&self, id: i64, asked: u8) -> Result<bool> {
        self.settle_as(id, GenerationStatus::Failed, BLOCKED_REASON, asked).await
    }

    /// Copies the results into storage under deterministic keys (a retried or duplicated
    /// completion overwrites the same objects), a clip with its poster. `Err` inside when the
    /// provider's file is no image or clip we can read.
    async fn store_images(
        &self,
        job: &Job,
        kind: ImageKind,
        files: Vec<ProducedFile>,
    ) -> Result<Result<Vec<StoredImage>, String>> {
        let mut stored = Vec::with_capacity(files.len());
        for (index, file) in files.into_iter().enumerate() {
            let Some(facts) = media::facts(&file.bytes, &file.content_type) else {
                return Ok(Err("the provider sent an unreadable image".into()));
            };
            let key = StorageKey::generation_image(kind.bucket(), job.user_id, job.id, index, &file.content_type);
            self.deps().storage.store(&key, file.bytes.clone()).await?;
            let (duration_ms, poster_key) = match kind {
                ImageKind::Video => {
                    let told = file.duration_ms.or(facts.duration_ms);
                    let duration = told.unwrap_or_else(|| self.clip_seconds(&job.model) * 1000);
                    (Some(duration), self.store_poster(job, kind.bucket(), index).await?)
                }
                _ => (None, None),
            };
            stored.push(StoredImage {
                key: key.path().to_owned(),
                content_type: file.content_type,
                width: facts.width,
                height: facts.height,
                duration_ms,
                poster_key,
                sha256: hex::encode(Sha256::digest(&file.bytes)),
                byte_size: file.bytes.len() as i64,
                moderation: match file.verdict {
                    Verdict::Passed => Moderation::Passed,
                    _ => Moderation::NotReported,
                },
            });
        }
        Ok(Ok(stored))
    }

    /// Ends an active job as failed or cancelled and refunds it, exactly once. True if this
    /// call did it.
    pub(crate) async fn settle(&self, id: i64, status: GenerationStatus, reason: &str) -> Result<bool> {
        self.settle_as(id, status, reason, 0).await
    }

    /// `settle`, recording how many pictures the safety filter blocked.
    async fn settle_as(&self, id: i64, status: GenerationStatus, reason: &str, blocked: u8) -> Result<bool> {
        let Some(job) = repo::find(self.db(), id).await? else { return Ok(false) };
        let tx = self.db().begin().await?;
        let now = now_micros();
        let Some(reservation) = repo::finish(&tx, id, status, Some(reason), now).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        if blocked > 0 {
            repo::set_blocked_images(&tx, id, blocked).await?;
        }
        // A training's avatar ends with its job.
        let avatar_status =
            if status == GenerationStatus::Cancelled { AvatarStatus::Cancelled } else { AvatarStatus::Failed };
        avatars::finish_training(&tx, id, avatar_status, None, Some(reason), now).await?;
        let refund = match reservation {
            Some(reservation) => release_in_tx(&tx, reservation, &format!("refund: {reason}")).await?,
            None => None,
        };
        let notifications = &self.deps().notifications;
        match job.purpose {
            Purpose::Image { .. } => {
                notifications.record(&tx, job.user_id, NotificationKind::GenerationFinished, id, id).await?
            }
            Purpose::Training { avatar_id } => {
                notifications.record(&tx, job.user_id, NotificationKind::TrainingFinished, avatar_id, id).await?
            }
        }
        tx.commit().await?;
        if let Some(entry) = refund {
            self.deps().credits.announce(&entry).await;
        }
        self.after_change(id, job.user_id).await;
        Ok(true)
    }

    /// Cancels an active job (refunded), at the provider too; false when it had ended.
    pub async fn cancel(&self, id: i64, reason: &str) -> Result<bool> {
        let handle = repo::find(self.db(), id).await?.and_then(|job| job.handle);
        let cancelled = self.settle(id, GenerationStatus::Cancelled, reason).await?;
        if cancelled && let Some(handle) = handle {
            let provider = self.deps().provider.clone();
            tokio::spawn(async move {
                if let Err(error) = provider.cancel(&handle).await {
                    tracing::warn!(%error, request_id = %handle.request_id, "provider cancel failed");
                }
            });
        }
        Ok(cancelled)
    }

    /// Cancels (and refunds) the active generations that would use this avatar.
    pub async fn cancel_with_avatar(&self, avatar_id: i64, reason: &str) -> Result<usize> {
        let mut cancelled = 0;
        for job in repo::active_with_avatar(self.db(), avatar_id).await? {
            if self.cancel(job.id, reason).await? {
                cancelled += 1;
            }
        }
        Ok(cancelled)
    }

    /// The operator settles a stuck job: failed and refunded, cancelled at the provider.
    pub async fn refund_by_operator(&self, id: i64) -> Result<Job> {
        let job = repo::find(self.db(), id).await?.ok_or(Error::NotFound("job"))?;
        if job.status.is_terminal() {
            return Err(Error::invalid(format!("this job is {} already", job.status.as_str())));
        }
        let _ = self.settle(id, GenerationStatus::Failed, "refunded by the operator").await?;
        if let Some(handle) = &job.handle
            && let Err(error) = self.deps().provider.cancel(handle).await
        {
            tracing::warn!(%error, job = id, "provider cancel failed");
        }
        repo::find(self.db(), id).await?.ok_or(Error::NotFound("job"))
    }

    /// Every user's jobs, newest first (for the operator).
    pub async fn list_all(
        &self,
        status: Option<GenerationStatus>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<(Vec<Job>, bool)> {
        let mut jobs = repo::list_all(self.db(), status, before_id, limit as u64 + 1).await?;
        let more = jobs.len() > limit;
        jobs.truncate(limit);
        Ok((jobs, more))
    }

    /// Active jobs by kind and status, and how many of them this instance holds now.
    pub async fn census(&self) -> Result<Vec<super::JobCount>> {
        repo::census(self.db(), &self.inner.deps.claimant.pattern(), now_micros()).await
    }

    /// Jobs waiting to be submitted, and how long the oldest has waited.
    pub async fn queue_depth(&self, kind: JobKind) -> Result<(i64, Option<std::time::Duration>)> {
        let (count, oldest) = repo::queue_depth(self.db(), kind).await?;
        let age = oldest.map(|at| std::time::Duration::from_micros(now_micros().saturating_sub(at).max(0) as u64));
        Ok((count, age))
    }

    /// Fails and refunds the active jobs whose deadline passed, and cancels them at the provider.
    pub(super) async fn reap_overdue(&self) -> Result<()> {
        for job in repo::overdue(self.db(), now_micros(), 100).await? {
            let reason = match job.purpose {
                Purpose::Training { .. } => "the training did not finish in time",
                Purpose::Image { .. } => "the generation did not finish in time",
            };
            match self.settle(job.id, GenerationStatus::Failed, reason).await {
                Ok(true) => {
                    tracing::warn!(job = job.id, "deadline passed: failed and refunded");
                    if let Some(handle) = &job.handle
                        && let Err(error) = self.deps().provider.cancel(handle).await
                    {
                        tracing::warn!(%error, job = job.id, "provider cancel failed");
                    }
                }
                Ok(false) => {}
                Err(error) => tracing::error!(%error, job = job.id, "reaping failed"),
            }
        }
        Ok(())
    }

    /// A provider's webhook about `request_id`. A redelivery, or news of a job that ended, is a
    /// no-op; a completion stores the results exactly as a poll would. The job is claimed first,
    /// so that deliveries racing on several instances download the results once.
    pub async fn on_provider_webhook(&self, request_id: &str, outcome: ProviderOutcome) -> Result<WebhookResult> {
        let Some(mut job) = repo::find_by_request_id(self.db(), request_id).await? else {
            return Ok(WebhookResult::UnknownRequest);
        };
        if job.status.is_terminal() {
            return Ok(WebhookResult::AlreadySettled);
        }
        let token = self.inner.deps.claimant.token();
        let now = now_micros();
        let lease_until = now + self.settings().lease.as_micros() as i64;
        if !repo::claim(self.db(), job.id, &token, now, lease_until).await? {
            return Ok(WebhookResult::InHand);
        }
        job.claim = Some(token.clone());
        let applied = self.with_lease(&job, self.apply_outcome(job.id, outcome)).await;
        match applied {
            Some(Ok(())) => Ok(WebhookResult::Applied),
            Some(Err(error)) => {
                // Settling clears the claim; a failure before it must not hold the job for a lease.
                if let Err(release) = repo::unclaim(self.db(), job.id, &token).await {
                    tracing::warn!(error = %release, job = job.id, "could not release a webhook's claim");
                }
                Err(error)
            }
            None => Ok(WebhookResult::InHand), // the claim lapsed: whoever took it finishes
        }
    }

    async fn apply_outcome(&self, id: i64, outcome: ProviderOutcome) -> Result<()> {
        match outcome {
            ProviderOutcome::Completed(output) => match self.deps().provider.files_from_output(&output).await {
                Ok(files) => self.complete(id, files).await,
                Err(ProviderError::Failed(reason)) => {
                    self.settle(id, GenerationStatus::Failed, &reason).await.map(drop)
                }
                Err(ProviderError::Blocked) => self.settle_blocked_by_id(id).await,
                Err(ProviderError::Transient(reason)) => Err(Error::internal(reason)),
            },
            ProviderOutcome::Failed(reason) => self.settle(id, GenerationStatus::Failed, &reason).await.map(drop),
            ProviderOutcome::Blocked => self.settle_blocked_by_id(id).await,
        }
    }

    /// `settle_blocked` for a job known by id: every picture it asked for was blocked.
    pub(super) async fn settle_blocked_by_id(&self, id: i64) -> Result<()> {
        let Some(job) = repo::find(self.db(), id).await? else { return Ok(()) };
        self.settle_blocked(id, job.num_images.max(1)).await.map(drop)
    }

    /// After a committed change of a job: the owner's statistics are stale, and clients learn
    /// the job's new state.
    pub async fn after_change(&self, id: i64, user_id: i64) {
        self.deps().stats.invalidate(user_id).await;
        self.publish_current(id).await;
    }

    /// Publishes the job as it is in the database (a generation with its images, or the
    /// training's avatar).
    pub(super) async fn publish_current(&self, id: i64) {
        let snapshot = async {
            let job = repo::find(self.db(), id).await?.ok_or(Error::NotFound("job"))?;
            Ok::<_, Error>(match job.purpose {
                Purpose::Training { avatar_id } => {
                    avatars::find_any(self.db(), avatar_id).await?.map(|a| Event::AvatarUpdated(Box::new(a)))
                }
                Purpose::Image { .. } => {
                    let images = images_of_generations(self.db(), &[id]).await?;
                    Some(Event::GenerationUpdated(Box::new(job.into_generation(images))))
                }
            })
        };
        match snapshot.await {
            Ok(Some(event)) => self.publish(&event).await,
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, job = id, "could not load a job to publish"),
        }
    }

    /// Publishes a step's news without reading the job again (it has no images yet).
    pub(super) async fn publish_progress(&self, job: &Job, polled: repo::Polled) {
        match job.purpose {
            Purpose::Training { .. } => self.publish_current(job.id).await,
            Purpose::Image { .. } => {
                let mut now = job.clone();
                now.status = polled.status;
                now.progress = polled.progress;
                now.queue_position = polled.queue_position;
                now.updated_at = now_micros();
                self.publish(&Event::GenerationUpdated(Box::new(now.into_generation(Vec::new())))).await;
            }
        }
    }

    async fn publish(&self, event: &Event) {
        if let Err(error) = self.deps().bus.publish(event).await {
            tracing::warn!(%error, "could not publish a job's change");
        }
    }
}

struct StoredImage {
    key: String,
    content_type: String,
    width: u32,
    height: u32,
    sha256: String,
    byte_size: i64,
    moderation: Moderation,
    duration_ms: Option<u32>,
    poster_key: Option<String>,
}

impl StoredImage {
    fn as_new_image<'a>(&'a self, job: &'a Job, kind: ImageKind, now: i64) -> NewImage<'a> {
        NewImage {
            user_id: job.user_id,
            generation_id: job.id,
            avatar_id: job.avatar_id(),
            kind,
            model: &job.model,
            prompt: &job.prompt,
            aspect_ratio: job.aspect_ratio,
            storage_key: &self.key,
            content_type: &self.content_type,
            width: self.width,
            height: self.height,
            byte_size: self.byte_size,
            sha256: &self.sha256,
            moderation: self.moderation,
            duration_ms: self.duration_ms,
            poster_key: self.poster_key.as_deref(),
            now,
        }
    }
}
