//! The job machinery: workers claim active generations from the database under a lease, submit
//! them to the provider once (the handle is stored), follow them until done, store the images,
//! and settle the reservation. A reaper fails and refunds what passed its deadline. Every final
//! transition is a conditional update, so a worker, a webhook, a cancel and the reaper can race
//! and exactly one of them settles the job.

use std::time::Duration;
use std::panic::AssertUnwindSafe;

use bytes::Bytes;
use futures_util::FutureExt;
use sea_orm::TransactionTrait;
use sha2::{Digest, Sha256};

use super::catalog::ModelSpec;
use super::model::{AspectRatio, GenerationStatus};
use super::repository::{self as repo, NewImage};
use super::service::GenerationService;
use crate::adapters::db::entity::generations;
use crate::domain::credits::{capture_in_tx, release_in_tx};
use crate::domain::{Result, time::now_micros};
use super::training::is_training;
use crate::domain::avatars::{self, AvatarStatus, TrainingType};
use crate::domain::events::Event;
use crate::providers::{JobSpec, LoraWeights, ProducedFile, ProviderError, ProviderHandle, ProviderStatus, TrainingSpec};

#[derive(Clone, Debug)]
pub struct JobSettings {
    pub workers: usize,
    pub deadline: Duration,
    /// Avatar trainings take longer (`AISHA_TRAINING_DEADLINE_SECS`).
    pub training_deadline: Duration,
    /// Hand trainers the photo archive through the provider's storage instead of a signed link.
    pub archive_via_provider: bool,
    /// How long a claim lasts without renewal; a crashed worker's jobs are taken over after it.
    pub lease: Duration,
    pub poll_interval: Duration,
    /// Polling when webhooks are on: only the fallback.
    pub webhook_poll_interval: Duration,
    /// How often idle workers look for jobs made by other instances, and the reaper runs.
    pub idle_interval: Duration,
}

/// What a provider said about a job, by webhook.
pub enum ProviderOutcome {
    Completed(serde_json::Value),
    Failed(String),
}

#[derive(Debug, PartialEq, Eq)]
pub enum WebhookResult {
    Applied,
    /// A redelivery, or news of a job that already ended: nothing changes.
    AlreadySettled,
    UnknownRequest,
}

fn micros(d: Duration) -> i64 {
    d.as_micros() as i64
}

/// Progress shown while a job waits in the provider's queue: 5–20, nearer 20 as it advances.
fn queue_progress(position: Option<u32>) -> u8 {
    20u8.saturating_sub(position.unwrap_or(10).min(15) as u8)
}

impl GenerationService {
    /// Starts the workers (none with `AISHA_WORKERS=0`: an API-only instance) and the deadline
    /// reaper on the current runtime.
    pub fn spawn_workers(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let mut handles: Vec<_> = (0..self.inner.settings.workers)
            .map(|_| {
                let service = self.clone();
                tokio::spawn(async move { service.work().await })
            })
            .collect();
        let reaper = self.clone();
        handles.push(tokio::spawn(async move { reaper.reap().await }));
        handles
    }

    async fn work(&self) {
        loop {
            match self.claim().await {
                Ok(Some(job)) => {
                    // A bug in one job must not take the worker down; its lease lets it be retried.
                    let id = job.id;
                    if AssertUnwindSafe(self.run(job)).catch_unwind().await.is_err() {
                        tracing::error!(generation = id, "a job panicked");
                    }
                }
                Ok(None) => {
                    let idle = tokio::time::sleep(self.inner.settings.idle_interval);
                    tokio::select! { _ = self.inner.wake.notified() => {}, _ = idle => {} }
                }
                Err(error) => {
                    tracing::error!(%error, "claiming a job failed");
                    tokio::time::sleep(self.inner.settings.idle_interval).await;
                }
            }
        }
    }

    async fn claim(&self) -> Result<Option<generations::Model>> {
        let now = now_micros();
        repo::claim(&self.inner.db, now, now + micros(self.inner.settings.lease)).await
    }

