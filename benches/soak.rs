//! Soak: two release instances on one PostgreSQL (`DATABASE_URL`), one Redis (`REDIS_URL`) and,
//! when `S3_ENDPOINT` is set, one S3 (a shared data folder otherwise), for some minutes under a
//! mixed load: gallery reads, generations through a fake FAL queue, Telegram updates to a fake
//! Bot API, and subscribers on both instances, every kind of request alternating between the
//! two. Every 15 s it samples each instance's RSS and database connections. Then it stops the
//! load, waits for the work to drain and checks the books: every job ended, each submitted to
//! FAL once, the ledger's sum equals the balances, every update handled once. Prints the
//! figures; exits 1 if anything was lost.
//!
//! Usage: `soak <path to aisha> <minutes>` (see `bench/soak.sh`, which sets up the services).

#[path = "../tests/support/fake_fal.rs"]
#[allow(dead_code)]
mod fake_fal;
#[path = "../tests/support/fake_telegram.rs"]
#[allow(dead_code)]
mod fake_telegram;
#[path = "support/proc.rs"]
mod proc;

use std::{
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use fake_fal::{FakeFal, Mode};
use fake_telegram::FakeTelegram;
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const BOT_TOKEN: &str = "123456:SOAK-token";
const SECRET: &str = "soak-secret";
/// Users of the API (signed in by `aisha token`), and senders of bot updates.
const API_USERS: i64 = 40;
const BOT_USERS: i64 = 30;
const SUBSCRIBERS: usize = 20;
const MODEL: &str = "fal-ai/imagen4/preview/fast";

/// What the load did, by kind: requests answered without errors, and the rest.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
}

impl Tally {
    fn count(&self, ok: bool) {
        if ok { &self.ok } else { &self.failed }.fetch_add(1, Relaxed);
    }

    fn show(&self) -> String {
        format!("{} ok, {} failed", self.ok.load(Relaxed), self.failed.load(Relaxed))
    }
}

