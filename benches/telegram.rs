//! Telegram webhook benchmark: 1,000 updates per second for 10 s POSTed to `/telegram/webhook`
//! of a release server (started here), open loop, from 1,000 users. Prints the acknowledgement
//! latencies, then waits until the server has processed every update and checks that each was
//! processed exactly once (the server's counters and the replies the fake Telegram received),
//! and that 500 redelivered updates were dropped.
//!
//! Usage: `telegram <path to aisha> <port>` with the database in `DATABASE_URL` (see
//! `bench/telegram.sh`).

#[path = "support/proc.rs"]
mod proc;

#[path = "../tests/support/fake_telegram.rs"]
#[allow(dead_code)]
mod fake_telegram;

use std::{
    process::Stdio,
    sync::Arc,
    time::{Duration, Instant},
};

use fake_telegram::FakeTelegram;
use serde_json::{Value, json};
use tokio::sync::Mutex;

const TOKEN: &str = "123456:BENCH-token";
const SECRET: &str = "bench-secret";
const RATE: u64 = 1000;
const SECONDS: u64 = 10;
const USERS: u64 = 1000;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (binary, port) = match args.as_slice() {
        [_, binary, port, ..] => (binary.clone(), port.clone()),
        _ => {
            eprintln!("usage: telegram <path to aisha> <port>");
            std::process::exit(2);
        }
    };
    let fake = FakeTelegram::start(TOKEN).await;
    let base = format!("http://127.0.0.1:{port}");
    let mut server = tokio::process::Command::new(&binary)
        .arg("serve")
        .env("AISHA_BIND", format!("127.0.0.1:{port}"))
        // Thousands of users from one address: budgets no bench reaches.
        .env("AISHA_RATE_LIMITS", "read=100000000/1,write=100000000/1,paid=100000000/1,sign_in=100000000/1")
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_WEBHOOK_SECRET", SECRET)
        .env("TELEGRAM_API_URL", &fake.url)
        // The fake is not Telegram: replies are not held to 30/s, so that the run measures us.
        .env("AISHA_TELEGRAM_CHAT_RATE", "1000")
        .env("AISHA_TELEGRAM_GLOBAL_RATE", "100000")
        .stdout(Stdio::null())
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
    let (cpu_before, sql_before) = (proc::cpu_ticks(pid), metric(&http, &base, "aisha_sql_statements_total ").await);

    let total = RATE * SECONDS;
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for n in 0..total {
        ticker.tick().await;
        let (http, url, latencies) = (http.clone(), format!("{base}/telegram/webhook"), latencies.clone());
        tasks.push(tokio::spawn(async move {
            let update = update(n);
            let sent = Instant::now();
            let status = post(&http, &url, &update).await;
            latencies.lock().await.push((sent.elapsed(), status));
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let sending = started.elapsed();
    // Redeliveries of 500 updates already processed: acknowledged and dropped.
    for n in 0..500 {
        post(&http, &format!("{base}/telegram/webhook"), &update(n)).await;
    }

    let mut results = latencies.lock().await.clone();
    let failures = results.iter().filter(|(_, status)| *status != 200).count();
    results.sort();
    let pick = |q: f64| results[((results.len() as f64 * q) as usize).min(results.len() - 1)].0;
    println!(
        "sent {total} updates in {:.2} s ({:.0}/s), {failures} not acknowledged with 200",
        sending.as_secs_f64(),
        total as f64 / sending.as_secs_f64()
    );
    println!(
        "acknowledgement: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(pick(0.50)),
        ms(pick(0.99)),
        ms(results.last().map(|r| r.0).unwrap_or_default())
    );

    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline && counter(&http, &base, "processed").await < total {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let drained = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let processed_after = counter(&http, &base, "processed").await;
    let duplicates = counter(&http, &base, "duplicate").await;
    let replies = fake.calls_to("sendMessage").len();
    println!(
        "processed {processed_after} of {total} (all by {:.1} s after the first update), duplicates dropped {duplicates}, replies sent {replies}",
        drained.as_secs_f64()
    );
    println!("exactly once: {}", processed_after == total && replies as u64 == total && duplicates == 500);
    let cpu = proc::cpu_ticks(pid).saturating_sub(cpu_before) as f64 / 100.0;
    let sql = metric(&http, &base, "aisha_sql_statements_total ").await.saturating_sub(sql_before);
    let handled = (total + 500) as f64;
    println!(
        "server CPU {:.2} s: {:.0} µs per update (acknowledged and handled); SQL statements {:.1} per update",
        cpu,
        cpu * 1e6 / handled,
        sql as f64 / handled
    );
    println!("server RSS: {:.1} MB", proc::rss_mb(pid));
    let _ = server.kill().await;
}

/// Update `n`: user `n % USERS` says /start, /help or /balance.
fn update(n: u64) -> Value {
    let user = 100_000 + n % USERS;
    let text = ["/start", "/help", "/balance"][(n / USERS % 3) as usize];
    json!({
        "update_id": n + 1,
        "message": {
            "message_id": n + 1,
            "date": 1_790_000_000,
            "chat": { "id": user, "type": "private", "first_name": "Bench" },
            "from": { "id": user, "is_bot": false, "first_name": "Bench", "language_code": "en" },
            "text": text
        }
    })
}

async fn post(http: &reqwest::Client, url: &str, update: &Value) -> u16 {
    match http.post(url).header("X-Telegram-Bot-Api-Secret-Token", SECRET).json(update).send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

async fn counter(http: &reqwest::Client, base: &str, outcome: &str) -> u64 {
    metric(http, base, &format!("aisha_telegram_updates_total{{outcome=\"{outcome}\"}} ")).await
}

/// A counter from `/metrics`, by the start of its line.
async fn metric(http: &reqwest::Client, base: &str, prefix: &str) -> u64 {
    let Ok(response) = http.get(format!("{base}/metrics")).send().await else { return 0 };
    let text = response.text().await.unwrap_or_default();
    text.lines().find_map(|l| l.strip_prefix(prefix)).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