    /// What the provider is asked for. A training names its trainer, its trigger phrase and its
    /// photo archive (stored when it is submitted); a generation with an avatar carries the
    /// avatar's weights and its trigger phrase in front of the prompt.
    async fn spec(&self, job: &generations::Model) -> Result<JobSpec> {
        let mut spec = JobSpec {
            model: job.model.clone(),
            prompt: job.prompt.clone(),
            aspect_ratio: AspectRatio::parse(&job.aspect_ratio)?,
            num_images: job.num_images.clamp(1, 255) as u8,
            seed: job.seed,
            lora: None,
            training: None,
        };
        if is_training(job) {
            spec.training = Some(TrainingSpec {
                images_zip_url: self.training_archive_url(job).await?,
                trigger_phrase: job.prompt.clone(),
                style: job.model == TrainingType::Style.trainer(),
            });
        } else if let Some(avatar_id) = job.avatar_id {
            let avatar = avatars::repository::find_any(&self.inner.db, avatar_id).await?;
            let avatar = avatar.ok_or_else(|| crate::domain::Error::Unavailable("the avatar was deleted".into()))?;
            spec.lora = Some(LoraWeights { url: self.weights_url(&avatar).await?, scale: 1.0 });
            spec.prompt = format!("{}, {}", avatar.trigger_phrase, job.prompt);
        }
        Ok(spec)
    }

    /// Runs one claimed job until it ends or it is no longer ours to follow.
    async fn run(&self, job: generations::Model) {
        let id = job.id;
        if let Err(error) = self.follow_job(job).await {
            tracing::error!(%error, generation = id, "job step failed; it will be retried");
            let retry_at = now_micros() + micros(self.inner.settings.poll_interval);
            let _ = repo::release_claim(&self.inner.db, id, retry_at).await;
        }
    }

