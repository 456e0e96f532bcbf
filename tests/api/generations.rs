use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::db_test;
use crate::support::fake_fal::{FakeFal, Mode};
use crate::support::graphql::GENERATION as GET;
use crate::support::{Db, TestApp, Walk, restart_app, spawn_app, spawn_app_with, use_fal};

const CREATE: &str =
    "mutation($input: CreateGenerationInput!) { createGeneration(input: $input) { id status progress cost error } }";

async fn create(app: &TestApp, token: &str, input: Value) -> crate::support::GqlResponse {
    app.gql(Some(token), CREATE, json!({ "input": input })).await
}

async fn download(app: &TestApp, url: &str) -> Vec<u8> {
    let response = app.http.get(url).send().await.expect("download");
    assert_eq!(response.status(), 200, "{url}");
    response.bytes().await.expect("bytes").to_vec()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.scalar_i64(sql).await
}

db_test!(the_local_provider_completes_a_generation_with_stored_images, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(100, "artist").await;

    let created = create(&app, &token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "  a red fox  ", "numImages": 2, "aspectRatio": "16:9", "seed": 7 })).await;

    let generation = created.data("createGeneration");
    // Usually PENDING; an idle worker polling at that moment may already have taken it further.
    assert!(
        ["PENDING", "QUEUED", "RUNNING"].contains(&generation["status"].as_str().unwrap_or_default()),
        "{generation}"
    );
    assert_eq!(generation["cost"], 10);
    assert_eq!(app.balance(&token).await, 0);
    let done = app.wait_for_status(&token, generation["id"].as_str().expect("id"), &["COMPLETED", "FAILED"]).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["progress"], 100);
    let images = done["images"].as_array().expect("images");
    assert_eq!(images.len(), 2);
    for image in images {
        assert_eq!((image["width"].as_i64(), image["height"].as_i64()), (Some(64), Some(36)));
        assert_eq!(image["type"], "IMAGEN4");
        let bytes = download(&app, image["url"].as_str().expect("url")).await;
        assert_eq!(&bytes[..4], b"\x89PNG");
        assert_eq!(bytes.len() as i64, image["byteSize"].as_i64().expect("size"));
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'CHARGE'").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM credit_reservations WHERE state = 'CAPTURED'").await, 1);
});

db_test!(generations_page_both_ways_newest_first, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(101, "pager").await;
    let mut ids = Vec::new();
    for i in 0..8 {
        let created = create(&app, &token, json!({ "model": "local/sketch", "prompt": format!("page {i}") })).await;
        ids.push(created.data("createGeneration")["id"].clone());
    }
    let forwards = "query($n: Int, $cursor: String) { generations(first: $n, after: $cursor) { pageInfo { hasNextPage hasPreviousPage } edges { cursor node { id } } } }";
    let backwards = forwards.replace("first: $n, after: $cursor", "last: $n, before: $cursor");
    let newest_first: Vec<Value> = ids.iter().rev().map(|id| json!({ "id": id })).collect();
    assert_eq!(app.walk_connection(&token, forwards, &["generations"], Walk::Forwards).await, newest_first);
    assert_eq!(app.walk_connection(&token, &backwards, &["generations"], Walk::Backwards).await, newest_first);
    let mixed = app.gql(Some(&token), "{ generations(first: 1, before: \"x\") { totalCount } }", json!({})).await;
    assert_eq!(mixed.error_code(), "BAD_USER_INPUT");
    for id in &ids {
        app.wait_for_status(&token, id.as_str().expect("id"), &["COMPLETED"]).await;
    }
    app.assert_no_job_running().await;
});

db_test!(bad_generation_input_is_refused_and_changes_nothing, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(101, "careful").await;
    let cases = [
        (json!({ "model": "nope", "prompt": "x" }), "BAD_USER_INPUT"),
        (json!({ "model": "fal-ai/imagen4/preview", "prompt": "   " }), "BAD_USER_INPUT"),
        (json!({ "model": "fal-ai/imagen4/preview", "prompt": "x".repeat(2001) }), "BAD_USER_INPUT"),
        (json!({ "model": "fal-ai/imagen4/preview", "prompt": "x", "aspectRatio": "2:1" }), "BAD_USER_INPUT"),
        (json!({ "model": "fal-ai/imagen4/preview", "prompt": "x", "numImages": 0 }), "BAD_USER_INPUT"),
        (json!({ "model": "fal-ai/imagen4/preview", "prompt": "x", "numImages": 5 }), "BAD_USER_INPUT"),
        (json!({ "model": "fal-ai/imagen4/preview", "prompt": "x", "numImages": 3 }), "INSUFFICIENT_CREDITS"),
    ];
    for (input, code) in cases {
        let response = create(&app, &token, input.clone()).await;
        assert_eq!(response.error_code(), code, "{input}: {}", response.body);
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM generations").await, 0);
    assert_eq!(app.balance(&token).await, 10);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries").await, 1);
    assert_eq!(
        app.gql(None, CREATE, json!({ "input": { "model": "local/sketch", "prompt": "x" } })).await.error_code(),
        "UNAUTHENTICATED"
    );
});

