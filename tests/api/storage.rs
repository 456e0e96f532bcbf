//! The storage contract, on the local folder and on a real S3 server (`AISHA_TEST_S3_ENDPOINT`,
//! with `AISHA_TEST_S3_ACCESS_KEY` and `AISHA_TEST_S3_SECRET_KEY`), and a generation stored in S3.

use std::{sync::Arc, time::Duration};

use aisha::adapters::storage::{LinkCache, LinkWindow, LocalStorage, S3Storage, Storage};
use aisha::config::S3Config;
use aisha::domain::storage::Bucket;
use serde_json::json;

use crate::support::{Db, spawn_app_with};

pub(crate) fn s3_config() -> Option<S3Config> {
    let endpoint = std::env::var("AISHA_TEST_S3_ENDPOINT").ok().filter(|v| !v.is_empty())?;
    let suffix = format!("{:08x}", rand::random::<u32>());
    Some(S3Config {
        endpoint: endpoint.parse().expect("AISHA_TEST_S3_ENDPOINT is a URL"),
        public_endpoint: None,
        region: "us-east-1".into(),
        access_key_id: std::env::var("AISHA_TEST_S3_ACCESS_KEY").unwrap_or_else(|_| "aisha".into()),
        secret_access_key: std::env::var("AISHA_TEST_S3_SECRET_KEY").unwrap_or_else(|_| "aisha-secret".into()).into(),
        bucket_images: format!("imagen4-{suffix}"),
        bucket_photos: format!("photos-{suffix}"),
    })
}

async fn exercise(storage: Arc<dyn Storage>, http: &reqwest::Client) {
    let bytes = bytes::Bytes::from_static(b"\x89PNG not really");
    storage.put(Bucket::Images, "u/1/g/1/0.png", bytes.clone(), "image/png").await.expect("put");
    let object = storage.get(Bucket::Images, "u/1/g/1/0.png").await.expect("get").expect("stored");
    assert_eq!(object.bytes, bytes);
    assert_eq!(object.content_type, "image/png");
    assert!(storage.get(Bucket::Photos, "u/1/g/1/0.png").await.expect("get").is_none(), "buckets are apart");
    storage.put(Bucket::Images, "u/1/a/2/x.png", bytes.clone(), "image/png").await.expect("put a second");
    storage.put(Bucket::Images, "u/10/g/1/0.png", bytes.clone(), "image/png").await.expect("put another user's");
    let mut listed = storage.list(Bucket::Images, "u/1/").await.expect("list");
    listed.sort();
    assert_eq!(listed, ["u/1/a/2/x.png", "u/1/g/1/0.png"], "a folder's keys, and not the next user's");
    assert!(storage.list(Bucket::Photos, "u/1/").await.expect("list").is_empty(), "buckets are apart");
    assert!(storage.list(Bucket::Images, "u/2/").await.expect("list an empty folder").is_empty());
    storage.delete(Bucket::Images, "u/1/a/2/x.png").await.expect("delete");
    storage.delete(Bucket::Images, "u/10/g/1/0.png").await.expect("delete");

    let window = LinkWindow::from_now(Duration::from_secs(60));
    let url = storage.sign(Bucket::Images, "u/1/g/1/0.png", window).await.expect("signed");
    let again = storage.sign(Bucket::Images, "u/1/g/1/0.png", window).await.expect("signed");
    assert_eq!(url, again, "a link is the same all through its window (so clients can cache the image)");
    let fetched = http.get(&url).send().await.expect("download");
    assert_eq!(fetched.status(), 200, "{url}");
    assert_eq!(fetched.bytes().await.expect("bytes"), bytes);
    let tampered = url.replace("0.png", "1.png");
    assert_ne!(http.get(&tampered).send().await.expect("sent").status(), 200);

    storage.delete(Bucket::Images, "u/1/g/1/0.png").await.expect("delete");
    storage.delete(Bucket::Images, "u/1/g/1/0.png").await.expect("deleting twice is fine");
    assert!(storage.get(Bucket::Images, "u/1/g/1/0.png").await.expect("get").is_none());
    assert!(storage.list(Bucket::Images, "u/1/").await.expect("list").is_empty(), "deleted: listed no more");
    storage.ping().await.expect("ping");
}

