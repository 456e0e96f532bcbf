use std::{sync::Arc, time::Duration};

use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{Notification, NotificationKind, repository as repo};
use crate::domain::claims::{Claimant, backoff};
use crate::domain::{Result, time::now_micros};

#[derive(Clone, Debug)]
pub struct NotificationSettings {
    /// Whether a channel delivers notifications (without one, none are written).
    pub enabled: bool,
    /// A delivery's claim; long enough for an album upload.
    pub lease: Duration,
    /// Deliveries tried before a notification is parked.
    pub max_attempts: i32,
    /// The first retry's delay; it doubles each time.
    pub retry_after: Duration,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            enabled: false,
            lease: Duration::from_secs(60),
            max_attempts: 8,
            retry_after: Duration::from_secs(2),
        }
    }
}

/// The durable outbox of what users must be told.
#[derive(Clone)]
pub struct NotificationService {
    db: DatabaseConnection,
    settings: NotificationSettings,
    claimant: Arc<Claimant>,
}

/// What became of a failed delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Retry {
    At(Duration),
    Parked,
}

impl NotificationService {
    pub fn new(db: DatabaseConnection, settings: NotificationSettings, claimant: Arc<Claimant>) -> Self {
        NotificationService { db, settings, claimant }
    }

    /// Records a notification inside the caller's transaction (a no-op without a channel):
    /// `subject_id` is what the user is told about, `event_id` what happened (one notification
    /// per event).
    pub(crate) async fn record(
        &self,
        tx: &impl ConnectionTrait,
        user_id: i64,
        kind: NotificationKind,
        subject_id: i64,
        event_id: i64,
    ) -> Result<()> {
        if !self.settings.enabled {
            return Ok(());
        }
        repo::insert(tx, user_id, kind, subject_id, event_id, now_micros()).await
    }

    /// Takes up to `limit` notifications to deliver.
    pub async fn claim(&self, limit: u64) -> Result<Vec<Notification>> {
        let now = now_micros();
        let lease_until = now + self.settings.lease.as_micros() as i64;
        repo::claim(&self.db, &self.claimant.token(), now, lease_until, limit).await
    }

    /// The channel accepted the delivery's steps up to `step`.
    pub async fn advance(&self, notification: &Notification, step: i32) -> Result<bool> {
        repo::advance(&self.db, notification.id, &notification.token, step).await
    }

    pub async fn sent(&self, notification: &Notification) -> Result<bool> {
        let now = now_micros();
        repo::end(&self.db, notification.id, &notification.token, "SENT", None, now, now).await
    }

    /// A delivery failed: it is tried again after a backoff, or parked after the last attempt.
    pub async fn failed(&self, notification: &Notification, error: &str) -> Result<Retry> {
        let now = now_micros();
        let attempt = notification.attempts + 1;
        if attempt >= self.settings.max_attempts {
            repo::end(&self.db, notification.id, &notification.token, "PARKED", Some(error), now, now).await?;
            return Ok(Retry::Parked);
        }
        let delay = backoff(self.settings.retry_after, attempt as u32, Duration::from_secs(600));
        let retry_at = now + delay.as_micros() as i64;
        repo::end(&self.db, notification.id, &notification.token, "PENDING", Some(error), retry_at, now).await?;
        Ok(Retry::At(delay))
    }

    /// A delivery that can never succeed (the user blocked the bot, say): parked at once.
    pub async fn park(&self, notification: &Notification, error: &str) -> Result<bool> {
        let now = now_micros();
        repo::end(&self.db, notification.id, &notification.token, "PARKED", Some(error), now, now).await
    }

    /// Releases this instance's claims (on shutdown), so another instance delivers at once.
    pub async fn release_held(&self) -> Result<u64> {
        repo::release(&self.db, &self.claimant.pattern()).await
    }

    /// Forgets what was sent more than a day ago.
    pub async fn prune(&self) -> Result<u64> {
        repo::prune(&self.db, now_micros() - 24 * 3600 * 1_000_000).await
    }

    /// Pending notifications, and the age of the oldest.
    pub async fn backlog(&self) -> Result<(i64, Option<Duration>)> {
        let (count, oldest) = repo::backlog(&self.db).await?;
        let age = oldest.map(|at| Duration::from_micros(now_micros().saturating_sub(at).max(0) as u64));
        Ok((count, age))
    }
}