db_test!(the_same_idempotency_key_returns_one_generation_charged_once, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(102, "double").await;
    let input = json!({ "model": "fal-ai/imagen4/preview", "prompt": "twice", "idempotencyKey": "tap-1" });

    let responses = join_all((0..6).map(|_| create(&app, &token, input.clone()))).await;

    let ids: Vec<_> = responses.iter().map(|r| r.data("createGeneration")["id"].clone()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM generations").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'CHARGE'").await, 1);
    assert_eq!(app.balance(&token).await, 5);
});

db_test!(another_user_cannot_see_or_cancel_a_generation, |db: Db| async move {
    let app = spawn_app(db).await;
    let (owner, _) = app.sign_in(103, "owner").await;
    let (stranger, _) = app.sign_in(104, "stranger").await;
    let created = create(&app, &owner, json!({ "model": "local/sketch", "prompt": "mine" })).await;
    let id = created.data("createGeneration")["id"].clone();

    assert_eq!(app.gql(Some(&stranger), GET, json!({ "id": id })).await.error_code(), "NOT_FOUND");
    let cancel = app
        .gql(Some(&stranger), "mutation($id: ID!) { cancelGeneration(id: $id) { status } }", json!({ "id": id }))
        .await;
    assert_eq!(cancel.error_code(), "NOT_FOUND");
    let node = app.gql(Some(&stranger), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
    assert_eq!(node.error_code(), "NOT_FOUND");
    let list = app.gql(Some(&stranger), "{ generations { totalCount } }", json!({})).await;
    assert_eq!(list.data("generations")["totalCount"], 0);
    // The stranger's cancel changed nothing: the owner's generation still completes.
    app.wait_for_status(&owner, id.as_str().expect("id"), &["COMPLETED"]).await;
});

db_test!(cancelling_refunds_exactly_once, |db: Db| async move {
    let app = spawn_app_with(db, |c| c.local.latency = Duration::from_secs(30)).await;
    let (token, _) = app.sign_in(105, "quitter").await;
    let created = create(&app, &token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "never mind" })).await;
    let id = created.data("createGeneration")["id"].clone();
    let cancel = "mutation($id: ID!) { cancelGeneration(id: $id) { status error } }";

    let responses = join_all((0..4).map(|_| app.gql(Some(&token), cancel, json!({ "id": id })))).await;

    for response in responses {
        assert_eq!(response.data("cancelGeneration")["status"], "CANCELLED");
    }
    assert_eq!(app.balance(&token).await, 10);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await, 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.wait_for_status(&token, id.as_str().expect("id"), &["CANCELLED"]).await["status"], "CANCELLED");
});

db_test!(twenty_concurrent_generations_all_complete_and_balance_adds_up, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, user_id) = app.sign_in(106, "busy").await;
    app.give_credits(&user_id, 90).await;

    let inputs =
        (0..20).map(|i| json!({ "model": "local/sketch", "prompt": format!("picture {i}"), "numImages": 1 + i % 4 }));
    let responses = join_all(inputs.map(|input| create(&app, &token, input))).await;

    let mut cost = 0;
    for response in &responses {
        let generation = response.data("createGeneration");
        cost += generation["cost"].as_i64().expect("cost");
        let done = app.wait_for_status(&token, generation["id"].as_str().expect("id"), &["COMPLETED", "FAILED"]).await;
        assert_eq!(done["status"], "COMPLETED", "{done}");
    }
    assert_eq!(cost, 50);
    assert_eq!(app.balance(&token).await, 100 - 50);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM images").await, 50);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM credit_reservations WHERE state = 'CAPTURED'").await, 20);
});

