//! What the server calls out to: FAL's key goes only to FAL's own host, and the FAL webhook
//! path does not exist where FAL is not configured.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::db_test;
use crate::support::fake_fal::{FakeFal, Mode};
use crate::support::{Db, TestApp, eventually, spawn_app, spawn_app_with, use_fal};

/// Starts a generation and waits for it to fail; its error.
async fn generation_fails(app: &TestApp, token: &str) -> String {
    let create =
        "mutation { createGeneration(input: { model: \"fal-ai/imagen4/preview\", prompt: \"a lighthouse\" }) { id } }";
    let id = app.gql(Some(token), create, json!({})).await.data("createGeneration")["id"].clone();
    let status = "query($id: ID!) { generation(id: $id) { status error } }";
    let failed =
        || async { app.gql(Some(token), status, json!({ "id": id })).await.data("generation")["status"] == "FAILED" };
    assert!(eventually(failed).await, "the job did not fail");
    let answer = app.gql(Some(token), status, json!({ "id": id })).await;
    answer.data("generation")["error"].as_str().unwrap_or_default().to_owned()
}

db_test!(a_status_url_on_another_host_never_receives_the_key, |db: Db| async move {
    // "Elsewhere": a listener that counts whoever connects to it.
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = elsewhere.local_addr().expect("address");
    let visits = Arc::new(AtomicUsize::new(0));
    let counted = visits.clone();
    tokio::spawn(async move {
        while let Ok((_stream, _)) = elsewhere.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(100)).await;
    fal.hand_back_urls_on(&format!("http://{address}/requests/stolen"));
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, _) = app.sign_in(9500, "careful").await;
    let before = app.balance(&token).await;
    let error = generation_fails(&app, &token).await;
    assert!(!error.is_empty(), "the failed job gives no reason");
    assert_eq!(visits.load(Ordering::SeqCst), 0, "the other host was called");
    assert_eq!(app.balance(&token).await, before, "the failed job was not refunded");
});

#[tokio::test]
async fn the_fal_webhook_is_not_found_without_fal() {
    let app = spawn_app(Db::Sqlite).await;
    let response = app.http.post(format!("{}/webhooks/fal", app.url)).body("{}").send().await.expect("sent");
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn concurrent_webhooks_fetch_the_keys_once_and_a_failed_fetch_is_remembered() {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(100)).await;
    let app = spawn_app_with(Db::Sqlite, |c| use_fal(c, &fal)).await;
    let now = chrono::Utc::now().timestamp();
    let deliveries = (0..20).map(|n| {
        let id = format!("unknown-{n}");
        let body = fal.webhook_body(&id).to_string().into_bytes();
        (fal.sign(&id, now, &body), body)
    });
    let deliveries: Vec<_> = deliveries.collect();
    futures_util::future::join_all(deliveries.iter().map(|(headers, body)| app.post_fal_webhook(headers, body))).await;
    assert_eq!(fal.jwks_fetches(), 1, "twenty concurrent verifications fetched the keys more than once");

    // Keys that cannot be fetched: the first failure answers for the next ten seconds.
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let jwks_url = format!("http://{}/jwks.json", elsewhere.local_addr().expect("address"));
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = elsewhere.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream); // no answer: the fetch fails
        }
    });
    let app = spawn_app_with(Db::Sqlite, |c| {
        use_fal(c, &fal);
        c.fal.jwks_url = jwks_url.parse().expect("url");
    })
    .await;
    for (headers, body) in &deliveries[..10] {
        assert_eq!(app.post_fal_webhook(headers, body).await, 503);
    }
    assert_eq!(attempts.load(Ordering::SeqCst), 1, "every webhook tried the unreachable keys again");
}

#[tokio::test]
async fn in_prod_a_result_link_to_a_private_address_is_never_fetched() {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    let app = spawn_app_with(Db::Sqlite, |c| {
        use_fal(c, &fal);
        c.downloads.allow_private = false;
    })
    .await;
    let (token, _) = app.sign_in(9501, "careful").await;
    let before = app.balance(&token).await;
    // An address in the link, then a name that resolves to one.
    let error = generation_fails(&app, &token).await;
    assert!(error.contains("private address"), "the reason was {error:?}");
    let port = fal.url.rsplit(':').next().expect("port");
    fal.hand_back_files_on(&format!("http://localhost:{port}"));
    let error = generation_fails(&app, &token).await;
    assert!(error.contains("private address"), "the reason was {error:?}");
    assert_eq!(fal.file_fetches(), 0, "a private address was fetched");
    assert_eq!(app.balance(&token).await, before, "the failed jobs were not refunded");
}

#[tokio::test]
async fn a_result_larger_than_the_download_cap_fails_the_job() {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    let app = spawn_app_with(Db::Sqlite, |c| {
        use_fal(c, &fal);
        c.downloads.max_bytes = 100;
    })
    .await;
    let (token, _) = app.sign_in(9502, "careful").await;
    let before = app.balance(&token).await;
    let error = generation_fails(&app, &token).await;
    assert!(error.contains("larger than"), "the reason was {error:?}");
    assert_eq!(fal.file_fetches(), 1, "the file was not asked for once");
    assert_eq!(app.balance(&token).await, before, "the failed job was not refunded");
}
