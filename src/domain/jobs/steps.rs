//! The steps of a job: submit, poll, and (when the provider says it is done) fetch. Each runs
//! under the job's claim, renewed while it lasts, and ends with one recorded outcome. A failed
//! step either retries later (the job keeps going) or fails the job with a refund: that
//! decision is made in one place, [`StepError`].

use std::{future::Future, sync::Arc, time::Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use super::engine::JobEngine;
use super::model::{Job, Purpose};
use super::repository as repo;
use crate::domain::avatars::{self, TrainingType};
use crate::domain::claims::backoff;
use crate::domain::generations::GenerationStatus;
use crate::domain::generations::prompt_help::{self, PromptTask};
use crate::domain::{Error, time::now_micros};
use crate::providers::{JobSpec, LoraWeights, ProviderError, ProviderStatus, TextRequest, TrainingSpec};

/// What a failed step means for its job.
#[derive(Debug)]
pub(super) enum StepError {
    /// Worth trying again later (the provider or our storage was unavailable).
    Retry(String),
    /// The job cannot succeed: it ends `FAILED` and is refunded.
    Fail(String),
    /// The provider's content checker refused it: `FAILED`, every picture counted blocked.
    Blocked,
}

impl From<ProviderError> for StepError {
    fn from(error: ProviderError) -> Self {
        match error {
            ProviderError::Transient(reason) => StepError::Retry(reason),
            ProviderError::Failed(reason) => StepError::Fail(reason),
            ProviderError::Blocked => StepError::Blocked,
        }
    }
}

impl From<Error> for StepError {
    fn from(error: Error) -> Self {
        match error {
            // What the job asks for can no longer be done (its avatar was deleted, say).
            Error::Unavailable(reason) | Error::InvalidInput(reason) => StepError::Fail(reason),
            Error::NotFound(what) => StepError::Fail(format!("{what} not found")),
            other => StepError::Retry(other.to_string()),
        }
    }
}

/// How a submission ended when the provider took it.
enum Submitted {
    /// The handle is recorded: the job is polled from now on.
    Recorded,
    /// The job ended or changed hands meanwhile; the provider was asked to cancel.
    Abandoned,
}

/// Progress shown while a job waits in the provider's queue: 5–20, nearer 20 as it advances.
pub(super) fn queue_progress(position: Option<u32>) -> u8 {
    20u8.saturating_sub(position.unwrap_or(10).min(15) as u8)
}

/// Progress while running: the provider's share mapped onto 20–95, or a little more each poll.
fn running_progress(reported: Option<u8>, last: u8) -> u8 {
    let progress = reported.map_or(last.max(20) + 5, |p| (20 + u16::from(p.min(100)) * 3 / 4) as u8);
    progress.clamp(20, 95).max(last)
}

impl JobEngine {
    /// Sends the job to the provider and records its handle.
    pub(super) async fn submit_step(&self, job: Job) {
        self.run_step(&job, "submit", self.submit(&job)).await;
    }

    /// Runs one step under the job's claim in a span of its own, records its outcome and
    /// counts it in the metrics (`aisha_job_steps_total`).
    async fn run_step(&self, job: &Job, step: &'static str, work: impl Future<Output = Result<(), StepError>>) {
        let kind = job.kind().as_str();
        let span = tracing::info_span!("job_step", job = job.id, kind, step, attempt = job.attempts);
        async {
            let started = Instant::now();
            let outcome = self.with_lease(job, work).await;
            let label = match &outcome {
                None => "lost_claim",
                Some(Ok(())) => "ok",
                Some(Err(StepError::Retry(_))) => "retry",
                Some(Err(StepError::Fail(_) | StepError::Blocked)) => "failed",
            };
            self.conclude(job, outcome).await;
            let elapsed = started.elapsed();
            self.deps().metrics.record_job_step(kind, step, label, elapsed);
            tracing::debug!(outcome = label, elapsed_ms = elapsed.as_millis() as u64, "job step done");
        }
        .instrument(span)
        .await
    }

    async fn submit(&self, job: &Job) -> Result<(), StepError> {
        let translated = self.in_english(job).await?;
        let job = translated.as_ref().unwrap_or(job);
        let mut spec = self.spec(job).await?;
        if spec.training.is_none() {
            return self.submit_spec(job, &spec).await.map(drop);
        }
        let submitted = async {
            let archive = self.store_training_archive(job).await?;
            if self.settings().archive_via_provider
                && let Some(url) = self.deps().provider.upload("photos.zip", archive, "application/zip").await?
                && let Some(training) = spec.training.as_mut()
            {
                training.images_zip_url = url;
            }
            self.submit_spec(job, &spec).await
        };
        let outcome = submitted.await;
        if !matches!(outcome, Ok(Submitted::Recorded)) {
            // The archive was written for a submission that did not take (a retry writes it
            // again). It must not outlive a job cancelled meanwhile: an erased account's
            // folder was emptied while this step ran.
            self.forget_training_archive(job).await;
        }
        outcome.map(drop)
    }

    /// Submits the spec and records the handle, unless the job ended or changed hands meanwhile.
    async fn submit_spec(&self, job: &Job, spec: &JobSpec) -> Result<Submitted, StepError> {
        let handle = self.deps().provider.submit(spec).await?;
        let now = now_micros();
        let progress = queue_progress(None);
        let next_poll = now + self.poll_interval().as_micros() as i64;
        let token = job.claim.as_deref().unwrap_or_default();
        if !repo::record_handle(self.db(), job.id, token, &handle, progress, next_poll, now)
            .await
            .map_err(StepError::from)?
        {
            // Cancelled while we were submitting, or the claim passed to someone else: this
            // submission must not run on.
            tracing::warn!(
                job = job.id,
                "a job ended or changed hands during its submit; cancelling it at the provider"
            );
            if let Err(error) = self.deps().provider.cancel(&handle).await {
                tracing::warn!(%error, job = job.id, "provider cancel failed");
            }
            return Ok(Submitted::Abandoned);
        }
        self.publish_progress(job, repo::Polled { status: GenerationStatus::Queued, progress, queue_position: None })
            .await;
        Ok(Submitted::Recorded)
    }

    /// A generation whose prompt is not in English is translated before it is submitted: the
    /// English prompt replaces it and the user's words are kept as `original_prompt`. Stored
    /// before the submit, so a retried step does not translate again. A model that cannot
    /// translate leaves the prompt as the user wrote it.
    async fn in_english(&self, job: &Job) -> Result<Option<Job>, StepError> {
        if !matches!(job.purpose, Purpose::Image { .. }) || !prompt_help::needs_translation(&job.prompt) {
            return Ok(None);
        }
        let task = PromptTask::Translate;
        let request = TextRequest { task, instructions: task.instructions(), text: job.prompt.clone() };
        let reply = match self.deps().provider.complete_text(&request).await {
            Ok(reply) => reply,
            Err(ProviderError::Transient(reason)) => return Err(StepError::Retry(reason)),
            Err(error) => {
                tracing::warn!(%error, job = job.id, "a prompt could not be translated; it goes as written");
                return Ok(None);
            }
        };
        let Some(english) = prompt_help::prompt_from_reply(&reply) else { return Ok(None) };
        let original = job.original_prompt.clone().unwrap_or_else(|| job.prompt.clone());
        repo::set_prompt(self.db(), job.id, english.as_str(), &original).await.map_err(StepError::from)?;
        let mut translated = job.clone();
        translated.prompt = english.as_str().to_owned();
        translated.original_prompt = Some(original);
        Ok(Some(translated))
    }

    /// Asks the provider how the job is doing; fetches the results when it is done.
    pub(super) async fn poll_step(&self, job: Job, poll: OwnedSemaphorePermit, fetch: Arc<Semaphore>) {
        self.run_step(&job, "poll", self.poll(&job, poll, fetch)).await;
    }

    async fn poll(&self, job: &Job, poll: OwnedSemaphorePermit, fetch: Arc<Semaphore>) -> Result<(), StepError> {
        let Some(handle) = job.handle.clone() else {
            return Err(StepError::Retry("polled before it was submitted".into()));
        };
        let spec = self.spec(job).await?;
        let status = self.deps().provider.status(&spec, &handle).await?;
        drop(poll);
        let polled = match status {
            ProviderStatus::Queued { position } => repo::Polled {
                status: GenerationStatus::Queued,
                progress: queue_progress(position).max(job.progress),
                queue_position: position,
            },
            ProviderStatus::Running { progress } => repo::Polled {
                status: GenerationStatus::Running,
                progress: running_progress(progress, job.progress),
                queue_position: None,
            },
            ProviderStatus::Failed { reason } => return Err(StepError::Fail(reason)),
            ProviderStatus::Completed => {
                let _fetching = fetch.acquire_owned().await.map_err(|_| StepError::Retry("shutting down".into()))?;
                let files = self.deps().provider.result(&spec, &handle).await?;
                return self.complete(job.id, files).await.map_err(StepError::from);
            }
        };
        let now = now_micros();
        let next_poll = now + self.poll_interval().as_micros() as i64;
        let token = job.claim.as_deref().unwrap_or_default();
        if !repo::record_poll(self.db(), job.id, token, polled, next_poll, now).await.map_err(StepError::from)? {
            return Ok(()); // cancelled, expired or completed by a webhook meanwhile
        }
        let before = repo::Polled { status: job.status, progress: job.progress, queue_position: job.queue_position };
        if polled != before {
            if let Purpose::Training { .. } = job.purpose {
                avatars::training_progress(self.db(), job.id, polled.progress, now).await.map_err(StepError::from)?;
            }
            self.publish_progress(job, polled).await;
        }
        Ok(())
    }

    /// Records how a step ended: a retry later, or the job failed and refunded.
    async fn conclude(&self, job: &Job, outcome: Option<Result<(), StepError>>) {
        match outcome {
            None => tracing::warn!(job = job.id, "a job step lost its claim; another holder carries on"),
            Some(Ok(())) => {}
            Some(Err(StepError::Fail(reason))) => {
                tracing::info!(job = job.id, %reason, "a job failed");
                if let Err(error) = self.settle(job.id, GenerationStatus::Failed, &reason).await {
                    tracing::error!(%error, job = job.id, "could not fail a job; it will be looked at again");
                }
            }
            Some(Err(StepError::Blocked)) => {
                tracing::info!(job = job.id, "the provider's safety filter refused a job");
                if let Err(error) = self.settle_blocked_by_id(job.id).await {
                    tracing::error!(%error, job = job.id, "could not fail a blocked job; it will be looked at again");
                }
            }
            Some(Err(StepError::Retry(reason))) => {
                let delay =
                    backoff(self.poll_interval(), job.attempts.max(0) as u32 + 1, std::time::Duration::from_secs(60));
                tracing::warn!(job = job.id, %reason, ?delay, "a job step failed; it will be retried");
                let token = job.claim.as_deref().unwrap_or_default();
                let retry_at = now_micros() + delay.as_micros() as i64;
                if let Err(error) = repo::retry_later(self.db(), job.id, token, retry_at).await {
                    tracing::error!(%error, job = job.id, "could not schedule a retry; the claim lapses with its lease");
                }
            }
        }
    }

    /// Runs a step while renewing its claim; None (the step dropped) if the claim was lost.
    pub(super) async fn with_lease<T>(&self, job: &Job, step: impl Future<Output = T>) -> Option<T> {
        let lease = self.settings().lease;
        let token = job.claim.clone().unwrap_or_default();
        let renew = async {
            let mut ticks = tokio::time::interval(lease / 3);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let until = now_micros() + lease.as_micros() as i64;
                match repo::renew(self.db(), job.id, &token, until).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(error) => tracing::warn!(%error, job = job.id, "could not renew a job's claim"),
                }
            }
        };
        tokio::select! {
            outcome = step => Some(outcome),
            () = renew => None,
        }
    }

    /// What the provider is asked for. A training names its trainer, its trigger phrase and its
    /// photo archive; a generation with an avatar carries the avatar's weights and its trigger
    /// phrase in front of the prompt. A FLUX job whose avatar was deleted cannot run.
    async fn spec(&self, job: &Job) -> Result<JobSpec, StepError> {
        let mut spec = JobSpec {
            model: job.model.clone(),
            prompt: job.prompt.clone(),
            aspect_ratio: job.aspect_ratio,
            num_images: job.num_images.max(1),
            seed: job.seed,
            lora: None,
            training: None,
            video: None,
        };
        if let Some(source) = job.source_image_id {
            spec.video = Some(self.video_spec(job, source).await?);
        }
        match job.purpose {
            Purpose::Training { avatar_id } => {
                spec.training = Some(TrainingSpec {
                    images_zip_url: self.training_archive_url(job.user_id, avatar_id, job.id).await?,
                    trigger_phrase: job.prompt.clone(),
                    style: job.model == TrainingType::Style.trainer(),
                });
            }
            Purpose::Image { avatar_id: Some(avatar_id) } => {
                let avatar = avatars::find_any(self.db(), avatar_id).await.map_err(StepError::from)?;
                let avatar = avatar.ok_or_else(|| StepError::Fail("the avatar was deleted".into()))?;
                spec.lora = Some(LoraWeights { url: self.weights_url(&avatar).await?, scale: 1.0 });
                spec.prompt = format!("{}, {}", avatar.trigger_phrase, job.prompt);
            }
            Purpose::Image { avatar_id: None } => {
                if self.catalog().iter().any(|m| m.id == job.model && m.needs_avatar) {
                    return Err(StepError::Fail("the avatar was deleted".into()));
                }
            }
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_only_moves_forward_within_its_bands() {
        assert_eq!(queue_progress(Some(0)), 20);
        assert_eq!(queue_progress(None), 10);
        assert_eq!(running_progress(None, 10), 25);
        assert_eq!(running_progress(None, 93), 95);
        assert_eq!(running_progress(Some(100), 0), 95);
        assert_eq!(running_progress(Some(0), 60), 60, "never backwards");
    }

    #[test]
    fn provider_and_domain_errors_map_to_retry_or_fail() {
        assert!(matches!(StepError::from(ProviderError::Transient("503".into())), StepError::Retry(_)));
        assert!(matches!(StepError::from(ProviderError::Failed("422".into())), StepError::Fail(_)));
        assert!(matches!(StepError::from(Error::Unavailable("the avatar was deleted".into())), StepError::Fail(_)));
        assert!(matches!(StepError::from(Error::internal("storage down")), StepError::Retry(_)));
    }
}
