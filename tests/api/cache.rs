//! The cache contract, checked on the in-process cache and on a real Redis.

use std::{sync::Arc, time::Duration};

use aisha::adapters::cache::{Cache, MemoryCache, Rate, RedisCache};

async fn exercise(cache: Arc<dyn Cache>) {
    let ttl = Duration::from_secs(60);
    assert_eq!(cache.get("k").await.expect("get"), None);
    cache.set("k", "v1", ttl).await.expect("set");
    assert_eq!(cache.get("k").await.expect("get").as_deref(), Some("v1"));

    assert!(cache.set_if_absent("mark", "1", ttl).await.expect("first mark"));
    assert!(!cache.set_if_absent("mark", "2", ttl).await.expect("second mark"));
    assert_eq!(cache.get("mark").await.expect("get").as_deref(), Some("1"));

    cache.delete("k").await.expect("delete");
    assert_eq!(cache.get("k").await.expect("get"), None);

    cache.set("short", "x", Duration::from_millis(50)).await.expect("set");
    assert!(cache.set_if_absent("short-mark", "x", Duration::from_millis(50)).await.expect("mark"));
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(cache.get("short").await.expect("get"), None, "expired values are gone");
    assert!(cache.set_if_absent("short-mark", "y", ttl).await.expect("mark"), "an expired mark can be set again");
    cache.ping().await.expect("ping");

    // A bucket of 3 a minute: a burst of three, then a wait of about a token's 20 s.
    let rate = Rate { count: 3, per: Duration::from_secs(60) };
    for n in 0..3 {
        assert_eq!(cache.take("bucket", rate).await.expect("take"), None, "take {n} of the burst");
    }
    let wait = cache.take("bucket", rate).await.expect("take").expect("the fourth waits");
    assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20), "{wait:?}");
    assert_eq!(cache.take("other bucket", rate).await.expect("take"), None, "buckets are separate");
    // A fast bucket refills: 2 per 100 ms.
    let fast = Rate { count: 2, per: Duration::from_millis(100) };
    assert!(
        cache.take("fast", fast).await.expect("take").is_none()
            && cache.take("fast", fast).await.expect("take").is_none()
    );
    assert!(cache.take("fast", fast).await.expect("take").is_some());
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(cache.take("fast", fast).await.expect("take"), None, "the bucket refilled");
}

#[tokio::test]
async fn the_memory_cache_keeps_the_contract() {
    exercise(Arc::new(MemoryCache::default())).await;
}

#[tokio::test]
async fn the_redis_cache_keeps_the_contract() {
    let Some(url) = crate::support::redis_url() else {
        eprintln!("AISHA_TEST_REDIS_URL is not set: not run");
        return;
    };
    let client = redis::Client::open(url).expect("url");
    let conn = redis::aio::ConnectionManager::new(client).await.expect("Redis is up");
    let prefix = format!("aisha-test-{:016x}", rand::random::<u64>());
    exercise(Arc::new(RedisCache::new(conn, &prefix))).await;
}