db_test!(fal_by_polling_stores_the_result, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(200)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, _) = app.sign_in(110, "poller").await;
    fal.rate_limit_next(2); // two 429s first: the client retries

    let created = create(&app, &token, json!({ "model": "fal-ai/imagen4/preview/fast", "prompt": "a lighthouse", "numImages": 2, "aspectRatio": "9:16", "seed": 3 })).await;
    let id = created.data("createGeneration")["id"].as_str().expect("id").to_owned();

    let done = app.wait_for_status(&token, &id, &["COMPLETED", "FAILED"]).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["images"].as_array().expect("images").len(), 2);
    let bytes = download(&app, done["images"][0]["url"].as_str().expect("url")).await;
    assert_eq!(&bytes[..4], b"\x89PNG");
    assert_eq!((done["images"][0]["width"].as_i64(), done["images"][0]["height"].as_i64()), (Some(80), Some(60)));
    fal.with_submissions(|submissions| {
        assert_eq!(submissions.len(), 1);
        let submission = &submissions[0];
        assert_eq!(submission.model, "fal-ai/imagen4/preview/fast");
        assert_eq!(submission.authorization.as_deref(), Some("Key test-fal-key"));
        assert_eq!(
            submission.input,
            json!({ "prompt": "a lighthouse", "aspect_ratio": "9:16", "num_images": 2, "seed": 3 })
        );
        assert!(submission.webhook.is_none());
    });
});

db_test!(fal_failures_end_failed_with_exactly_one_refund, |db: Db| async move {
    let fal = FakeFal::start(Mode::ResultError, Duration::from_millis(100)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, _) = app.sign_in(111, "unlucky").await;

    let first = create(&app, &token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "rejected" })).await;
    let failed = app
        .wait_for_status(&token, first.data("createGeneration")["id"].as_str().expect("id"), &["COMPLETED", "FAILED"])
        .await;
    assert_eq!(failed["status"], "FAILED");
    assert!(failed["error"].as_str().expect("error").contains("422"), "{failed}");
    assert!(
        !failed["error"].as_str().expect("error").contains("prompt rejected"),
        "FAL's own words reached the user: {failed}"
    );

    fal.set_mode(Mode::StatusError);
    let second = create(&app, &token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "crashes" })).await;
    let failed = app
        .wait_for_status(&token, second.data("createGeneration")["id"].as_str().expect("id"), &["COMPLETED", "FAILED"])
        .await;
    assert_eq!(failed["status"], "FAILED");

    assert_eq!(app.balance(&token).await, 10);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await, 2);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND' AND amount = 5").await, 2);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM images").await, 0);
});

db_test!(the_deadline_reaper_fails_refunds_and_cancels_at_the_provider, |db: Db| async move {
    let fal = FakeFal::start(Mode::NeverFinish, Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| {
        use_fal(c, &fal);
        c.job_deadline = Duration::from_millis(600);
    })
    .await;
    let (token, _) = app.sign_in(112, "patient").await;

    let created = create(&app, &token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "forever" })).await;
    let failed = app
        .wait_for_status(&token, created.data("createGeneration")["id"].as_str().expect("id"), &["FAILED", "COMPLETED"])
        .await;

    assert_eq!(failed["status"], "FAILED");
    assert!(failed["error"].as_str().expect("error").contains("in time"), "{failed}");
    assert_eq!(app.balance(&token).await, 10);
    tokio::time::sleep(Duration::from_millis(300)).await; // a second reaper round changes nothing
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await, 1);
    assert_eq!(fal.cancels().len(), 1);
});

db_test!(a_server_killed_mid_job_finishes_it_after_restart_without_submitting_again, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(1500)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, _) = app.sign_in(113, "restart").await;
    let created = create(&app, &token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "survives" })).await;
    let id = created.data("createGeneration")["id"].as_str().expect("id").to_owned();
    app.wait_for_status(&token, &id, &["QUEUED", "RUNNING"]).await;

    let place = app.kill().await;
    let app = restart_app(place, |c| {
        use_fal(c, &fal);
        c.job_lease = Duration::from_millis(500);
    })
    .await;

    let done = app.wait_for_status(&token, &id, &["COMPLETED", "FAILED"]).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(fal.submissions(), 1, "the job must not be submitted twice");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'CHARGE'").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM images").await, 1);
    assert_eq!(app.balance(&token).await, 5);
});

fn use_fal_webhooks(config: &mut aisha::config::Config, fal: &FakeFal) {
    use_fal(config, fal);
    config.fal.webhook_url_base = Some(config.public_url.clone());
    // Polling is only the fallback: make it too slow to matter here.
    config.fal.webhook_poll_interval = Duration::from_secs(60);
}

