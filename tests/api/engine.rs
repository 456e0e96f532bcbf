//! The job engine follows many jobs at once and fairly: one user's burst does not delay another
//! user's job, trainings do not take the capacity of images, a long step keeps its claim (no
//! second submit), SIGTERM hands held jobs to another instance at once, deleting an avatar
//! settles the jobs that need it, statistics follow every charge, and the operator can settle
//! a stuck job.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::avatars::{avatar_with_photos, wait_for_avatar};
use crate::db_test;
use crate::support::fake_fal::{FakeFal, Mode};
use crate::support::process::{Server, Site, cli_token, scalar};
use crate::support::{ADMIN_TOKEN, TestApp, eventually, eventually_within, spawn_app_with, use_fal};

const STATUS: &str = "query($id: ID!) { generation(id: $id) { status error } }";

async fn status(app: &TestApp, token: &str, id: &str) -> String {
    app.gql(Some(token), STATUS, json!({ "id": id })).await.data("generation")["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

db_test!(one_users_burst_of_eight_does_not_delay_another_users_job, |db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_secs(20)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (busy, busy_id) = app.sign_in(9301, "busy").await;
    app.give_credits(&busy_id, 100).await;
    let (other, _) = app.sign_in(9302, "other").await;
    for n in 0..8 {
        app.create_generation(&busy, json!({ "model": "fal-ai/imagen4/preview", "prompt": format!("burst {n}") }))
            .await;
    }
    let asked = Instant::now();
    let mine = app.create_generation(&other, json!({ "model": "fal-ai/imagen4/preview", "prompt": "just one" })).await;

    // The other user's job goes to the provider at once; the busy user has four in flight.
    let fal_ref = &fal;
    let submitted = |prompt: &'static str| {
        move || async move {
            fal_ref.with_submissions(|s| {
                s.iter().filter(|s| s.input["prompt"].as_str().is_some_and(|p| p.starts_with(prompt))).count()
            })
        }
    };
    assert!(
        eventually(|| async { submitted("just one")().await == 1 }).await,
        "the other user's job was not submitted"
    );
    assert!(asked.elapsed() < Duration::from_secs(3), "submitted only after {:?}", asked.elapsed());
    assert_eq!(submitted("burst")().await, 4, "a user has four jobs in flight at most");
    let waiting = app
        .scalar_i64("SELECT COUNT(*) FROM generations WHERE status = 'QUEUED' AND provider_request_id IS NULL")
        .await;
    assert_eq!(waiting, 4, "the rest wait QUEUED");

    let app_ref = &app;
    let done = || async { status(app_ref, &other, &mine).await == "COMPLETED" };
    assert!(eventually_within(Duration::from_secs(40), done).await, "the other user's job did not complete");
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(20 + 5), "it took {took:?} for a job of 20 s");
    eprintln!("the other user's job took {took:?} (provider latency 20 s)");
    app.leaves_jobs_running("the busy user's burst of 20-second jobs is not waited for");
});

db_test!(four_trainings_in_progress_do_not_delay_an_image, |db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(500)).await;
    fal.set_latency_for("fal-ai/flux-lora-portrait-trainer", Duration::from_secs(120));
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let mut trainings = Vec::new();
    for n in 0..4 {
        let (token, avatar) = avatar_with_photos(&app, 9310 + n, 10).await;
        let start = "mutation($id: ID!) { startAvatarTraining(avatarId: $id) { status } }";
        assert_eq!(
            app.gql(Some(&token), start, json!({ "id": avatar })).await.data("startAvatarTraining")["status"],
            "TRAINING"
        );
        trainings.push((token, avatar));
    }
    let fal_ref = &fal;
    let trainers = || fal_ref.with_submissions(|s| s.iter().filter(|s| s.model.contains("trainer")).count());
    assert!(eventually(|| async { trainers() == 4 }).await, "the four trainings were not all submitted");

    let (token, _) = app.sign_in(9319, "painter").await;
    let asked = Instant::now();
    let id =
        app.create_generation(&token, json!({ "model": "fal-ai/imagen4/preview/fast", "prompt": "meanwhile" })).await;
    let app_ref = &app;
    assert!(
        eventually(|| async { status(app_ref, &token, &id).await == "COMPLETED" }).await,
        "the image did not complete"
    );
    let took = asked.elapsed();
    assert!(took < Duration::from_millis(500) + Duration::from_secs(5), "the image took {took:?}");
    for (token, avatar) in &trainings {
        assert_eq!(crate::avatars::avatar(&app, token, avatar).await["status"], "TRAINING");
    }
    app.leaves_jobs_running("the four two-minute trainings are not waited for");
});

