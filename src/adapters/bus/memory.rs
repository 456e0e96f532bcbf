use futures_util::{StreamExt, stream::BoxStream};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use super::EventBus;
use crate::domain::events::Event;

/// In-process broadcast: the embedded default for a single instance.
pub struct MemoryBus {
    sender: broadcast::Sender<Event>,
}

impl MemoryBus {
    pub fn new(capacity: usize) -> Self {
        MemoryBus { sender: broadcast::channel(capacity).0 }
    }

    /// Delivers an event to local subscribers only (used by the Redis bus on receipt).
    pub(super) fn deliver(&self, event: Event) {
        // No receivers is normal: nobody is subscribed right now.
        let _ = self.sender.send(event);
    }
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self::new(4096)
    }
}

#[async_trait::async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, event: &Event) -> anyhow::Result<()> {
        self.deliver(event.clone());
        Ok(())
    }

    fn subscribe(&self) -> BoxStream<'static, Event> {
        BroadcastStream::new(self.sender.subscribe()).filter_map(|item| async move { item.ok() }).boxed()
    }
}
