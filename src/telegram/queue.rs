//! Updates are handled in order within a chat and concurrently across chats (what teloxide's
//! dispatcher does; ours needs no `getMe` at start-up, so the server starts without Telegram).
//! A chat's worker ends after a minute of quiet. At most a few updates are handled at once
//! across all chats (about what the database pool can serve): a burst then waits in memory
//! instead of crowding the runtime, so acknowledging new updates stays fast.

use std::{
    collections::HashMap,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::FutureExt;
use teloxide::types::Update;
use tokio::sync::{
    Semaphore,
    mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel},
};

use super::handlers::{BotCtx, handle};

const IDLE: Duration = Duration::from_secs(60);
const CONCURRENT_UPDATES: usize = 16;

type Queues = Arc<Mutex<HashMap<i64, UnboundedSender<Update>>>>;

/// Runs until the update channel closes.
pub async fn run(bot: Arc<BotCtx>, mut updates: UnboundedReceiver<Update>) {
    let queues: Queues = Arc::default();
    let permits = Arc::new(Semaphore::new(CONCURRENT_UPDATES));
    while let Some(update) = updates.recv().await {
        let key = update.chat().map(|c| c.id.0).or_else(|| update.from().map(|u| u.id.0 as i64)).unwrap_or(0);
        let mut map = queues.lock().unwrap_or_else(|p| p.into_inner());
        let update = match map.get(&key) {
            Some(sender) => match sender.send(update) {
                Ok(()) => continue,
                Err(returned) => returned.0,
            },
            None => update,
        };
        let (sender, receiver) = unbounded_channel();
        let _ = sender.send(update);
        map.insert(key, sender);
        tokio::spawn(worker(bot.clone(), queues.clone(), permits.clone(), key, receiver));
    }
}

async fn worker(bot: Arc<BotCtx>, queues: Queues, permits: Arc<Semaphore>, key: i64, mut updates: UnboundedReceiver<Update>) {
    loop {
        match tokio::time::timeout(IDLE, updates.recv()).await {
            Ok(Some(update)) => {
                let Ok(_permit) = permits.acquire().await else { return };
                // A bug in one handler must not take the chat's queue down with it.
                if AssertUnwindSafe(handle(&bot, update)).catch_unwind().await.is_err() {
                    tracing::error!(chat = key, "a Telegram handler panicked");
                }
            }
            Ok(None) => return,
            Err(_) => {
                let mut map = queues.lock().unwrap_or_else(|p| p.into_inner());
                // Under the lock nobody can send to us; leave only when nothing is waiting.
                if updates.is_empty() {
                    map.remove(&key);
                    return;
                }
            }
        }
    }
}
