//! Work permits of the bot's handlers: at most a few handlers do work (GraphQL, the database)
//! at once, but a handler gives its permit back while it only waits — for the outgoing message
//! limiter above all — so a chat held to Telegram's one message a second never holds up the
//! others. The permit lives in a task-local, so `BotCtx::deliver` can pause it without it being
//! passed through every handler.

use std::{
    future::Future,
    sync::{Arc, Mutex},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

tokio::task_local! {
    static SLOT: Slot;
}

struct Slot {
    semaphore: Arc<Semaphore>,
    permit: Mutex<Option<OwnedSemaphorePermit>>,
}

/// Runs a handler holding a work permit of `semaphore` (waiting for one first).
pub async fn with_permit<F: Future>(semaphore: Arc<Semaphore>, handler: F) -> F::Output {
    let permit = semaphore.clone().acquire_owned().await.ok();
    SLOT.scope(Slot { semaphore, permit: Mutex::new(permit) }, handler).await
}

/// Awaits `wait` without holding the current handler's work permit (outside a handler, it
/// just awaits it).
pub async fn paused<F: Future>(wait: F) -> F::Output {
    let released = SLOT.try_with(|slot| {
        drop(slot.permit.lock().unwrap_or_else(|p| p.into_inner()).take());
        slot.semaphore.clone()
    });
    let Ok(semaphore) = released else { return wait.await };
    let output = wait.await;
    if let Ok(permit) = semaphore.acquire_owned().await {
        let _ = SLOT.try_with(|slot| *slot.permit.lock().unwrap_or_else(|p| p.into_inner()) = Some(permit));
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_paused_handler_lets_another_handler_work() {
        let semaphore = Arc::new(Semaphore::new(1));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let waiting = tokio::spawn(with_permit(semaphore.clone(), async move {
            paused(async { rx.await.ok() }).await;
        }));
        tokio::time::sleep(Duration::from_millis(20)).await;
        // The only permit is free while the first handler waits: a second handler runs.
        let second = tokio::time::timeout(Duration::from_secs(1), with_permit(semaphore.clone(), async { 7 })).await;
        assert_eq!(second.ok(), Some(7));
        tx.send(()).ok();
        waiting.await.expect("the first handler ends");
        assert_eq!(semaphore.available_permits(), 1, "the permit came back to the semaphore");
    }
}