#[tokio::test]
async fn the_local_folder_keeps_the_storage_contract_through_our_files_route() {
    // The local folder's links point at our /files route, so serve it.
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    exercise(app.app.storage.clone(), &app.http).await;
    let expired = LocalStorage::open(&app.app.config.data_dir, app.app.config.public_url.clone()).expect("open");
    expired.put(Bucket::Images, "old.png", bytes::Bytes::from_static(b"x"), "image/png").await.expect("put");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    let past = LinkWindow { signed_at: now - 120, expires_at: now - 60 };
    let url = expired.sign(Bucket::Images, "old.png", past).await.expect("signed");
    assert_eq!(app.http.get(&url).send().await.expect("sent").status(), 403, "an expired link is refused");
}

#[tokio::test]
async fn a_real_s3_server_keeps_the_storage_contract() {
    let Some(config) = s3_config() else {
        eprintln!("AISHA_TEST_S3_ENDPOINT is not set: not run");
        return;
    };
    let storage = S3Storage::connect(&config).await.expect("S3 connects and creates the buckets");
    exercise(Arc::new(storage), &reqwest::Client::new()).await;
    // And through the cache of links, as the app uses it.
    let storage = S3Storage::connect(&config).await.expect("connects");
    exercise(Arc::new(LinkCache::new(Arc::new(storage))), &reqwest::Client::new()).await;
}

#[tokio::test]
async fn links_are_signed_for_s3_public_endpoint_while_the_server_talks_to_s3_endpoint() {
    let Some(mut config) = s3_config() else {
        eprintln!("AISHA_TEST_S3_ENDPOINT is not set: not run");
        return;
    };
    // The same server under the name clients know it by; the server keeps its own address.
    let mut public = config.endpoint.clone();
    public.set_host(Some("localhost")).expect("a host");
    config.public_endpoint = Some(public.clone());
    let storage = S3Storage::connect(&config).await.expect("S3 connects");
    let bytes = bytes::Bytes::from_static(b"\x89PNG public");
    storage.put(Bucket::Images, "u/1/g/1/0.png", bytes.clone(), "image/png").await.expect("put");

    let url = storage.sign(Bucket::Images, "u/1/g/1/0.png", LinkWindow::from_now(Duration::from_secs(60))).await;
    let url = url.expect("signed");
    assert!(url.starts_with(public.as_str()), "signed for the public endpoint: {url}");
    let http = reqwest::Client::new();
    let fetched = http.get(&url).send().await.expect("download");
    assert_eq!(fetched.status(), 200, "{url}");
    assert_eq!(fetched.bytes().await.expect("bytes"), bytes);
    // The signature covers the host: the same link at the internal address is refused.
    let internal = url.replacen(public.as_str(), config.endpoint.as_str(), 1);
    assert_ne!(http.get(&internal).send().await.expect("sent").status(), 200, "{internal}");
    storage.delete(Bucket::Images, "u/1/g/1/0.png").await.expect("delete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_is_stored_in_s3_and_served_by_presigned_links() {
    let Some(config) = s3_config() else {
        eprintln!("AISHA_TEST_S3_ENDPOINT is not set: not run");
        return;
    };
    let app = spawn_app_with(Db::Sqlite, |c| c.s3 = Some(config)).await;
    let (token, _) = app.sign_in(300, "s3").await;
    let create = "mutation { createGeneration(input: { model: \"local/sketch\", prompt: \"in a bucket\" }) { id } }";
    let id = app.gql(Some(&token), create, json!({})).await.data("createGeneration")["id"].clone();
    let id = id.as_str().expect("id");
    let generation = app.wait_for_status(&token, id, &["COMPLETED", "FAILED"]).await;
    assert_eq!(generation["status"], "COMPLETED");
    let url = generation["images"][0]["url"].as_str().expect("url");
    assert!(url.contains("X-Amz-Signature"), "a presigned S3 link: {url}");
    let bytes = app.http.get(url).send().await.expect("download").bytes().await.expect("bytes");
    assert_eq!(&bytes[..4], b"\x89PNG");
    let ready: serde_json::Value =
        app.http.get(format!("{}/readyz", app.url)).send().await.expect("sent").json().await.expect("json");
    assert_eq!(ready["storage"], "ok");
}
