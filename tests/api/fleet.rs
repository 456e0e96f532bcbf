//! Many instances, one PostgreSQL, one Redis, one S3: real `aisha serve` processes (see
//! `support::fleet`) prove that what one instance does, every other sees and nobody does twice.
//! Run when `.ci/run`'s services are given; otherwise each test says so and passes.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::support::fake_fal::Mode;
use crate::support::fake_telegram::FakeUser;
use crate::support::fleet::{Fleet, created_id};
use crate::support::process::value;
use crate::support::{WEBHOOK_SECRET, eventually, eventually_within};
use crate::websocket::{Socket, next_json, subscribe_at};

const CREATE: &str = "mutation($m: String!, $p: String!) { createGeneration(input: { model: $m, prompt: $p }) { id } }";
const ME: &str = "{ me { id } }";

fn ws_url(server: &crate::support::process::Server) -> String {
    format!("{}/graphql", server.url.replacen("http://", "ws://", 1))
}

/// Reads `myGenerationUpdates` until a COMPLETED one: the (status, progress) of each.
async fn changes_until_completed(socket: &mut Socket) -> (Vec<(String, i64)>, Value) {
    let mut changes = Vec::new();
    loop {
        let message = next_json(socket).await.expect("updates until the job completes");
        let update = message["payload"]["data"]["myGenerationUpdates"].clone();
        let status = update["status"].as_str().unwrap_or_else(|| panic!("an update: {message}")).to_owned();
        changes.push((status.clone(), update["progress"].as_i64().expect("progress")));
        if status == "COMPLETED" {
            return (changes, update);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_one_instance_sees_every_change_of_a_job_another_instance_runs() {
    let Some(fleet) = Fleet::start(2, |index, env| {
        // Instance 0 runs no job: everything its subscriber sees comes from instance 1.
        if index == 0 {
            env.set("AISHA_WORKERS", "0");
        }
    })
    .await
    else {
        return;
    };
    // The fleet's provider is the fake FAL: a job long enough to show its progress.
    fleet.fal.set_latency_for("local/", Duration::from_millis(1500));
    let (a, b) = (&fleet.servers[0], &fleet.servers[1]);
    let token = fleet.sign_in(0, 7001).await;
    let query = "subscription { myGenerationUpdates { status progress images { url } } }";
    let mut on_a = subscribe_at(&ws_url(a), &token, query, json!({})).await;
    let mut on_b = subscribe_at(&ws_url(b), &token, query, json!({})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    created_id(&a.gql(Some(&token), CREATE, json!({ "m": "local/sketch", "p": "seen everywhere" })).await);
    let (seen_on_a, last) = changes_until_completed(&mut on_a).await;
    let (seen_on_b, _) = changes_until_completed(&mut on_b).await;

    assert_eq!(seen_on_a, seen_on_b, "the subscriber away from the job missed or reordered changes");
    let running: Vec<i64> = seen_on_a.iter().filter(|(s, _)| s == "RUNNING").map(|(_, p)| *p).collect();
    assert!(running.len() >= 2, "the job's progress was not followed: {seen_on_a:?}");
    assert!(running.windows(2).all(|w| w[0] <= w[1]), "progress goes forward: {seen_on_a:?}");
    // The image is in S3, and its presigned link works for a client of either instance.
    let url = last["images"][0]["url"].as_str().expect("an image link");
    let bytes = reqwest::get(url).await.expect("fetched").bytes().await.expect("bytes");
    assert_eq!(&bytes[..4], b"\x89PNG", "{url}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_generations_across_two_instances_each_run_once_and_charge_once() {
    const USERS: i64 = 50;
    const EACH: i64 = 10;
    let Some(fleet) = Fleet::start(2, |_, env| {
        env.set("AISHA_WELCOME_BONUS", "100").set("AISHA_FAL_POLL_MS", "200");
    })
    .await
    else {
        return;
    };
    let tokens = join_all((0..USERS).map(|u| fleet.sign_in(u as usize % 2, 7100 + u))).await;
    let fleet_ref = &fleet;
    join_all(tokens.iter().enumerate().map(|(u, token)| async move {
        for k in 0..EACH as usize {
            let server = &fleet_ref.servers[(u + k) % 2];
            let prompt = format!("user {u} picture {k}");
            created_id(
                &server.gql(Some(token), CREATE, json!({ "m": "fal-ai/imagen4/preview/fast", "p": prompt })).await,
            );
        }
    }))
    .await;

    let settled = || async {
        fleet_ref.scalar("SELECT COUNT(*) FROM generations WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED')").await
            == USERS * EACH
    };
    assert!(eventually_within(Duration::from_secs(180), settled).await, "not every job ended; logs:\n{}", fleet.logs());
    assert_eq!(fleet.scalar("SELECT COUNT(*) FROM generations WHERE status = 'COMPLETED'").await, USERS * EACH);
    let prompts = fleet.fal.with_submissions(|s| {
        s.iter().map(|s| s.input["prompt"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>()
    });
    let distinct: std::collections::HashSet<&String> = prompts.iter().collect();
    assert_eq!(prompts.len() as i64, USERS * EACH, "a job was submitted twice, or not at all");
    assert_eq!(distinct.len(), prompts.len(), "one prompt was submitted twice");
    assert_eq!(fleet.scalar("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'CHARGE'").await, USERS * EACH);
    assert_eq!(fleet.scalar("SELECT COUNT(*) FROM credit_reservations WHERE state = 'CAPTURED'").await, USERS * EACH);
    assert_eq!(fleet.scalar("SELECT COUNT(*) FROM images").await, USERS * EACH);
    let balances = fleet.scalar("SELECT CAST(SUM(balance) AS BIGINT) FROM users").await;
    assert_eq!(balances, USERS * 100 - USERS * EACH * 3, "the books do not balance");
    let ledger = fleet.scalar("SELECT CAST(SUM(amount) AS BIGINT) FROM ledger_entries").await;
    assert_eq!(ledger, balances, "the ledger and the balances disagree");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fal_webhook_delivered_to_both_instances_completes_the_job_once() {
    let Some(fleet) = Fleet::start(2, |_, env| {
        // Webhooks on (the base is never called: the test delivers them), polling too slow to matter.
        env.set("FAL_WEBHOOK_URL_BASE", "http://127.0.0.1:9/").set("AISHA_FAL_WEBHOOK_POLL_MS", "600000");
    })
    .await
    else {
        return;
    };
    fleet.fal.set_mode(Mode::NeverFinish);
    let token = fleet.sign_in(0, 7201).await;
    let id = created_id(
        &fleet.servers[0].gql(Some(&token), CREATE, json!({ "m": "fal-ai/imagen4/preview", "p": "hooked" })).await,
    );
    let fleet_ref = &fleet;
    let submitted = || async {
        fleet_ref.scalar("SELECT COUNT(*) FROM generations WHERE provider_request_id IS NOT NULL").await == 1
    };
    assert!(eventually(submitted).await, "the job was never submitted; logs:\n{}", fleet.logs());
    let request_id: String = value(&fleet.site.database_url, "SELECT provider_request_id FROM generations").await;
    let body = serde_json::to_vec(&fleet.fal.webhook_body(&request_id)).expect("JSON");
    let headers = fleet.fal.sign(&request_id, chrono::Utc::now().timestamp(), &body);

    let http = reqwest::Client::new();
    let deliver = |server: &crate::support::process::Server| {
        let mut request = http.post(format!("{}/webhooks/fal", server.url)).header("content-type", "application/json");
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        request.body(body.clone()).send()
    };
    let (to_a, to_b) = tokio::join!(deliver(&fleet.servers[0]), deliver(&fleet.servers[1]));
    assert_eq!(to_a.expect("sent").status(), 200);
    assert_eq!(to_b.expect("sent").status(), 200);
    let again = deliver(&fleet.servers[1]).await.expect("sent");
    assert_eq!(again.status(), 200, "a redelivery is acknowledged");

    let completed = || async {
        let answer = fleet_ref.servers[1]
            .gql(Some(&token), "query($id: ID!) { generation(id: $id) { status } }", json!({ "id": id }))
            .await;
        answer["data"]["generation"]["status"] == "COMPLETED"
    };
    assert!(eventually(completed).await, "the webhook did not complete the job; logs:\n{}", fleet.logs());
    tokio::time::sleep(Duration::from_millis(500)).await; // a second completion would be done by now
    assert_eq!(fleet.scalar("SELECT COUNT(*) FROM images").await, 1);
    assert_eq!(fleet.scalar("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'CHARGE'").await, 1);
    assert_eq!(fleet.fal.file_fetches(), 1, "the result was fetched more than once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_updates_of_a_chat_delivered_alternately_to_two_instances_are_handled_in_order_and_once() {
    let Some(fleet) = Fleet::start(2, |_, _| {}).await else { return };
    let commands = ["/help", "/balance", "/language"];
    let expected = ["/paysupport", "Balance:", "Choose a language"];
    let chats: Vec<i64> = (0..6).map(|n| 7300 + n).collect();
    let fleet_ref = &fleet;
    join_all(chats.iter().enumerate().map(|(c, &chat)| async move {
        let to =
            [&fleet_ref.servers[0], &fleet_ref.servers[1]].map(|s| FakeUser::new(&s.url, WEBHOOK_SECRET, chat, "en"));
        for n in 0..12 {
            let user = &to[n % 2];
            let update = user.message(json!({ "text": commands[n % 3] }));
            assert_eq!(user.redeliver(700_000 + (c * 100 + n) as i64, update).await, 200);
        }
    }))
    .await;

    let telegram = &fleet.telegram;
    let replies = |chat: i64| -> Vec<String> {
        telegram
            .calls_to("sendMessage")
            .into_iter()
            .filter(|c| c.params["chat_id"] == chat)
            .map(|c| c.params["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let all_answered = || async { chats.iter().all(|&chat| replies(chat).len() >= 12) };
    assert!(eventually_within(Duration::from_secs(30), all_answered).await, "logs:\n{}", fleet.logs());
    tokio::time::sleep(Duration::from_millis(500)).await; // a second handling would have answered by now
    for &chat in &chats {
        let said = replies(chat);
        assert_eq!(said.len(), 12, "chat {chat}: each update once: {said:#?}");
        for (n, text) in said.iter().enumerate() {
            assert!(text.contains(expected[n % 3]), "chat {chat}: reply {n} out of order: {said:#?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_out_on_one_instance_is_refused_by_the_next_request_on_another() {
    let Some(fleet) = Fleet::start(2, |_, _| {}).await else { return };
    let (a, b) = (&fleet.servers[0], &fleet.servers[1]);
    for round in 0..20 {
        let token = fleet.sign_in(0, 7400 + round).await;
        // Both instances have resolved (and cached) the token.
        assert!(a.gql(Some(&token), ME, json!({})).await["data"]["me"]["id"].is_string());
        assert!(b.gql(Some(&token), ME, json!({})).await["data"]["me"]["id"].is_string());
        assert_eq!(a.gql(Some(&token), "mutation { signOut }", json!({})).await["data"]["signOut"], true);
        // No waiting: the very next request on the other instance is refused.
        let refused = b.gql(Some(&token), ME, json!({})).await;
        assert_eq!(refused["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "round {round}: {refused}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_one_budget_across_instances() {
    let Some(fleet) = Fleet::start(2, |_, env| {
        env.set("AISHA_RATE_LIMITS", "read=10/600,write=1000/60,paid=1000/60,sign_in=1000/60");
    })
    .await
    else {
        return;
    };
    let token = fleet.sign_in(0, 7501).await;
    let mut allowed = 0;
    for n in 0..16 {
        let answer = fleet.servers[n % 2].gql(Some(&token), ME, json!({})).await;
        if answer["data"]["me"]["id"].is_string() {
            allowed += 1;
        } else {
            assert_eq!(answer["errors"][0]["extensions"]["code"], "RATE_LIMITED", "{answer}");
        }
    }
    assert_eq!(allowed, 10, "the budget of 10 reads was not shared by both instances");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gallery_stats_cached_on_one_instance_change_at_once_with_a_charge_on_another() {
    let Some(fleet) = Fleet::start(2, |_, _| {}).await else {
        return;
    };
    // The fleet's provider is the fake FAL: the job must still be running when it is cancelled.
    fleet.fal.set_mode(Mode::NeverFinish);
    let (a, b) = (&fleet.servers[0], &fleet.servers[1]);
    let token = fleet.sign_in(0, 7601).await;
    let spent = || async {
        a.gql(Some(&token), "{ galleryStats { creditsSpent } }", json!({})).await["data"]["galleryStats"]["creditsSpent"]
            .as_i64()
    };
    assert_eq!(spent().await, Some(0)); // now cached
    let id = created_id(&b.gql(Some(&token), CREATE, json!({ "m": "local/sketch", "p": "counted" })).await);
    let cost = fleet.scalar("SELECT CAST(SUM(-amount) AS BIGINT) FROM ledger_entries WHERE kind = 'CHARGE'").await;
    assert!(cost > 0, "the generation was not charged");
    assert_eq!(spent().await, Some(cost), "instance A still shows its cached stats");
    let cancel = "mutation($id: ID!) { cancelGeneration(id: $id) { status } }";
    let cancelled = b.gql(Some(&token), cancel, json!({ "id": id })).await;
    assert_eq!(cancelled["data"]["cancelGeneration"]["status"], "CANCELLED", "{cancelled}");
    assert_eq!(spent().await, Some(0), "the refund on B is not counted on A");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_of_an_instance_killed_mid_job_are_finished_once_by_another_after_the_lease() {
    let Some(mut fleet) = Fleet::start(1, |_, env| {
        env.set("AISHA_JOB_LEASE_SECS", "3").set("AISHA_WELCOME_BONUS", "100");
    })
    .await
    else {
        return;
    };
    // FAL takes its time and answers status requests slowly: the first instance is in the
    // middle of a poll of every job, holding its claim, when it dies.
    fleet.fal.set_mode(Mode::NeverFinish);
    fleet.fal.slow_status(Duration::from_secs(30));
    let tokens = join_all((0..3).map(|u| fleet.sign_in(0, 7700 + u))).await;
    for (u, token) in tokens.iter().enumerate() {
        for k in 0..4 {
            let prompt = format!("user {u} picture {k}");
            created_id(
                &fleet.servers[0].gql(Some(token), CREATE, json!({ "m": "fal-ai/imagen4/preview", "p": prompt })).await,
            );
        }
    }
    let fleet_ref = &fleet;
    let held = || async {
        fleet_ref
            .scalar("SELECT COUNT(*) FROM generations WHERE claimed_by IS NOT NULL AND provider_request_id IS NOT NULL")
            .await
            == 12
    };
    assert!(eventually(held).await, "the first instance never held every job; logs:\n{}", fleet.logs());
    let mut second = fleet.env();
    second.set("AISHA_JOB_LEASE_SECS", "3").set("AISHA_WELCOME_BONUS", "100");
    fleet.start_instance(1, &second).await;
    fleet.servers.remove(0).kill().await;
    fleet.fal.slow_status(Duration::ZERO);
    fleet.fal.set_mode(Mode::Succeed);

    let fleet_ref = &fleet;
    let completed =
        || async { fleet_ref.scalar("SELECT COUNT(*) FROM generations WHERE status = 'COMPLETED'").await == 12 };
    assert!(
        eventually_within(Duration::from_secs(60), completed).await,
        "the jobs of the killed instance were not finished; logs:\n{}",
        fleet.logs()
    );
    assert_eq!(fleet.fal.submissions(), 12, "a job was submitted again");
    assert_eq!(fleet.scalar("SELECT COUNT(*) FROM images").await, 12);
    assert_eq!(fleet.scalar("SELECT COUNT(*) FROM credit_reservations WHERE state = 'CAPTURED'").await, 12);
    assert_eq!(fleet.scalar("SELECT CAST(SUM(balance) AS BIGINT) FROM users").await, 3 * 100 - 12 * 5);
}
