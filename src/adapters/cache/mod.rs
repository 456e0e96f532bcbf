//! The cache: short-lived values with a time to live (gallery state, dedupe marks, rate limits,
//! cached stats). In-process by default; Redis when `REDIS_URL` is set.

mod memory;
mod redis;

pub use self::memory::MemoryCache;
pub use self::redis::RedisCache;

use std::time::Duration;

#[async_trait::async_trait]
pub trait Cache: Send + Sync {
    async fn get(&self, key: &str) -> anyhow::Result<Option<String>>;
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<()>;
    /// Sets the key only if it is absent; true when this call set it (a dedupe mark).
    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool>;
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    /// Readiness: can the cache be reached now?
    async fn ping(&self) -> anyhow::Result<()>;
}