struct Instance {
    url: String,
    process: Child,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (binary, minutes) = match args.as_slice() {
        [_, binary, minutes, ..] => (binary.clone(), minutes.parse::<f64>().unwrap_or(5.0)),
        _ => {
            eprintln!("usage: soak <path to aisha> <minutes>");
            std::process::exit(2);
        }
    };
    let database_url = std::env::var("DATABASE_URL").expect("DATABASE_URL (PostgreSQL)");
    let db = Database::connect(&database_url).await.expect("the database");
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(800)).await;
    let telegram = FakeTelegram::start(BOT_TOKEN).await;
    let env = environment(&fal, &telegram);

    let first = start(&binary, &env, "a", 18291).await;
    let second = start(&binary, &env, "b", 18292).await;
    let instances = Arc::new([first.url.clone(), second.url.clone()]);
    let pids = [first.process.id().unwrap_or_default(), second.process.id().unwrap_or_default()];
    let mut tokens = Vec::new();
    for n in 0..API_USERS {
        let telegram_id = 500_000 + n;
        tokens.push(cli(&binary, &env, &["token", "--telegram-id", &telegram_id.to_string()]).await);
        cli(&binary, &env, &["grant", "--telegram-id", &telegram_id.to_string(), "--credits", "1000000"]).await;
    }
    let tokens = Arc::new(tokens);
    let http = reqwest::Client::builder().pool_max_idle_per_host(32).build().expect("client");
    println!(
        "soak: 2 instances, {minutes} min; {API_USERS} API users, {BOT_USERS} bot users, {SUBSCRIBERS} subscribers"
    );

    let running = Arc::new(AtomicBool::new(true));
    let (generations, gallery, updates, events) = (
        Arc::new(Tally::default()),
        Arc::new(Tally::default()),
        Arc::new(Tally::default()),
        Arc::new(AtomicU64::new(0)),
    );
    let mut load = Vec::new();
    for n in 0..SUBSCRIBERS {
        let (url, token) = (instances[n % 2].clone(), tokens[n % tokens.len()].clone());
        load.push(tokio::spawn(subscriber(url, token, running.clone(), events.clone())));
    }
    load.push(tokio::spawn(create_generations(
        http.clone(),
        instances.clone(),
        tokens.clone(),
        running.clone(),
        generations.clone(),
    )));
    for reader in 0..4 {
        load.push(tokio::spawn(read_gallery(
            http.clone(),
            instances.clone(),
            tokens.clone(),
            reader,
            running.clone(),
            gallery.clone(),
        )));
    }
    load.push(tokio::spawn(send_updates(http.clone(), instances.clone(), running.clone(), updates.clone())));

    let started = Instant::now();
    let duration = Duration::from_secs_f64(minutes * 60.0);
    println!(
        "{:>7}  {:>9} {:>9}  {:>11} {:>11}  {:>6} {:>8} {:>8}",
        "t", "RSS a", "RSS b", "conns a", "conns b", "pg", "gens", "updates"
    );
    let mut samples = Vec::new();
    loop {
        let sample = sample(&http, &instances, pids, &db).await;
        println!(
            "{:>6.0}s  {:>7.1}MB {:>7.1}MB  {:>11} {:>11}  {:>6} {:>8} {:>8}",
            started.elapsed().as_secs_f64(),
            sample.rss_mb[0],
            sample.rss_mb[1],
            sample.connections[0],
            sample.connections[1],
            sample.postgres,
            generations.ok.load(Relaxed),
            updates.ok.load(Relaxed)
        );
        samples.push(sample);
        if started.elapsed() >= duration {
            break;
        }
        tokio::time::sleep(Duration::from_secs(15).min(duration.saturating_sub(started.elapsed()))).await;
    }
    running.store(false, Relaxed);
    for task in load {
        let _ = task.await;
    }
    let loaded = started.elapsed();

    // Drain: every job ends and every update is handled.
    let sent_updates = updates.ok.load(Relaxed);
    let drain_started = Instant::now();
    let active = "SELECT COUNT(*) FROM generations WHERE status IN ('PENDING', 'QUEUED', 'RUNNING')";
    while drain_started.elapsed() < Duration::from_secs(180) {
        let processed = processed(&http, &instances).await;
        if scalar(&db, active).await == 0 && processed >= sent_updates {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let drained = drain_started.elapsed();
    let last = sample(&http, &instances, pids, &db).await;

    let jobs = scalar(&db, "SELECT COUNT(*) FROM generations").await;
    let unfinished = scalar(&db, active).await;
    let completed = scalar(&db, "SELECT COUNT(*) FROM generations WHERE status = 'COMPLETED'").await;
    let failed = scalar(&db, "SELECT COUNT(*) FROM generations WHERE status = 'FAILED'").await;
    let charges = scalar(&db, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'CHARGE'").await;
    let refunds = scalar(&db, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFUND'").await;
    let ledger = scalar(&db, "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries").await;
    let balances = scalar(&db, "SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM users").await;
    let unhandled = scalar(&db, "SELECT COUNT(*) FROM telegram_updates WHERE status <> 'DONE'").await;
    let stored_updates = scalar(&db, "SELECT COUNT(*) FROM telegram_updates").await;
    let processed = processed(&http, &instances).await;
    let submissions = fal.submissions() as i64;
    let replies = telegram.calls_to("sendMessage").len() as u64;

    println!();
    println!("load: {:.0} s, then drained in {:.1} s", loaded.as_secs_f64(), drained.as_secs_f64());
    println!("  generations created: {}", generations.show());
    println!("  gallery pages read:  {}", gallery.show());
    println!("  bot updates sent:    {}", updates.show());
    println!("  subscription events: {}", events.load(Relaxed));
    let first_sample = &samples[0];
    println!(
        "RSS a {:.1} → {:.1} MB, b {:.1} → {:.1} MB; connections a {} → {}, b {} → {}; PostgreSQL sessions {} → {}",
        first_sample.rss_mb[0],
        last.rss_mb[0],
        first_sample.rss_mb[1],
        last.rss_mb[1],
        first_sample.connections[0],
        last.connections[0],
        first_sample.connections[1],
        last.connections[1],
        first_sample.postgres,
        last.postgres
    );
    println!(
        "books: {jobs} jobs ({completed} completed, {failed} failed, {unfinished} unfinished), {submissions} FAL submissions, \
         {charges} charges, {refunds} refunds; ledger {ledger} = balances {balances}: {}",
        ledger == balances
    );
    println!(
        "updates: {sent_updates} acknowledged, {stored_updates} in the inbox, {processed} handled, {unhandled} unhandled, {replies} replies"
    );
    let lost = [
        (unfinished != 0, "jobs did not end"),
        (submissions != jobs, "a job was submitted to FAL other than once"),
        (charges != completed, "charges differ from completed jobs"),
        (refunds != failed, "refunds differ from failed jobs"),
        (ledger != balances, "the ledger and the balances differ"),
        (
            unhandled != 0 || processed != sent_updates || stored_updates as u64 != sent_updates,
            "an update was lost or handled twice",
        ),
        (replies < sent_updates, "an update got no reply"),
        (generations.ok.load(Relaxed) as i64 != jobs, "a created generation has no row, or a row no creation"),
    ];
    let problems: Vec<&str> = lost.iter().filter(|(bad, _)| *bad).map(|(_, what)| *what).collect();
    println!("lost: {}", if problems.is_empty() { "nothing".to_owned() } else { problems.join("; ") });
    for mut instance in [first, second] {
        let _ = instance.process.kill().await;
    }
    std::process::exit(if problems.is_empty() { 0 } else { 1 });
}

/// What both instances share: the services of the environment, the fakes, fast polling.
fn environment(fal: &FakeFal, telegram: &FakeTelegram) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("TELEGRAM_BOT_TOKEN", BOT_TOKEN.to_owned()),
        ("TELEGRAM_WEBHOOK_SECRET", SECRET.to_owned()),
        ("TELEGRAM_API_URL", telegram.url.clone()),
        ("AISHA_TELEGRAM_CHAT_RATE", "1000".to_owned()),
        ("AISHA_TELEGRAM_GLOBAL_RATE", "100000".to_owned()),
        ("FAL_KEY", "soak-fal-key".to_owned()),
        ("FAL_QUEUE_URL", format!("{}/", fal.url)),
        ("FAL_JWKS_URL", fal.jwks_url()),
        ("AISHA_FAL_POLL_MS", "200".to_owned()),
        ("AISHA_ALLOW_PRIVATE_DOWNLOADS", "true".to_owned()),
        ("AISHA_RATE_LIMITS", "read=100000000/1,write=100000000/1,paid=100000000/1,sign_in=100000000/1".to_owned()),
        ("AISHA_REDIS_PREFIX", format!("soak-{}", std::process::id())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if std::env::var("REDIS_URL").is_err() {
        eprintln!(
            "REDIS_URL is not set: the instances share no cache or bus, and subscribers miss other instances' events"
        );
    }
    env.push(("RUST_LOG".into(), std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into())));
    env
}

async fn start(binary: &str, env: &[(String, String)], name: &str, port: u16) -> Instance {
    let log_dir = std::env::var("AISHA_SOAK_LOGS").unwrap_or_else(|_| std::env::temp_dir().display().to_string());
    let log = std::fs::File::create(format!("{log_dir}/soak-{name}.log")).expect("a log file");
    let process = Command::new(binary)
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AISHA_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if reqwest::get(format!("{url}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            return Instance { url, process };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("instance {name} did not come up; see {log_dir}/soak-{name}.log");
}

/// Runs an `aisha` command with the instances' environment; its output.
async fn cli(binary: &str, env: &[(String, String)], args: &[&str]) -> String {
    let output = Command::new(binary)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .await
        .expect("aisha runs");
    assert!(output.status.success(), "aisha {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

async fn graphql(http: &reqwest::Client, url: &str, token: &str, query: &str, variables: Value) -> Option<Value> {
    let response = http
        .post(format!("{url}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .ok()?;
    let body: Value = response.json().await.ok()?;
    body.get("errors").is_none().then_some(body)
}

/// Four generations a second, users in turn, instances alternating.
async fn create_generations(
    http: reqwest::Client,
    instances: Arc<[String; 2]>,
    tokens: Arc<Vec<String>>,
    running: Arc<AtomicBool>,
    tally: Arc<Tally>,
) {
    let query = "mutation($input: CreateGenerationInput!) { createGeneration(input: $input) { id } }";
    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    let mut n = 0usize;
    while running.load(Relaxed) {
        ticker.tick().await;
        let input = json!({ "input": { "model": MODEL, "prompt": format!("soak {n}"), "numImages": 1 } });
        let created = graphql(&http, &instances[n % 2], &tokens[n % tokens.len()], query, input).await;
        tally.count(created.is_some());
        n += 1;
    }
}

/// Gallery pages as fast as one reader goes, a short pause between them.
async fn read_gallery(
    http: reqwest::Client,
    instances: Arc<[String; 2]>,
    tokens: Arc<Vec<String>>,
    reader: usize,
    running: Arc<AtomicBool>,
    tally: Arc<Tally>,
) {
    let query = "{ gallery(first: 20) { edges { node { id url width height } } pageInfo { hasNextPage } } galleryStats { total } }";
    let mut n = reader;
    while running.load(Relaxed) {
        let read = graphql(&http, &instances[n % 2], &tokens[n % tokens.len()], query, json!({})).await;
        tally.count(read.is_some());
        n += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Ten updates a second from the bot's users, instances alternating.
async fn send_updates(http: reqwest::Client, instances: Arc<[String; 2]>, running: Arc<AtomicBool>, tally: Arc<Tally>) {
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    let mut n: i64 = 0;
    while running.load(Relaxed) {
        ticker.tick().await;
        let user = 900_000 + n % BOT_USERS;
        let text = ["/start", "/balance", "/help"][(n / BOT_USERS % 3) as usize];
        let update = json!({
            "update_id": n + 1,
            "message": {
                "message_id": n + 1,
                "date": 1_790_000_000,
                "chat": { "id": user, "type": "private", "first_name": "Soak" },
                "from": { "id": user, "is_bot": false, "first_name": "Soak", "language_code": "en" },
                "text": text
            }
        });
        let sent = http
            .post(format!("{}/telegram/webhook", instances[(n % 2) as usize]))
            .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
            .json(&update)
            .send()
            .await;
        tally.count(sent.is_ok_and(|r| r.status().is_success()));
        n += 1;
    }
}

/// A `graphql-transport-ws` subscriber of its user's generations, counting what it receives.
async fn subscriber(url: String, token: String, running: Arc<AtomicBool>, events: Arc<AtomicU64>) {
    let mut request = url.replacen("http", "ws", 1).to_string();
    request.push_str("/graphql");
    let mut request = request.into_client_request().expect("a request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(request).await else {
        eprintln!("a subscriber could not connect");
        return;
    };
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { myGenerationUpdates { id status } }" } });
    for message in [init, subscribe] {
        if socket.send(Message::text(message.to_string())).await.is_err() {
            return;
        }
    }
    while running.load(Relaxed) {
        match tokio::time::timeout(Duration::from_millis(500), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let message: Value = serde_json::from_str(&text).unwrap_or_default();
                match message["type"].as_str() {
                    Some("next") => {
                        events.fetch_add(1, Relaxed);
                    }
                    // The protocol's keep-alive: a subscriber that does not answer is closed.
                    Some("ping") => {
                        let _ = socket.send(Message::text(json!({ "type": "pong" }).to_string())).await;
                    }
                    _ => {}
                }
            }
            Ok(Some(Ok(Message::Ping(payload)))) => {
                let _ = socket.send(Message::Pong(payload)).await;
            }
            Ok(None | Some(Err(_))) => {
                eprintln!("a subscriber's socket ended");
                return;
            }
            _ => {}
        }
    }
    let _ = socket.close(None).await;
}

struct Sample {
    rss_mb: [f64; 2],
    /// `aisha_db_connections` of each instance, in use + idle.
    connections: [u64; 2],
    /// Sessions PostgreSQL has open on this database.
    postgres: i64,
}

async fn sample(http: &reqwest::Client, instances: &[String; 2], pids: [u32; 2], db: &DatabaseConnection) -> Sample {
    let mut connections = [0; 2];
    for (i, url) in instances.iter().enumerate() {
        connections[i] = sum_of(http, url, "aisha_db_connections{").await;
    }
    let postgres = scalar(db, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()").await;
    Sample { rss_mb: [proc::rss_mb(pids[0]), proc::rss_mb(pids[1])], connections, postgres }
}

/// Telegram updates both instances handled to the end.
async fn processed(http: &reqwest::Client, instances: &[String; 2]) -> u64 {
    let mut total = 0;
    for url in instances {
        total += sum_of(http, url, "aisha_telegram_updates_total{outcome=\"processed\"}").await;
    }
    total
}

/// The sum of the series of `/metrics` whose lines start with `prefix`.
async fn sum_of(http: &reqwest::Client, url: &str, prefix: &str) -> u64 {
    let Ok(response) = http.get(format!("{url}/metrics")).send().await else { return 0 };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let statement = Statement::from_string(db.get_database_backend(), sql);
    match db.query_one_raw(statement).await {
        Ok(Some(row)) => row.try_get_by_index(0).unwrap_or(-1),
        _ => -1,
    }
}
