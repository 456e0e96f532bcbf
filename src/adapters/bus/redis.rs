use std::{sync::Arc, time::Duration};

use futures_util::{StreamExt, stream::BoxStream};
use redis::AsyncCommands;

use super::{EventBus, MemoryBus};
use crate::domain::events::Event;

/// Redis pub/sub: publishing goes through Redis, and one listener task per instance feeds the
/// local subscribers, reconnecting when the connection drops.
pub struct RedisBus {
    publisher: redis::aio::ConnectionManager,
    local: Arc<MemoryBus>,
    channel: String,
}

impl RedisBus {
    /// Starts the listener; `prefix` names the channel (`<prefix>:events`).
    pub async fn connect(client: redis::Client, publisher: redis::aio::ConnectionManager, prefix: &str) -> Self {
        let local = Arc::new(MemoryBus::default());
        let channel = format!("{prefix}:events");
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(listen(client, channel.clone(), local.clone(), ready_tx));
        // Wait for the first subscription so that nothing published after `connect` is missed.
        let _ = tokio::time::timeout(Duration::from_secs(2), ready_rx).await;
        RedisBus { publisher, local, channel }
    }
}

async fn listen(
    client: redis::Client,
    channel: String,
    local: Arc<MemoryBus>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let payload: Vec<u8> = message.get_payload_bytes().to_vec();
                        match serde_json::from_slice::<Event>(&payload) {
                            Ok(event) => local.deliver(event),
                            Err(error) => tracing::warn!(%error, "undecodable event on the bus"),
                        }
                    }
                    tracing::warn!("redis pub/sub connection closed; reconnecting");
                }
                Err(error) => tracing::warn!(%error, "redis subscribe failed"),
            },
            Err(error) => tracing::warn!(%error, "redis pub/sub connect failed"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[async_trait::async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, event: &Event) -> anyhow::Result<()> {
        let payload = serde_json::to_vec(event)?;
        let mut conn = self.publisher.clone();
        let _: i64 = conn.publish(&self.channel, payload).await?;
        Ok(())
    }

    fn subscribe(&self) -> BoxStream<'static, Event> {
        self.local.subscribe()
    }
}
