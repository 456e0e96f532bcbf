//! Signed links, signed for a time window rather than for the instant of the request: an object
//! has the same link for a while, so browsers and Telegram can cache the image, and a gallery
//! page shown again does not sign its twenty links again (a third of a page's instructions, under
//! callgrind).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;

use super::{Bucket, Object, Storage};

/// When a link was signed and until when it works, in unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkWindow {
    pub signed_at: u64,
    pub expires_at: u64,
}

impl LinkWindow {
    /// A window, as of `now` (unix seconds), that lasts at least `ttl` from now. Windows start
    /// every sixth of `ttl`, so a link works for between `ttl` and `ttl` and a sixth.
    pub fn covering(now: u64, ttl: Duration) -> Self {
        let step = (ttl.as_secs() / 6).max(1);
        let signed_at = now - now % step;
        LinkWindow { signed_at, expires_at: signed_at + ttl.as_secs() + step }
    }

    /// The window for a link handed out now.
    pub fn from_now(ttl: Duration) -> Self {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        Self::covering(now, ttl)
    }
}

/// How many links are remembered; past it the memory starts over (links are cheap to re-sign).
const MAX_LINKS: usize = 50_000;

/// Any storage, with the links it signed remembered for their window.
pub struct LinkCache {
    inner: Arc<dyn Storage>,
    /// Per bucket: key → the window and the link signed for it.
    links: Mutex<[Links; 2]>,
}

type Links = HashMap<String, (LinkWindow, Arc<str>)>;

fn slot(bucket: Bucket) -> usize {
    match bucket {
        Bucket::Images => 0,
        Bucket::Photos => 1,
    }
}

impl LinkCache {
    pub fn new(inner: Arc<dyn Storage>) -> Self {
        LinkCache { inner, links: Mutex::default() }
    }

    fn remembered(&self, bucket: Bucket, key: &str, window: LinkWindow) -> Option<Arc<str>> {
        let links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        links[slot(bucket)].get(key).filter(|(w, _)| *w == window).map(|(_, url)| url.clone())
    }
}

#[async_trait::async_trait]
impl Storage for LinkCache {
    async fn put(&self, bucket: Bucket, key: &str, bytes: Bytes, content_type: &str) -> anyhow::Result<()> {
        self.inner.put(bucket, key, bytes, content_type).await
    }

    async fn get(&self, bucket: Bucket, key: &str) -> anyhow::Result<Option<Object>> {
        self.inner.get(bucket, key).await
    }

    async fn delete(&self, bucket: Bucket, key: &str) -> anyhow::Result<()> {
        self.links.lock().unwrap_or_else(|p| p.into_inner())[slot(bucket)].remove(key);
        self.inner.delete(bucket, key).await
    }

    async fn list(&self, bucket: Bucket, prefix: &str) -> anyhow::Result<Vec<String>> {
        self.inner.list(bucket, prefix).await
    }

    async fn sign(&self, bucket: Bucket, key: &str, window: LinkWindow) -> anyhow::Result<String> {
        if let Some(url) = self.remembered(bucket, key, window) {
            return Ok(url.to_string());
        }
        let url = self.inner.sign(bucket, key, window).await?;
        let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        let links = &mut links[slot(bucket)];
        if links.len() >= MAX_LINKS {
            links.clear();
        }
        links.insert(key.to_owned(), (window, url.as_str().into()));
        Ok(url)
    }

    async fn ping(&self) -> anyhow::Result<()> {
        self.inner.ping().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Signs links that tell how many were signed before, and keeps nothing else.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    #[async_trait::async_trait]
    impl Storage for Counting {
        async fn put(&self, _: Bucket, _: &str, _: Bytes, _: &str) -> anyhow::Result<()> {
            Ok(())
        }
        async fn get(&self, _: Bucket, _: &str) -> anyhow::Result<Option<Object>> {
            Ok(None)
        }
        async fn delete(&self, _: Bucket, _: &str) -> anyhow::Result<()> {
            Ok(())
        }
        async fn list(&self, _: Bucket, _: &str) -> anyhow::Result<Vec<String>> {
            Ok(Vec::new())
        }
        async fn sign(&self, bucket: Bucket, key: &str, window: LinkWindow) -> anyhow::Result<String> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            Ok(format!("{}/{key}?until={}&n={n}", bucket.as_str(), window.expires_at))
        }
        async fn ping(&self) -> anyhow::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_link_is_signed_once_per_window_and_forgotten_with_its_object() {
        let cache = LinkCache::new(Arc::new(Counting::default()));
        let ttl = Duration::from_secs(3600);
        let (first, next) = (LinkWindow::covering(1_800_000_000, ttl), LinkWindow::covering(1_800_000_600, ttl));
        let sign = |bucket, key: &'static str, window| {
            let cache = &cache;
            async move { cache.sign(bucket, key, window).await.expect("signs") }
        };
        let link = sign(Bucket::Images, "a.png", first).await;
        assert_eq!(sign(Bucket::Images, "a.png", first).await, link, "remembered");
        assert_ne!(sign(Bucket::Photos, "a.png", first).await, link, "buckets are apart");
        let renewed = sign(Bucket::Images, "a.png", next).await;
        assert_ne!(renewed, link, "a new window, a new link");
        cache.delete(Bucket::Images, "a.png").await.expect("deletes");
        assert_ne!(sign(Bucket::Images, "a.png", next).await, renewed, "forgotten with the object");
    }

    #[test]
    fn a_window_lasts_at_least_the_ttl_and_is_the_same_for_a_sixth_of_it() {
        let ttl = Duration::from_secs(3600);
        for now in [1_800_000_000, 1_800_000_599, 1_800_000_600, 1_800_001_234] {
            let window = LinkWindow::covering(now, ttl);
            assert!(window.signed_at <= now);
            assert!(window.expires_at >= now + 3600, "{now}: {window:?}");
            assert!(window.expires_at <= now + 3600 + 600, "{now}: {window:?}");
        }
        assert_eq!(LinkWindow::covering(1_800_000_000, ttl), LinkWindow::covering(1_800_000_599, ttl));
        assert_ne!(LinkWindow::covering(1_800_000_599, ttl), LinkWindow::covering(1_800_000_600, ttl));
        let zero = LinkWindow::covering(1_800_000_000, Duration::ZERO);
        assert!(zero.expires_at > 1_800_000_000, "even a zero ttl gives a link that works now");
    }
}