    async fn follow_job(&self, job: generations::Model) -> Result<()> {
        let spec = match self.spec(&job).await {
            Ok(spec) => spec,
            Err(crate::domain::Error::Unavailable(reason)) => {
                return self.settle(job.id, GenerationStatus::Failed, &reason).await.map(drop);
            }
            Err(error) => return Err(error),
        };
        let handle = match repo::handle_of(&job) {
            Some(handle) => handle,
            None => match self.submit(&job, &spec).await? {
                Some(handle) => handle,
                None => return Ok(()),
            },
        };
        let interval = if self.inner.provider.uses_webhooks() {
            self.inner.settings.webhook_poll_interval
        } else {
            self.inner.settings.poll_interval
        };
        // Each poll renews the lease: poll well within it, or another worker takes the job over.
        let interval = interval.min(self.inner.settings.lease / 2);
        let mut last = (GenerationStatus::parse(&job.status)?, job.progress.clamp(0, 100) as u8);
        loop {
            let (status, progress) = match self.inner.provider.status(&spec, &handle).await {
                Ok(ProviderStatus::Queued { position }) => (GenerationStatus::Queued, queue_progress(position).max(last.1)),
                Ok(ProviderStatus::Running { progress }) => {
                    let progress = progress.map_or(last.1.max(20) + 5, |p| (20 + u16::from(p.min(100)) * 3 / 4) as u8).clamp(20, 95);
                    (GenerationStatus::Running, progress.max(last.1))
                }
                Ok(ProviderStatus::Completed) => {
                    return match self.inner.provider.result(&spec, &handle).await {
                        Ok(images) => self.complete(job.id, images).await,
                        Err(ProviderError::Failed(reason)) => self.settle(job.id, GenerationStatus::Failed, &reason).await.map(drop),
                        Err(ProviderError::Transient(reason)) => Err(crate::domain::Error::internal(reason)),
                    };
                }
                Ok(ProviderStatus::Failed { reason }) | Err(ProviderError::Failed(reason)) => {
                    return self.settle(job.id, GenerationStatus::Failed, &reason).await.map(drop);
                }
                Err(ProviderError::Transient(reason)) => {
                    tracing::warn!(generation = job.id, %reason, "provider unavailable; polling again");
                    last
                }
            };
            let lease_until = now_micros() + micros(self.inner.settings.lease);
            if !repo::touch(&self.inner.db, job.id, status, progress, lease_until, now_micros()).await? {
                return Ok(()); // cancelled, expired or completed by a webhook meanwhile
            }
            if is_training(&job) && (status, progress) != last {
                avatars::repository::training_progress(&self.inner.db, job.id, progress, now_micros()).await?;
            }
            if (status, progress) != last {
                last = (status, progress);
                self.publish_current(job.id).await;
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// Sends the job to the provider and records its handle; None when the job ended meanwhile.
    async fn submit(&self, job: &generations::Model, spec: &JobSpec) -> Result<Option<ProviderHandle>> {
        let mut spec = spec.clone();
        if let Some(training) = spec.training.as_mut() {
            let archive = self.store_training_archive(job).await?;
            if self.inner.settings.archive_via_provider {
                let uploaded = self.inner.provider.upload("photos.zip", archive, "application/zip").await;
                match uploaded {
                    Ok(Some(url)) => training.images_zip_url = url,
                    Ok(None) => {}
                    Err(ProviderError::Failed(reason)) => {
                        self.settle(job.id, GenerationStatus::Failed, &reason).await?;
                        return Ok(None);
                    }
                    Err(ProviderError::Transient(reason)) => return Err(crate::domain::Error::internal(reason)),
                }
            }
        }
        let handle = match self.inner.provider.submit(&spec).await {
            Ok(handle) => handle,
            Err(ProviderError::Failed(reason)) => {
                self.settle(job.id, GenerationStatus::Failed, &reason).await?;
                return Ok(None);
            }
            Err(ProviderError::Transient(reason)) => return Err(crate::domain::Error::internal(reason)),
        };
        if !repo::set_handle(&self.inner.db, job.id, &handle, queue_progress(None), now_micros()).await? {
            // Cancelled while we were submitting: tell the provider too.
            let _ = self.inner.provider.cancel(&handle).await;
            return Ok(None);
        }
        self.publish_current(job.id).await;
        Ok(Some(handle))
    }

    /// Stores the images, then records them and completes the job in one transaction.
    async fn complete(&self, id: i64, images: Vec<ProducedFile>) -> Result<()> {
        let Some(job) = repo::find(&self.inner.db, id).await? else { return Ok(()) };
        if GenerationStatus::parse(&job.status)?.is_terminal() {
            return Ok(());
        }
        if is_training(&job) {
            return self.complete_training(&job, images).await;
        }
        if images.is_empty() {
            return self.settle(id, GenerationStatus::Failed, "the provider returned no images").await.map(drop);
        }
        let model = self.model(&job.model).cloned().ok();
        let stored = self.store_images(&job, model.as_ref(), images).await?;
        let now = now_micros();
        let tx = self.inner.db.begin().await?;
        let Some(reservation) = repo::finish(&tx, id, GenerationStatus::Completed, None, now).await? else {
            tx.rollback().await?;
            return Ok(()); // somebody else settled it first
        };
        for image in stored.iter().map(|s| s.as_new_image(&job, model.as_ref(), now)) {
            repo::insert_image(&tx, image).await?;
        }
        if let Some(reservation) = reservation {
            capture_in_tx(&tx, reservation).await?;
        }
        tx.commit().await?;
        self.inner.stats.invalidate(job.user_id).await;
        self.publish_current(id).await;
        Ok(())
    }

    async fn store_images(&self, job: &generations::Model, model: Option<&ModelSpec>, images: Vec<ProducedFile>) -> Result<Vec<StoredImage>> {
        let kind = model.map_or(crate::domain::gallery::ImageKind::Imagen4, |m| m.kind);
        let mut stored = Vec::with_capacity(images.len());
        for (index, image) in images.into_iter().enumerate() {
            let size = imagesize::blob_size(&image.bytes)
                .map_err(|e| crate::domain::Error::internal(format!("the provider sent an unreadable image: {e}")))?;
            let extension = match image.content_type.as_str() {
                "image/jpeg" => "jpg",
                "image/webp" => "webp",
                _ => "png",
            };
            // Deterministic keys: a retried or duplicated completion overwrites the same objects.
            let key = format!("u/{}/g/{}/{index}.{extension}", job.user_id, job.id);
            self.inner
                .storage
                .put(kind.bucket(), &key, image.bytes.clone(), &image.content_type)
                .await
                .map_err(|e| crate::domain::Error::internal(format!("storing {key}: {e:#}")))?;
            stored.push(StoredImage {
                key,
                content_type: image.content_type,
                width: size.width as u32,
                height: size.height as u32,
                sha256: hex::encode(Sha256::digest(&image.bytes)),
                bytes: image.bytes,
            });
        }
        Ok(stored)
    }

    /// Ends an active job as failed or cancelled and refunds it, exactly once. True if this
    /// call did it.
    pub(super) async fn settle(&self, id: i64, status: GenerationStatus, reason: &str) -> Result<bool> {
        let tx = self.inner.db.begin().await?;
        let now = now_micros();
        let Some(reservation) = repo::finish(&tx, id, status, Some(reason), now).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        // A training's avatar ends with its job (a no-op for a generation).
        let avatar_status = if status == GenerationStatus::Cancelled { AvatarStatus::Cancelled } else { AvatarStatus::Failed };
        avatars::repository::finish_training(&tx, id, avatar_status, None, Some(reason), now).await?;
        let refund = match reservation {
            Some(reservation) => release_in_tx(&tx, reservation, &format!("refund: {reason}")).await?,
            None => None,
        };
        tx.commit().await?;
        if let Some(entry) = refund {
            self.inner.credits.announce(&entry).await;
        }
        self.publish_current(id).await;
        Ok(true)
    }

    pub(super) async fn publish_current(&self, id: i64) {
        match repo::find(&self.inner.db, id).await {
            Ok(Some(row)) if is_training(&row) => self.publish_avatar(row.avatar_id).await,
            Ok(Some(row)) => match self.snapshot(row).await {
                Ok(generation) => self.publish(&generation).await,
                Err(error) => tracing::warn!(%error, generation = id, "could not load a generation to publish"),
            },
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, generation = id, "could not load a generation to publish"),
        }
    }

    async fn publish_avatar(&self, avatar_id: Option<i64>) {
        let Some(avatar_id) = avatar_id else { return };
        match avatars::repository::find_any(&self.inner.db, avatar_id).await {
            Ok(Some(avatar)) => {
                if let Err(error) = self.inner.bus.publish(&Event::AvatarUpdated(Box::new(avatar))).await {
                    tracing::warn!(%error, "could not announce an avatar change");
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, avatar = avatar_id, "could not load an avatar to publish"),
        }
    }

    /// Fails and refunds every active job past its deadline, and cancels it at the provider.
    async fn reap(&self) {
        loop {
            tokio::time::sleep(self.inner.settings.idle_interval).await;
            let overdue = match repo::overdue(&self.inner.db, now_micros(), 100).await {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::error!(%error, "looking for overdue jobs failed");
                    continue;
                }
            };
            for job in overdue {
                let reason = if is_training(&job) { "the training did not finish in time" } else { "the generation did not finish in time" };
                match self.settle(job.id, GenerationStatus::Failed, reason).await {
                    Ok(true) => {
                        tracing::warn!(generation = job.id, "deadline passed: failed and refunded");
                        if let Some(handle) = repo::handle_of(&job) {
                            let _ = self.inner.provider.cancel(&handle).await;
                        }
                    }
                    Ok(false) => {}
                    Err(error) => tracing::error!(%error, generation = job.id, "reaping failed"),
                }
            }
        }
    }

    /// A provider's webhook about `request_id`. A redelivery, or news of a job that ended, is a
    /// no-op; a completion stores the images exactly as a poll would.
    pub async fn on_provider_webhook(&self, request_id: &str, outcome: ProviderOutcome) -> Result<WebhookResult> {
        let Some(job) = repo::find_by_request_id(&self.inner.db, request_id).await? else {
            return Ok(WebhookResult::UnknownRequest);
        };
        if GenerationStatus::parse(&job.status)?.is_terminal() {
            return Ok(WebhookResult::AlreadySettled);
        }
        match outcome {
            ProviderOutcome::Completed(output) => match self.inner.provider.files_from_output(&output).await {
                Ok(images) => self.complete(job.id, images).await?,
                Err(ProviderError::Failed(reason)) => {
                    self.settle(job.id, GenerationStatus::Failed, &reason).await?;
                }
                Err(ProviderError::Transient(reason)) => return Err(crate::domain::Error::internal(reason)),
            },
            ProviderOutcome::Failed(reason) => {
                self.settle(job.id, GenerationStatus::Failed, &reason).await?;
            }
        }
        Ok(WebhookResult::Applied)
    }
}

struct StoredImage {
    key: String,
    content_type: String,
    width: u32,
    height: u32,
    sha256: String,
    bytes: Bytes,
}

impl StoredImage {
    fn as_new_image<'a>(&'a self, job: &'a generations::Model, model: Option<&ModelSpec>, now: i64) -> NewImage<'a> {
        NewImage {
            user_id: job.user_id,
            generation_id: job.id,
            avatar_id: job.avatar_id,
            kind: model.map_or(crate::domain::gallery::ImageKind::Imagen4, |m| m.kind),
            model: &job.model,
            prompt: &job.prompt,
            aspect_ratio: AspectRatio::parse(&job.aspect_ratio).unwrap_or(AspectRatio::Square),
            storage_key: &self.key,
            content_type: &self.content_type,
            width: self.width,
            height: self.height,
            byte_size: self.bytes.len() as i64,
            sha256: &self.sha256,
            now,
        }
    }
}
