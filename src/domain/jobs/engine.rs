//! The engine's loops: one per kind of job (images, trainings), each with its own capacity for
//! each kind of step, claiming steps while it has room and sleeping until woken (a new job, a
//! step ended) or until work may be due; and the deadline reaper. On shutdown the loops stop
//! claiming, steps in flight get `drain` to finish, and every claim left is released.

use super::eta::{DurationBook, Eta};
use crate::domain::generations::Generation;
use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;
use tokio::{
    sync::{Notify, Semaphore},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;

use super::model::{Job, JobKind};
use super::repository as repo;
use crate::adapters::{bus::EventBus, storage::Storage};
use crate::domain::claims::Claimant;
use crate::domain::credits::CreditService;
use crate::domain::gallery::StatsCache;
use crate::domain::generations::ModelSpec;
use crate::domain::notifications::NotificationService;
use crate::domain::{Result, time::now_micros};
use crate::metrics::Metrics;
use crate::providers::ImageProvider;

/// How many steps of each kind run at once in one pool; a pool with no submit capacity runs
/// nothing (an API-only instance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// Submitting (for trainings: zipping and uploading the photos too).
    pub submit: usize,
    /// Status polls: one short request each.
    pub poll: usize,
    /// Downloading and storing results, then settling.
    pub fetch: usize,
}

#[derive(Clone, Debug)]
pub struct JobSettings {
    pub deadline: Duration,
    /// Avatar trainings take longer (`AISHA_TRAINING_DEADLINE_SECS`).
    pub training_deadline: Duration,
    /// Hand trainers the photo archive through the provider's storage instead of a signed link.
    pub archive_via_provider: bool,
    /// How long a step's claim lasts; renewed while the step runs.
    pub lease: Duration,
    pub poll_interval: Duration,
    /// Polling when webhooks are on: only the fallback.
    pub webhook_poll_interval: Duration,
    /// How often an idle pool looks for work made elsewhere, and the reaper runs.
    pub idle_interval: Duration,
    /// A user's jobs of one kind in flight at once; the rest wait `QUEUED`.
    pub per_user: usize,
    pub images: Capacity,
    pub trainings: Capacity,
    /// On shutdown, how long steps in flight may finish before they are abandoned.
    pub drain: Duration,
    /// What an ETA assumes of a model with no finished generations yet.
    pub typical_duration: Duration,
}

/// What the engine is built from.
pub struct JobEngineDeps {
    pub db: DatabaseConnection,
    pub credits: CreditService,
    pub bus: Arc<dyn EventBus>,
    pub provider: Arc<dyn ImageProvider>,
    pub storage: Arc<dyn Storage>,
    pub catalog: Vec<ModelSpec>,
    pub settings: JobSettings,
    /// New images, charges and refunds change the gallery's statistics.
    pub stats: StatsCache,
    pub notifications: NotificationService,
    pub claimant: Arc<Claimant>,
    /// Job steps are counted and timed (`aisha_job_steps_total`).
    pub metrics: Arc<Metrics>,
}

#[derive(Clone)]
pub struct JobEngine {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub deps: JobEngineDeps,
    durations: DurationBook,
    wake_images: Notify,
    wake_trainings: Notify,
}

/// One kind of job's capacity.
struct Pool {
    kind: JobKind,
    submit: Arc<Semaphore>,
    poll: Arc<Semaphore>,
    fetch: Arc<Semaphore>,
}

impl JobEngine {
    pub fn new(deps: JobEngineDeps) -> Self {
        let durations = DurationBook::new(deps.db.clone(), deps.settings.typical_duration);
        JobEngine {
            inner: Arc::new(Inner { deps, durations, wake_images: Notify::new(), wake_trainings: Notify::new() }),
        }
    }

    /// How long an active generation will still take (None once it ended).
    pub async fn eta(&self, generation: &Generation) -> crate::domain::Result<Option<Eta>> {
        self.inner.durations.estimate(generation, crate::domain::time::now_micros()).await
    }

    /// Asks the provider's language model (prompt help).
    pub async fn complete_text(
        &self,
        request: &crate::providers::TextRequest,
    ) -> Result<String, crate::providers::ProviderError> {
        self.inner.deps.provider.complete_text(request).await
    }

    pub(super) fn durations(&self) -> &DurationBook {
        &self.inner.durations
    }

    pub(super) fn deps(&self) -> &JobEngineDeps {
        &self.inner.deps
    }

    pub(super) fn db(&self) -> &DatabaseConnection {
        &self.inner.deps.db
    }

    pub fn settings(&self) -> &JobSettings {
        &self.inner.deps.settings
    }

    pub fn catalog(&self) -> &[ModelSpec] {
        &self.inner.deps.catalog
    }

