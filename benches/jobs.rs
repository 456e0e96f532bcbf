//! Job engine benchmark: one release server on PostgreSQL follows 2,000 concurrent FAL jobs
//! (a fake FAL queue on 127.0.0.1 with 10 s latency; polling, no webhooks) from 500 users (four
//! each, the per-user cap) to completion. Prints how long submitting and completing took,
//! jobs/s, the server's CPU time per job, its RSS, and the fake FAL's request counts.
//!
//! Usage: `jobs <path to aisha> <port>` with the database in `DATABASE_URL` (see
//! `bench/jobs.sh`).

#[path = "support/proc.rs"]
mod proc;

#[path = "../tests/support/fake_fal.rs"]
#[allow(dead_code)]
mod fake_fal;

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use fake_fal::{FakeFal, Mode};
use futures_util::{StreamExt, stream};
use sea_orm::ConnectionTrait;
use serde_json::json;
use sha2::{Digest, Sha256};

/// `BENCH_USERS` changes it (for a quick run).
fn users_count() -> usize {
    std::env::var("BENCH_USERS").ok().and_then(|v| v.parse().ok()).unwrap_or(500)
}
const PER_USER: usize = 4;
const LATENCY: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (binary, port) = match args.as_slice() {
        [_, binary, port, ..] => (binary.clone(), port.clone()),
        _ => {
            eprintln!("usage: jobs <path to aisha> <port>");
            std::process::exit(2);
        }
    };
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let fal = FakeFal::start(Mode::Succeed, LATENCY).await;
    let base = format!("http://127.0.0.1:{port}");
    let mut server = tokio::process::Command::new(&binary)
        .arg("serve")
        .env("AISHA_BIND", format!("127.0.0.1:{port}"))
        // Thousands of users from one address: budgets no bench reaches.
        .env("AISHA_RATE_LIMITS", "read=100000000/1,write=100000000/1,paid=100000000/1,sign_in=100000000/1")
        .env("FAL_KEY", "bench-fal-key")
        .env("FAL_QUEUE_URL", format!("{}/", fal.url))
        .env("AISHA_FAL_POLL_MS", "1000")
        .stdout(match std::env::var("BENCH_SERVER_LOG") {
            Ok(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
            Err(_) => Stdio::null(),
        })
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("client");
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = server.id().unwrap_or_default();
    let db = aisha::adapters::db::connect(&database_url).await.expect("the bench reaches the database");
    let tokens = users(&db).await;

    let cpu_before = proc::cpu_ticks(pid);
    let started = Instant::now();
    let created = stream::iter((0..users_count() * PER_USER).map(|n| {
        let (http, url, token) = (http.clone(), format!("{base}/graphql"), tokens[n % tokens.len()].clone());
        async move {
            let query = "mutation($p: String!) { createGeneration(input: { model: \"fal-ai/imagen4/preview/fast\", prompt: $p }) { id } }";
            let body = json!({ "query": query, "variables": { "p": format!("bench {n}") } });
            let response = http.post(url).bearer_auth(token).json(&body).send().await;
            response.is_ok_and(|r| r.status().is_success())
        }
    }))
    .buffer_unordered(64)
    .filter(|ok| std::future::ready(*ok))
    .count()
    .await;
    let accepted = started.elapsed();
    let mut peak_rss = 0.0f64;
    let mut all_submitted = None;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        peak_rss = peak_rss.max(proc::rss_mb(pid));
        if all_submitted.is_none() && fal.submissions() >= created {
            all_submitted = Some(started.elapsed());
        }
        let done = count(&db, "SELECT COUNT(*) FROM generations WHERE status IN ('COMPLETED', 'FAILED')").await;
        if done as usize >= created || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let finished = started.elapsed();
    let cpu = proc::cpu_ticks(pid).saturating_sub(cpu_before) as f64 / ticks_per_second();
    let completed = count(&db, "SELECT COUNT(*) FROM generations WHERE status = 'COMPLETED'").await;
    let failed = count(&db, "SELECT COUNT(*) FROM generations WHERE status = 'FAILED'").await;
    let submissions = fal.submissions();
    println!("{created} jobs from {} users accepted in {:.2} s", users_count(), accepted.as_secs_f64());
    println!(
        "all submitted to FAL after {:.2} s ({submissions} submissions)",
        all_submitted.unwrap_or(finished).as_secs_f64()
    );
    println!(
        "completed {completed}, failed {failed}, in {:.2} s with {:.0} s of provider latency: {:.0} jobs/s",
        finished.as_secs_f64(),
        LATENCY.as_secs_f64(),
        completed as f64 / finished.as_secs_f64()
    );
    println!(
        "server CPU {:.2} s in all, {:.2} ms per job; RSS peak {peak_rss:.1} MB",
        cpu,
        cpu * 1000.0 / created.max(1) as f64
    );
    let _ = server.kill().await;
}

/// 500 users with credits and a bearer token each, straight into the database.
async fn users(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    let mut tokens = Vec::with_capacity(users_count());
    for n in 0..users_count() {
        let sql = format!(
            "INSERT INTO users (username, balance, created_at, updated_at) VALUES ('bench{n}', 100000, 0, 0) RETURNING id"
        );
        let row = db.query_one_raw(aisha::adapters::db::statement(db, &sql, [])).await.expect("insert").expect("row");
        let id: i64 = row.try_get_by_index(0).expect("id");
        let token = format!("aisha_bench_{n}_{:016x}", rand::random::<u64>());
        let hash = hex::encode(Sha256::digest(token.as_bytes()));
        let sql = "INSERT INTO auth_tokens (user_id, token_hash, created_at) VALUES ($1, $2, 0)";
        db.execute_raw(aisha::adapters::db::statement(db, sql, [id.into(), hash.into()])).await.expect("token");
        tokens.push(token);
    }
    tokens
}

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one_raw(aisha::adapters::db::statement(db, sql, [])).await.expect("count").expect("row");
    row.try_get_by_index(0).expect("a number")
}

fn ticks_per_second() -> f64 {
    100.0
}
