//! Handles what the inbox holds, on any instance: updates of one chat in order (the inbox hands
//! out only the oldest unfinished update of a chat), chats concurrently, payment pre-checks in a
//! lane of their own that never waits behind a chat. Handlers share a few work permits, which
//! they put down while they wait for the outgoing limiter (`work.rs`). A handler that fails for
//! a passing reason is retried with backoff, then parked with its error; one that fails for good
//! is done (the user was told). Claims are renewed while handlers run; on shutdown the
//! dispatcher stops claiming, lets handlers finish for a while, and releases the rest.

use std::{
    collections::HashSet,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::FutureExt;
use teloxide::types::Update;
use tokio::sync::{Notify, Semaphore};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::Instrument;

use super::{BotCtx, handlers};
use crate::domain::inbox::{ClaimedUpdate, Disposition, InboxService, Lane};
use crate::domain::time::now_micros;

/// Chat updates handled (or waiting for the limiter) at once.
const CHAT_SLOTS: usize = 64;
/// Handlers doing work at once (about what the database pool serves).
const WORK_PERMITS: usize = 16;
/// Pre-checks handled at once; they never wait for the others.
const CHECKOUT_SLOTS: usize = 16;
/// How often an idle dispatcher looks for updates other instances took in.
const IDLE: Duration = Duration::from_millis(200);
/// How long a woken dispatcher lets new updates gather before it claims them.
const GATHER: Duration = Duration::from_millis(3);
/// A handler still running after this has failed (and is tried again).
const HANDLER_TIMEOUT: Duration = Duration::from_secs(120);
/// How long handlers may finish on shutdown before their updates are released.
const DRAIN: Duration = Duration::from_secs(5);

pub struct Dispatcher {
    bot: Arc<BotCtx>,
    inbox: InboxService,
    wake: Notify,
    chat_slots: Arc<Semaphore>,
    work: Arc<Semaphore>,
    checkout_slots: Arc<Semaphore>,
    handlers: TaskTracker,
    /// Updates claimed and not yet finished (waiting for a permit or running): their claims
    /// are renewed, and only theirs.
    held: Arc<Mutex<HashSet<i64>>>,
}

/// Why an update was not handled.
enum Failure {
    /// Worth trying again.
    Passing(String),
    /// It will never work (the user has been told what went wrong, if anything).
    Lasting(String),
    /// Not an update we can read: parked for the operator at once.
    Poison(String),
}

impl Dispatcher {
    pub fn new(bot: Arc<BotCtx>, inbox: InboxService) -> Self {
        Dispatcher {
            bot,
            inbox,
            wake: Notify::new(),
            chat_slots: Arc::new(Semaphore::new(CHAT_SLOTS)),
            work: Arc::new(Semaphore::new(WORK_PERMITS)),
            checkout_slots: Arc::new(Semaphore::new(CHECKOUT_SLOTS)),
            handlers: TaskTracker::new(),
            held: Arc::default(),
        }
    }

    /// New updates are in the inbox.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Handles an update this instance already holds (a pre-check, straight from the webhook).
    pub fn handle_now(self: &Arc<Self>, update: ClaimedUpdate) {
        let dispatcher = self.clone();
        let held = self.hold(update.update_id);
        self.handlers.spawn(async move {
            let _slot = dispatcher.checkout_slots.clone().acquire_owned().await;
            dispatcher.handle(update).await;
            drop(held);
        });
    }

    /// Claims and handles updates until `shutdown`; then releases what is left.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let keeper = tokio::spawn(self.clone().keep_claims(shutdown.clone()));
        let mut checkouts_looked_at = tokio::time::Instant::now();
        while !shutdown.is_cancelled() {
            let mut started = self.claim_chat_updates().await;
            // Pre-checks arrive claimed (handled at once by the webhook's instance): only the
            // retried ones and those of a dead instance wait here, so look now and then.
            if checkouts_looked_at.elapsed() >= IDLE {
                started += self.claim_checkouts().await;
                checkouts_looked_at = tokio::time::Instant::now();
            }
            if started == 0 {
                tokio::select! {
                    _ = self.wake.notified() => {
                        // Let the updates arriving together gather: one claim takes them all.
                        tokio::time::sleep(GATHER).await;
                    }
                    _ = tokio::time::sleep(IDLE) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
        self.handlers.close();
        if tokio::time::timeout(DRAIN, self.handlers.wait()).await.is_err() {
            tracing::warn!(
                left = self.handlers.len(),
                "Telegram handlers still running at shutdown; their updates are released"
            );
        }
        keeper.abort();
        match self.inbox.release_held().await {
            Ok(released) => tracing::info!(released, "Telegram updates released"),
            Err(error) => tracing::error!(%error, "could not release Telegram updates; they lapse with their lease"),
        }
    }

    async fn claim_chat_updates(self: &Arc<Self>) -> usize {
        let room = self.chat_slots.available_permits();
        let claimed = match self.inbox.claim(Lane::Chat, room as u64).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::error!(%error, "claiming Telegram updates failed");
                return 0;
            }
        };
        let started = claimed.len();
        for update in claimed {
            let Ok(slot) = self.chat_slots.clone().try_acquire_owned() else { break };
            let dispatcher = self.clone();
            let held = self.hold(update.update_id);
            self.handlers.spawn(async move {
                let work = dispatcher.work.clone();
                super::work::with_permit(work, dispatcher.handle(update)).await;
                drop(held);
                drop(slot);
                dispatcher.wake(); // the chat's next update may be claimable now
            });
        }
        started
    }

    /// Pre-checks whose first handler did not finish (its instance died, or it failed).
    async fn claim_checkouts(self: &Arc<Self>) -> usize {
        let room = self.checkout_slots.available_permits();
        let claimed = match self.inbox.claim(Lane::Checkout, room as u64).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::error!(%error, "claiming payment pre-checks failed");
                return 0;
            }
        };
        let started = claimed.len();
        for update in claimed {
            self.handle_now(update);
        }
        started
    }

    /// Renews this instance's claims while it handles them, and prunes old updates now and then.
    async fn keep_claims(self: Arc<Self>, shutdown: CancellationToken) {
        let every = self.inbox.settings().lease / 3;
        let mut rounds: u64 = 0;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.cancelled() => return,
            }
            let held: Vec<i64> = self.held.lock().unwrap_or_else(|p| p.into_inner()).iter().copied().collect();
            if let Err(error) = self.inbox.renew(&held).await {
                tracing::warn!(%error, "could not renew the claims on Telegram updates");
            }
            rounds += 1;
            if rounds % 360 == 1
                && let Err(error) = self.inbox.prune().await
            {
                tracing::warn!(%error, "could not prune handled Telegram updates");
            }
        }
    }

    /// Keeps `update_id`'s claim renewed until the returned guard is dropped.
    fn hold(&self, update_id: i64) -> Held {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).insert(update_id);
        Held { update_id, held: self.held.clone() }
    }

    async fn handle(&self, update: ClaimedUpdate) {
        let span = tracing::info_span!("telegram_update", update_id = update.update_id, chat = update.chat_key);
        self.handle_in(update).instrument(span).await
    }

    async fn handle_in(&self, update: ClaimedUpdate) {
        let outcome = self.run_handler(&update).await;
        let (recorded, label) = match outcome {
            Ok(()) => (self.inbox.done(&update).await.map(drop), "handled"),
            Err(Failure::Lasting(error)) => {
                tracing::warn!(%error, "a Telegram update failed");
                (self.inbox.done(&update).await.map(drop), "failed")
            }
            Err(Failure::Poison(error)) => {
                tracing::error!(%error, "a Telegram update cannot be read; parked");
                (self.inbox.park(&update, &error).await.map(drop), "parked")
            }
            Err(Failure::Passing(error)) => match self.inbox.failed(&update, &error).await {
                Ok(Disposition::RetryAt(_)) => {
                    tracing::warn!(attempt = update.attempts + 1, %error, "a Telegram update failed; it will be retried");
                    (Ok(()), "retried")
                }
                Ok(Disposition::Parked) => {
                    tracing::error!(%error, "a Telegram update failed every attempt and is parked");
                    handlers::apologise(&self.bot, &update.payload).await;
                    (Ok(()), "parked")
                }
                Err(error) => (Err(error), "retried"),
            },
        };
        let lag = Duration::from_micros(u64::try_from(now_micros() - update.received_at).unwrap_or(0));
        self.bot.metrics.record_telegram_handled(label, lag);
        if let Err(error) = recorded {
            tracing::error!(%error, update_id = update.update_id, "could not record how an update went; it is handled again after its lease");
        }
    }

    async fn run_handler(&self, update: &ClaimedUpdate) -> Result<(), Failure> {
        let parsed: Update =
            serde_json::from_str(&update.payload).map_err(|e| Failure::Poison(format!("not an update: {e}")))?;
        let handler = AssertUnwindSafe(handlers::handle(&self.bot, parsed)).catch_unwind();
        match tokio::time::timeout(HANDLER_TIMEOUT, handler).await {
            Err(_) => Err(Failure::Passing("the handler timed out".into())),
            Ok(Err(_)) => Err(Failure::Passing("the handler panicked".into())),
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(error))) if error.is_transient() => Err(Failure::Passing(error.to_string())),
            Ok(Ok(Err(error))) => Err(Failure::Lasting(error.to_string())),
        }
    }
}

/// An update whose claim is renewed while this lives.
struct Held {
    update_id: i64,
    held: Arc<Mutex<HashSet<i64>>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.update_id);
    }
}
