//! Emptying the outbox through a channel (the Telegram bot is one, as a [`Courier`]): claimed
//! under a lease on any instance, delivered step by step (a step is recorded once the channel
//! took it, so a retry never repeats it), retried with backoff when the channel fails for now,
//! parked when it refuses for good. The courier only delivers; this decides what happens next.

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use tokio::sync::{Notify, Semaphore};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{Notification, NotificationKind, NotificationService};
use crate::adapters::bus::EventBus;
use crate::domain::avatars::AvatarStatus;
use crate::domain::events::Event;

/// Notifications delivered at once.
const SLOTS: usize = 16;
/// How often an idle courier looks for notifications made on other instances.
const IDLE: Duration = Duration::from_millis(500);
/// How long deliveries in flight may finish at shutdown.
const DRAIN: Duration = Duration::from_secs(5);
/// Sent notifications are pruned every this many rounds (about an hour when idle).
const PRUNE_EVERY: u64 = 7200;

/// A channel that tells users what their notifications say.
#[async_trait::async_trait]
pub trait Courier: Send + Sync + 'static {
    async fn deliver(&self, parcel: &Parcel<'_>) -> Result<(), Undelivered>;
}

/// Why a delivery did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Undelivered {
    /// Trying again later may work (the channel is down, say).
    #[error("{0}")]
    ForNow(String),
    /// It never will (the user blocked the bot, say): parked at once.
    #[error("{0}")]
    ForGood(String),
}

/// One claimed notification, for the courier: what to tell whom, and how far it got.
pub struct Parcel<'a> {
    notification: &'a Notification,
    outbox: &'a NotificationService,
}

impl Parcel<'_> {
    pub fn kind(&self) -> NotificationKind {
        self.notification.kind
    }

    pub fn user_id(&self) -> i64 {
        self.notification.user_id
    }

    /// What the user is told about (a generation, an avatar, a ledger entry, a payment).
    pub fn subject_id(&self) -> i64 {
        self.notification.subject_id
    }

    /// Steps the channel took already (0: none).
    pub fn step(&self) -> i32 {
        self.notification.step
    }

    /// Records that the channel took the steps up to `step`, so a retry starts after them.
    pub async fn advance(&self, step: i32) -> Result<(), Undelivered> {
        match self.outbox.advance(self.notification, step).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                tracing::warn!(id = self.notification.id, step, "a notification changed hands during its delivery");
                Ok(())
            }
            Err(error) => Err(Undelivered::ForNow(format!("recording step {step}: {error}"))),
        }
    }
}

impl NotificationService {
    /// Delivers notifications through `courier` until `shutdown`, then releases what it holds.
    pub async fn deliver_until(self, courier: Arc<dyn Courier>, bus: Arc<dyn EventBus>, shutdown: CancellationToken) {
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(wake_on_news(bus, wake.clone()));
        let slots = Arc::new(Semaphore::new(SLOTS));
        let deliveries = TaskTracker::new();
        let mut rounds: u64 = 0;
        while !shutdown.is_cancelled() {
            rounds += 1;
            if rounds % PRUNE_EVERY == 1
                && let Err(error) = self.prune().await
            {
                tracing::warn!(%error, "could not prune sent notifications");
            }
            let claimed = match self.claim(slots.available_permits() as u64).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::error!(%error, "claiming notifications failed");
                    Vec::new()
                }
            };
            let started = claimed.len();
            for notification in claimed {
                let Ok(slot) = slots.clone().try_acquire_owned() else { break };
                let (outbox, courier, wake) = (self.clone(), courier.clone(), wake.clone());
                deliveries.spawn(async move {
                    outbox.deliver_one(courier.as_ref(), notification).await;
                    drop(slot);
                    wake.notify_one();
                });
            }
            if started == 0 {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(IDLE) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
        listener.abort();
        deliveries.close();
        if tokio::time::timeout(DRAIN, deliveries.wait()).await.is_err() {
            tracing::warn!("notifications still being delivered at shutdown are released");
        }
        if let Err(error) = self.release_held().await {
            tracing::error!(%error, "could not release notifications; they lapse with their lease");
        }
    }

    async fn deliver_one(&self, courier: &dyn Courier, notification: Notification) {
        let delivered = courier.deliver(&Parcel { notification: &notification, outbox: self }).await;
        let recorded = match delivered {
            Ok(()) => self.sent(&notification).await.map(drop),
            Err(Undelivered::ForNow(error)) => {
                tracing::warn!(%error, id = notification.id, "a notification was not delivered; it will be retried");
                self.failed(&notification, &error).await.map(drop)
            }
            Err(Undelivered::ForGood(error)) => {
                tracing::warn!(%error, id = notification.id, "a notification cannot be delivered; parked");
                self.park(&notification, &error).await.map(drop)
            }
        };
        if let Err(error) = recorded {
            tracing::error!(%error, id = notification.id, "could not record a delivery; it may be tried again after its lease");
        }
    }
}

/// Wakes the courier when something ended (on any instance: the bus carries it), so that news
/// does not wait for the next idle look.
async fn wake_on_news(bus: Arc<dyn EventBus>, wake: Arc<Notify>) {
    let mut events = bus.subscribe();
    while let Some(event) = events.next().await {
        let news = match &event {
            Event::GenerationUpdated(g) => g.status.is_terminal(),
            Event::AvatarUpdated(a) => {
                matches!(a.status, AvatarStatus::Ready | AvatarStatus::Failed | AvatarStatus::Cancelled)
            }
            Event::BalanceChanged { .. } => true,
            _ => false,
        };
        if news {
            wake.notify_one();
        }
    }
}