    pub fn provider_name(&self) -> &'static str {
        self.inner.deps.provider.name()
    }

    /// Tells the pool of this kind that work may be waiting.
    pub fn wake(&self, kind: JobKind) {
        match kind {
            JobKind::Image => self.inner.wake_images.notify_one(),
            JobKind::Training => self.inner.wake_trainings.notify_one(),
        }
    }

    fn wakener(&self, kind: JobKind) -> &Notify {
        match kind {
            JobKind::Image => &self.inner.wake_images,
            JobKind::Training => &self.inner.wake_trainings,
        }
    }

    /// How often a submitted job is polled.
    pub(super) fn poll_interval(&self) -> Duration {
        let settings = self.settings();
        if self.inner.deps.provider.uses_webhooks() { settings.webhook_poll_interval } else { settings.poll_interval }
    }

    /// Runs the pools and the reaper until `shutdown`, then releases what this instance holds.
    pub fn start(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            let mut loops = JoinSet::new();
            let settings = engine.settings().clone();
            for (kind, capacity) in [(JobKind::Image, settings.images), (JobKind::Training, settings.trainings)] {
                if capacity.submit == 0 {
                    continue;
                }
                let pool = Pool {
                    kind,
                    submit: Arc::new(Semaphore::new(capacity.submit)),
                    poll: Arc::new(Semaphore::new(capacity.poll.max(1))),
                    fetch: Arc::new(Semaphore::new(capacity.fetch.max(1))),
                };
                loops.spawn(engine.clone().run_pool(Arc::new(pool), shutdown.clone()));
            }
            loops.spawn(engine.clone().reap(shutdown.clone()));
            while loops.join_next().await.is_some() {}
            match repo::release(engine.db(), &engine.inner.deps.claimant.pattern()).await {
                Ok(released) => tracing::info!(released, "job claims released"),
                Err(error) => tracing::error!(%error, "could not release job claims; they lapse with their lease"),
            }
        })
    }

    async fn run_pool(self, pool: Arc<Pool>, shutdown: CancellationToken) {
        let mut steps = JoinSet::new();
        let idle = self.settings().idle_interval.min(self.poll_interval());
        while !shutdown.is_cancelled() {
            while steps.try_join_next().is_some() {}
            let claimed = self.claim_steps(&pool, &mut steps).await;
            if claimed == 0 {
                tokio::select! {
                    _ = self.wakener(pool.kind).notified() => {}
                    _ = tokio::time::sleep(idle) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
        // Short steps finish; the rest are abandoned and their claims released by `start`.
        let drained =
            tokio::time::timeout(self.settings().drain, async { while steps.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(kind = pool.kind.as_str(), left = steps.len(), "job steps abandoned at shutdown");
            steps.abort_all();
            while steps.join_next().await.is_some() {}
        }
    }

    /// Claims what the pool has room for; returns how many steps started.
    async fn claim_steps(&self, pool: &Arc<Pool>, steps: &mut JoinSet<()>) -> usize {
        let mut started = 0;
        // One user's job per claim; several claims when many users wait.
        while pool.submit.available_permits() > 0 {
            let jobs = match self.claim_submit(pool.kind, pool.submit.available_permits()).await {
                Ok(jobs) => jobs,
                Err(error) => {
                    tracing::error!(%error, kind = pool.kind.as_str(), "claiming jobs to submit failed");
                    break;
                }
            };
            if jobs.is_empty() {
                break;
            }
            for job in jobs {
                // Only this loop takes submit permits, so the room counted above is still there.
                let Ok(permit) = pool.submit.clone().try_acquire_owned() else {
                    self.step_failed_later(&job).await;
                    continue;
                };
                let engine = self.clone();
                steps.spawn(async move {
                    let kind = job.kind();
                    engine.submit_step(job).await;
                    drop(permit);
                    engine.wake(kind);
                });
                started += 1;
            }
        }
        let room = pool.poll.available_permits();
        if room == 0 {
            return started;
        }
        let due = match self.claim_polls(pool.kind, room).await {
            Ok(due) => due,
            Err(error) => {
                tracing::error!(%error, kind = pool.kind.as_str(), "claiming jobs to poll failed");
                return started;
            }
        };
        for job in due {
            // Only this loop takes poll permits, so the room counted above is still there.
            let Ok(permit) = pool.poll.clone().try_acquire_owned() else {
                self.step_failed_later(&job).await;
                continue;
            };
            let (engine, fetch) = (self.clone(), pool.fetch.clone());
            steps.spawn(async move {
                let kind = job.kind();
                engine.poll_step(job, permit, fetch).await;
                engine.wake(kind);
            });
            started += 1;
        }
        started
    }

    async fn claim_submit(&self, kind: JobKind, limit: usize) -> Result<Vec<Job>> {
        let now = now_micros();
        let lease_until = now + self.settings().lease.as_micros() as i64;
        let token = self.inner.deps.claimant.token();
        repo::claim_for_submit(self.db(), kind, self.settings().per_user.max(1), &token, now, lease_until, limit as u64)
            .await
    }

    async fn claim_polls(&self, kind: JobKind, limit: usize) -> Result<Vec<Job>> {
        let now = now_micros();
        let lease_until = now + self.settings().lease.as_micros() as i64;
        let token = self.inner.deps.claimant.token();
        repo::claim_due(self.db(), kind, &token, now, lease_until, limit.min(64) as u64).await
    }

    /// Gives a claimed job back untouched, due again soon.
    async fn step_failed_later(&self, job: &Job) {
        let retry_at = now_micros() + self.poll_interval().as_micros() as i64;
        if let Err(error) =
            repo::retry_later(self.db(), job.id, job.claim.as_deref().unwrap_or_default(), retry_at).await
        {
            tracing::warn!(%error, job = job.id, "could not give a job back; its claim lapses");
        }
    }

    /// Fails and refunds every active job past its deadline (and cancels it at the provider).
    async fn reap(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.settings().idle_interval) => {}
                _ = shutdown.cancelled() => return,
            }
            if let Err(error) = self.reap_overdue().await {
                tracing::error!(%error, "looking for overdue jobs failed");
            }
        }
    }
}
