use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;

use super::writer::Writer;
use super::{ClaimedUpdate, Disposition, InboxEntry, InboxStatus, Lane, NewUpdate, repository as repo};
use crate::domain::claims::{Claimant, backoff};
use crate::domain::{Result, time::now_micros};

#[derive(Clone, Debug)]
pub struct InboxSettings {
    /// A handling's claim; renewed while the handler runs.
    pub lease: Duration,
    /// Handlings tried before an update is parked.
    pub max_attempts: i32,
    /// The first retry's delay; it doubles each time.
    pub retry_after: Duration,
}

impl Default for InboxSettings {
    fn default() -> Self {
        InboxSettings { lease: Duration::from_secs(15), max_attempts: 5, retry_after: Duration::from_secs(1) }
    }
}

#[derive(Clone)]
pub struct InboxService {
    db: DatabaseConnection,
    settings: InboxSettings,
    claimant: Arc<Claimant>,
    writer: Writer,
}

impl InboxService {
    /// Starts the inbox's writer on the current runtime, on `writes` (a pool of its own, so that
    /// acknowledging an update never waits for a connection the handlers hold). `db` takes the
    /// bookkeeping (claims, outcomes, renewals), which may be relaxed (`Durability::Relaxed`):
    /// a mark lost in a crash only means an update is handled again.
    pub fn new(
        db: DatabaseConnection,
        writes: DatabaseConnection,
        settings: InboxSettings,
        claimant: Arc<Claimant>,
    ) -> Self {
        let writer = Writer::start(writes);
        InboxService { db, settings, claimant, writer }
    }

    pub fn settings(&self) -> &InboxSettings {
        &self.settings
    }

    fn lease_until(&self) -> i64 {
        now_micros() + self.settings.lease.as_micros() as i64
    }

    /// Stores an update before it is acknowledged; None for a redelivery. With `claim`, the
    /// update comes back claimed by this instance, to be handled at once.
    pub async fn store(&self, update: NewUpdate, claim: bool) -> Result<Option<ClaimedUpdate>> {
        let token = claim.then(|| self.claimant.token());
        let held = token.clone().map(|t| (t, self.lease_until()));
        let Some(received_at) = self.writer.store(update.clone(), held).await? else { return Ok(None) };
        Ok(Some(ClaimedUpdate {
            update_id: update.update_id,
            chat_key: update.chat_key,
            lane: update.lane,
            payload: update.payload,
            attempts: 0,
            received_at,
            token: token.unwrap_or_default(),
        }))
    }

    /// Up to `limit` updates of the lane to handle now.
    pub async fn claim(&self, lane: Lane, limit: u64) -> Result<Vec<ClaimedUpdate>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        repo::claim(&self.db, lane, &self.claimant.token(), now_micros(), self.lease_until(), limit).await
    }

    pub async fn done(&self, update: &ClaimedUpdate) -> Result<bool> {
        repo::done(&self.db, update.update_id, &update.token, now_micros()).await
    }

    /// A handling failed: retried after a backoff, or parked after the last attempt.
    pub async fn failed(&self, update: &ClaimedUpdate, error: &str) -> Result<Disposition> {
        let attempt = update.attempts + 1;
        let now = now_micros();
        if attempt >= self.settings.max_attempts {
            repo::failed(&self.db, update.update_id, &update.token, InboxStatus::Parked, error, now).await?;
            return Ok(Disposition::Parked);
        }
        let delay = backoff(self.settings.retry_after, attempt as u32, Duration::from_secs(60));
        let retry_at = now + delay.as_micros() as i64;
        repo::failed(&self.db, update.update_id, &update.token, InboxStatus::Pending, error, retry_at).await?;
        Ok(Disposition::RetryAt(retry_at))
    }

    /// An update that can never be handled: parked for the operator at once.
    pub async fn park(&self, update: &ClaimedUpdate, error: &str) -> Result<bool> {
        repo::failed(&self.db, update.update_id, &update.token, InboxStatus::Parked, error, now_micros()).await
    }

    /// Extends the leases of the updates this instance is handling now. (A claim whose handler
    /// ended without its outcome recorded is not renewed: it lapses, and the update is handled
    /// again.)
    pub async fn renew(&self, update_ids: &[i64]) -> Result<u64> {
        repo::renew(&self.db, &self.claimant.pattern(), update_ids, self.lease_until()).await
    }

    /// Releases what this instance holds (on shutdown), so another instance takes it at once.
    pub async fn release_held(&self) -> Result<u64> {
        repo::release(&self.db, &self.claimant.pattern()).await
    }

    /// Forgets updates handled more than a day ago.
    pub async fn prune(&self) -> Result<u64> {
        repo::prune(&self.db, now_micros() - 24 * 3600 * 1_000_000).await
    }

    /// For the operator: updates in a status, newest first.
    pub async fn list(
        &self,
        status: InboxStatus,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<(Vec<InboxEntry>, bool)> {
        let mut rows = repo::list(&self.db, status, before_id, limit as u64 + 1).await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        Ok((rows, more))
    }

    /// For the operator: a parked update is handled again; false if it is not parked.
    pub async fn requeue(&self, update_id: i64) -> Result<bool> {
        repo::requeue(&self.db, update_id, now_micros()).await
    }

    /// Pending updates, and how long the oldest has waited.
    pub async fn backlog(&self) -> Result<(i64, Option<Duration>)> {
        let (count, oldest) = repo::backlog(&self.db).await?;
        Ok((count, oldest.map(|at| Duration::from_micros(now_micros().saturating_sub(at).max(0) as u64))))
    }
}