db_test!(a_training_whose_archive_upload_outlives_the_lease_is_submitted_once, |db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(300)).await;
    // The test lease is 2 s; the upload of the photo archive takes 5.
    fal.slow_uploads(Duration::from_secs(5));
    let app = spawn_app_with(db, |c| {
        use_fal(c, &fal);
        c.fal.archive_via_fal = true;
        c.fal.storage_url = format!("{}/", fal.url).parse().expect("url");
    })
    .await;
    let (token, avatar) = avatar_with_photos(&app, 9320, 10).await;
    let start = "mutation($id: ID!) { startAvatarTraining(avatarId: $id) { status } }";
    app.gql(Some(&token), start, json!({ "id": avatar })).await.data("startAvatarTraining");
    let ready = wait_for_avatar(&app, &token, &avatar, &["READY", "FAILED"]).await;
    assert_eq!(ready["status"], "READY", "{ready}");
    assert_eq!(fal.submissions(), 1, "the training was submitted more than once");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'CHARGE'").await, 1);
});

db_test!(sigterm_releases_held_jobs_and_another_instance_completes_them_once, |db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(300)).await;
    // Every status request hangs: the first instance holds its jobs' claims while it waits.
    fal.slow_status(Duration::from_secs(60));
    let site = Site::new(db).await;
    let mut env = site.env("first", None);
    env.extend(
        [
            ("FAL_KEY", "test-fal-key".to_owned()),
            ("FAL_QUEUE_URL", format!("{}/", fal.url)),
            ("FAL_JWKS_URL", fal.jwks_url()),
            ("AISHA_FAL_POLL_MS", "50".to_owned()),
            // A crash would leave these jobs to lapse for a minute.
            ("AISHA_JOB_LEASE_SECS", "60".to_owned()),
            ("AISHA_SHUTDOWN_GRACE_SECS", "4".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let first = Server::start(&env, &site.dir.path().join("first.log")).await;
    let token = cli_token(&env, 9330).await;
    for n in 0..2 {
        let created = first
            .gql(Some(&token), "mutation($p: String!) { createGeneration(input: { model: \"fal-ai/imagen4/preview\", prompt: $p }) { id } }", json!({ "p": format!("moving {n}") }))
            .await;
        assert!(created["data"]["createGeneration"]["id"].is_string(), "{created}");
    }
    let url = &site.database_url;
    let held = || async {
        scalar(url, "SELECT COUNT(*) FROM generations WHERE claimed_by IS NOT NULL AND provider_request_id IS NOT NULL")
            .await
            == 2
    };
    assert!(eventually(held).await, "the jobs were never held mid-poll; log:\n{}", first.log_text());

    let (clean, took) = first.terminate().await;
    assert!(clean, "the first instance did not exit cleanly");
    assert!(took < Duration::from_secs(4 + 2), "it took {took:?} to stop with a grace of 4 s");
    assert_eq!(
        scalar(url, "SELECT COUNT(*) FROM generations WHERE claimed_by IS NOT NULL").await,
        0,
        "claims were not released"
    );

    fal.slow_status(Duration::ZERO);
    let second = spawn_app_with(db, |c| {
        use_fal(c, &fal);
        c.database_url = site.database_url.clone();
        c.job_lease = Duration::from_secs(60);
    })
    .await;
    let second_ref = &second;
    let completed =
        || async { second_ref.scalar_i64("SELECT COUNT(*) FROM generations WHERE status = 'COMPLETED'").await == 2 };
    assert!(eventually(completed).await, "the second instance did not complete the released jobs at once");
    assert_eq!(fal.submissions(), 2, "a released job was submitted again");
    assert_eq!(second.scalar_i64("SELECT COUNT(*) FROM credit_reservations WHERE state = 'CAPTURED'").await, 2);
    assert_eq!(second.scalar_i64("SELECT COUNT(*) FROM images").await, 2);
});

db_test!(deleting_an_avatar_cancels_and_refunds_the_generations_waiting_for_it, |db| async move {
    let app = spawn_app_with(db, |c| c.local.latency = Duration::from_secs(30)).await;
    let (token, user_id) = app.sign_in(9340, "owner").await;
    app.give_credits(&user_id, 100).await;
    let user = app.scalar_i64("SELECT id FROM users WHERE telegram_id = 9340").await;
    let avatar = app
        .scalar_i64(&format!(
            "INSERT INTO avatars (user_id, name, training_type, status, trigger_phrase, lora_key, created_at, updated_at) \
             VALUES ({user}, 'Me', 'PORTRAIT', 'READY', 'aisha_me', 'u/{user}/a/lora.safetensors', 0, 0) RETURNING id"
        ))
        .await;
    let avatar_id = aisha::graphql::avatar_global_id(avatar);
    let id = app
        .create_generation(&token, json!({ "model": "fal-ai/flux-lora", "prompt": "me", "avatarId": avatar_id }))
        .await;
    assert_eq!(app.balance(&token).await, 110 - 6);

    let deleted =
        app.gql(Some(&token), "mutation($id: ID!) { deleteAvatar(id: $id) }", json!({ "id": avatar_id })).await;
    assert_eq!(deleted.data("deleteAvatar"), true);
    let generation = app.gql(Some(&token), STATUS, json!({ "id": id })).await.data("generation").clone();
    assert_eq!(generation["status"], "CANCELLED", "{generation}");
    assert_eq!(generation["error"], "the avatar was deleted");
    assert_eq!(app.balance(&token).await, 110);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await, 1);
});