db_test!(fal_by_webhook_completes_once_however_often_it_is_delivered, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(150)).await;
    fal.deliver_webhooks_times(10);
    let app = spawn_app_with(db, |c| use_fal_webhooks(c, &fal)).await;
    let (token, _) = app.sign_in(120, "hooked").await;

    let created =
        create(&app, &token, json!({ "model": "fal-ai/imagen4/preview/fast", "prompt": "by webhook", "numImages": 3 }))
            .await;
    let id = created.data("createGeneration")["id"].as_str().expect("id").to_owned();

    let done = app.wait_for_status(&token, &id, &["COMPLETED", "FAILED"]).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    crate::support::eventually(|| async { fal.webhook_answers().len() == 10 }).await;
    assert_eq!(fal.webhook_answers(), vec![200; 10]);
    let expected_webhook = format!("{}webhooks/fal", app.app.config.public_url);
    fal.with_submissions(|s| assert_eq!(s[0].webhook.as_deref(), Some(expected_webhook.as_str())));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM images").await, 3);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'CHARGE'").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM credit_reservations WHERE state = 'CAPTURED'").await, 1);
});

db_test!(forged_or_stale_fal_webhooks_get_401_and_change_nothing, |db: Db| async move {
    let fal = FakeFal::start(Mode::NeverFinish, Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| use_fal_webhooks(c, &fal)).await;
    let (token, _) = app.sign_in(121, "target").await;
    let created = create(&app, &token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "protected" })).await;
    let id = created.data("createGeneration")["id"].as_str().expect("id").to_owned();
    app.wait_for_status(&token, &id, &["QUEUED", "RUNNING"]).await;
    let request_id = app.scalar_string("SELECT provider_request_id FROM generations").await;
    let body = serde_json::to_vec(&fal.webhook_body(&request_id)).expect("JSON");
    let now = chrono::Utc::now().timestamp();
    let forger = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);

    let forged = crate::support::fake_fal::sign_with(&forger, &request_id, now, &body);
    let stale = fal.sign(&request_id, now - 400, &body);
    let signed_for_another_body = fal.sign(&request_id, now, b"{}");
    assert_eq!(app.post_fal_webhook(&forged, &body).await, 401);
    assert_eq!(app.post_fal_webhook(&stale, &body).await, 401);
    assert_eq!(app.post_fal_webhook(&signed_for_another_body, &body).await, 401);
    assert_eq!(app.post_fal_webhook(&[], &body).await, 401);
    let still = app.gql(Some(&token), GET, json!({ "id": id })).await;
    assert!(["QUEUED", "RUNNING"].contains(&still.data("generation")["status"].as_str().expect("status")));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM images").await, 0);

    let genuine = fal.sign(&request_id, now, &body);
    assert_eq!(app.post_fal_webhook(&genuine, &body).await, 200);
    assert_eq!(app.wait_for_status(&token, &id, &["COMPLETED", "FAILED"]).await["status"], "COMPLETED");
    assert_eq!(app.post_fal_webhook(&genuine, &body).await, 200, "a redelivery is acknowledged");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM images").await, 1);
    let metrics = app.http.get(format!("{}/metrics", app.url)).send().await.expect("sent").text().await.expect("text");
    for (outcome, n) in [("refused", 4), ("applied", 1), ("already_settled", 1)] {
        let series = format!("aisha_webhook_deliveries_total{{source=\"fal\",outcome=\"{outcome}\"}} {n}");
        assert!(metrics.contains(&series), "{series}:\n{metrics}");
    }
});

db_test!(a_fal_error_webhook_fails_the_job_and_refunds_it, |db: Db| async move {
    let fal = FakeFal::start(Mode::StatusError, Duration::from_millis(100)).await;
    fal.deliver_webhooks_times(3);
    let app = spawn_app_with(db, |c| use_fal_webhooks(c, &fal)).await;
    let (token, _) = app.sign_in(122, "errored").await;
    let created = create(&app, &token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "bad" })).await;
    let id = created.data("createGeneration")["id"].as_str().expect("id").to_owned();

    let failed = app.wait_for_status(&token, &id, &["COMPLETED", "FAILED"]).await;

    assert_eq!(failed["status"], "FAILED");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await, 1);
    assert_eq!(app.balance(&token).await, 10);
});
