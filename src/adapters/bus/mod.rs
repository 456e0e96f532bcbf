//! The event bus: domain events fan out to subscriptions and bot notifications. In-process
//! broadcast by default; Redis pub/sub when `REDIS_URL` is set, so that every instance sees
//! every event exactly once.

mod memory;
mod redis;

pub use self::memory::MemoryBus;
pub use self::redis::RedisBus;

use futures_util::stream::BoxStream;

use crate::domain::events::Event;

#[async_trait::async_trait]
pub trait EventBus: Send + Sync {
    /// Sends the event to every subscriber of every instance. A bus failure is logged by the
    /// caller and never undoes the change the event describes.
    async fn publish(&self, event: &Event) -> anyhow::Result<()>;
    /// Every event published from now on (events missed by a slow subscriber are skipped).
    fn subscribe(&self) -> BoxStream<'static, Event>;
}