db_test!(gallery_stats_count_a_trainings_charge_and_refund_at_once, |db| async move {
    let app = spawn_app_with(db, |c| c.local.latency = Duration::from_secs(30)).await;
    let (token, avatar) = avatar_with_photos(&app, 9350, 10).await;
    let spent = || async {
        app.gql(Some(&token), "{ galleryStats { creditsSpent } }", json!({})).await.data("galleryStats")["creditsSpent"]
            .as_i64()
    };
    assert_eq!(spent().await, Some(0)); // now cached
    let start = "mutation($id: ID!) { startAvatarTraining(avatarId: $id) { status } }";
    app.gql(Some(&token), start, json!({ "id": avatar })).await.data("startAvatarTraining");
    assert_eq!(spent().await, Some(150), "the training's charge is not counted");
    let cancel = "mutation($id: ID!) { cancelAvatarTraining(avatarId: $id) { status } }";
    app.gql(Some(&token), cancel, json!({ "id": avatar })).await.data("cancelAvatarTraining");
    assert_eq!(spent().await, Some(0), "the refund is not counted");
});

db_test!(the_operator_sees_every_job_and_settles_a_stuck_one, |db| async move {
    let app = spawn_app_with(db, |c| c.local.latency = Duration::from_secs(30)).await;
    let (token, _) = app.sign_in(9360, "stuck").await;
    let id = app.create_generation(&token, json!({ "model": "local/sketch", "prompt": "stuck", "numImages": 2 })).await;
    let jobs = "{ adminJobs(first: 10) { edges { node { id generationId status cost type } } } }";
    assert_eq!(app.gql(Some(&token), jobs, json!({})).await.error_code(), "FORBIDDEN");
    let listed = app.gql(Some(ADMIN_TOKEN), jobs, json!({})).await;
    let job = listed.data("adminJobs")["edges"][0]["node"].clone();
    assert_eq!(
        (job["generationId"].as_str(), job["type"].as_str(), job["cost"].as_i64()),
        (Some(id.as_str()), Some("IMAGE"), Some(2))
    );

    let refund = "mutation($id: ID!) { adminRefundJob(id: $id) { status error } }";
    assert_eq!(app.gql(Some(&token), refund, json!({ "id": job["id"] })).await.error_code(), "FORBIDDEN");
    let settled = app.gql(Some(ADMIN_TOKEN), refund, json!({ "id": job["id"] })).await;
    assert_eq!(settled.data("adminRefundJob")["status"], "FAILED");
    assert_eq!(settled.data("adminRefundJob")["error"], "refunded by the operator");
    assert_eq!(app.balance(&token).await, 10);
    assert_eq!(app.gql(Some(ADMIN_TOKEN), refund, json!({ "id": job["id"] })).await.error_code(), "BAD_USER_INPUT");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await, 1);
});
