//! Test support: `spawn_app` starts the real server on 127.0.0.1:0 with a fresh database
//! (a SQLite file, or a PostgreSQL schema of its own when `AISHA_TEST_DATABASE_URL` is set),
//! and helpers speak GraphQL to it over real HTTP and WebSocket connections.

#![allow(dead_code)]

pub mod bot;
pub mod fake_fal;
pub mod fake_telegram;
pub mod fleet;
pub mod graphql;
pub mod postgres;
pub mod process;
pub mod seed;

use std::{net::SocketAddr, time::Duration};

use aisha::{app::AppState, config::Config, domain::auth::sign_telegram_data};
use serde_json::{Value, json};

pub const BOT_TOKEN: &str = "123456:TEST-bot-token";
pub const WEBHOOK_SECRET: &str = "test-webhook-secret";
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per database: always on SQLite, and on PostgreSQL when
/// `AISHA_TEST_DATABASE_URL` is set (otherwise that variant says so and passes).
#[macro_export]
macro_rules! db_test {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::support::Db::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::support::postgres::available() {
                    eprintln!("AISHA_TEST_DATABASE_URL is not set: PostgreSQL variant not run");
                    return;
                }
                ($body)($crate::support::Db::Postgres).await
            }
        }
    };
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub url: String,
    pub app: AppState,
    pub http: reqwest::Client,
    /// Taken by [`TestApp::kill`], for the app started after it.
    place: Option<Place>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    background: Option<aisha::app::Background>,
    /// Set by a test that leaves jobs running on purpose ([`TestApp::leaves_jobs_running`]).
    jobs_may_run_on: std::sync::atomic::AtomicBool,
}

/// Where an app keeps its data: handed from a killed app to the one started after it.
pub struct Place {
    data_dir: tempfile::TempDir,
    database: Option<postgres::TestSchema>,
    database_url: String,
}

/// A configuration for tests: nothing external, a bot token for sign-in, an admin token.
pub const GENEROUS_RATE_LIMITS: &str = "read=100000/60,write=100000/60,paid=100000/60,sign_in=100000/60";

pub fn test_config(data_dir: &std::path::Path) -> Config {
    let mut config = Config::from_lookup(|_| None).expect("the defaults are valid");
    config.bind = "127.0.0.1:0".parse().expect("address");
    config.data_dir = data_dir.to_owned();
    config.database_url = format!("sqlite://{}?mode=rwc", data_dir.join("test.sqlite").display());
    config.admin_token = Some(ADMIN_TOKEN.into());
    // Tests share one Redis: each app gets keys and channels of its own.
    config.redis_prefix = format!("aisha-test-{:016x}", rand::random::<u64>());
    // Jobs move fast in tests: short latency, polls and leases.
    config.local.latency = Duration::from_millis(150);
    config.local.image_size = 64;
    config.job_idle_interval = Duration::from_millis(50);
    config.job_lease = Duration::from_secs(2);
    config.fal.poll_interval = Duration::from_millis(30);
    // Every test comes from one address and signs in many users: budgets no test reaches,
    // except the rate-limit tests, which set their own.
    config.rate_limits = aisha::domain::rate_limits::RateLimitSettings::parse(GENEROUS_RATE_LIMITS).expect("budgets");
    config.telegram = Some(aisha::config::TelegramConfig {
        bot_token: BOT_TOKEN.into(),
        api_url: "http://127.0.0.1:9/".parse().expect("url"),
        webhook_secret: WEBHOOK_SECRET.into(),
        messages_per_sec_chat: 1,
        messages_per_sec_overall: 30,
        bot_username: Some("aisha_test_bot".into()),
    });
    config
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// Starts the server with the test configuration changed by `adjust`.
pub async fn spawn_app_with(db: Db, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (database, database_url) = match db {
        Db::Sqlite => (None, format!("sqlite://{}?mode=rwc", data_dir.path().join("test.sqlite").display())),
        Db::Postgres => {
            let schema = postgres::TestSchema::create().await;
            let url = schema.url.clone();
            (Some(schema), url)
        }
    };
    start(Place { data_dir, database, database_url }, adjust).await
}

/// Starts an app on the data of a killed one (the same database and data folder).
pub async fn restart_app(place: Place, adjust: impl FnOnce(&mut Config)) -> TestApp {
    start(place, adjust).await
}

async fn start(place: Place, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let mut config = test_config(place.data_dir.path());
    config.database_url = place.database_url.clone();
    config.public_url = format!("http://{addr}/").parse().expect("url");
    adjust(&mut config);
    let app = aisha::app::build(config).await.expect("the app builds");
    let background = aisha::app::start_background(&app);
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_app = app.clone();
    let server = tokio::spawn(async move {
        let stop = async move {
            let _ = stopped.await;
        };
        aisha::http::serve(server_app, listener, stop).await.expect("server runs");
    });
    TestApp {
        addr,
        url: format!("http://{addr}"),
        app,
        http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client"),
        place: Some(place),
        jobs_may_run_on: Default::default(),
        shutdown: Some(shutdown),
        server: Some(server),
        background: Some(background),
    }
}

impl TestApp {
    /// Delivers a FAL webhook (signature headers and body as given); returns the status.
    pub async fn post_fal_webhook(&self, headers: &[(&'static str, String)], body: &[u8]) -> u16 {
        let mut request = self
            .http
            .post(format!("{}/webhooks/fal", self.url))
            .header("content-type", "application/json")
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send().await.expect("sent").status().as_u16()
    }

    /// Kills the app as a crash would: workers and server stop wherever they are. Returns its
    /// data for `restart_app`.
    pub async fn kill(mut self) -> Place {
        if let Some(background) = self.background.take() {
            background.abort().await;
        }
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
        self.app.db.clone().close().await.ok();
        self.place.take().expect("an app's place is taken once")
    }

    /// Says why this test ends with jobs still running, and skips the check that none is.
    pub fn leaves_jobs_running(&self, why: &str) {
        eprintln!("jobs may still run as this test ends: {why}");
        self.jobs_may_run_on.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Signs a new Telegram user in through `signInWithTelegram`; returns (token, user id).
    pub async fn sign_in(&self, telegram_id: i64, username: &str) -> (String, String) {
        let init_data = mini_app_init_data(telegram_id, username, now_secs());
        let response = self
            .gql(
                None,
                "mutation($d: String!) { signInWithTelegram(initData: $d) { token user { id } } }",
                json!({ "d": init_data }),
            )
            .await;
        let payload = response.data("signInWithTelegram");
        (payload["token"].as_str().expect("token").to_owned(), payload["user"]["id"].as_str().expect("id").to_owned())
    }

    /// Runs one SQL statement on the app's database and returns the first column of the first row.
    pub async fn scalar_string(&self, sql: &str) -> String {
        use sea_orm::ConnectionTrait;
        let row =
            self.app.db.query_one_raw(aisha::adapters::db::statement(&self.app.db, sql, [])).await.expect("query");
        row.expect("a row").try_get_by_index::<String>(0).expect("a string")
    }

    /// Runs one SQL statement on the app's database and returns the first column of the first row.
    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        use sea_orm::ConnectionTrait;
        let row =
            self.app.db.query_one_raw(aisha::adapters::db::statement(&self.app.db, sql, [])).await.expect("query");
        row.expect("a row").try_get_by_index::<i64>(0).expect("an integer")
    }
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// Mini App `initData` for a user, signed with the test bot token.
pub fn mini_app_init_data(telegram_id: i64, username: &str, auth_date: i64) -> String {
    let user =
        json!({ "id": telegram_id, "first_name": username, "username": username, "language_code": "en" }).to_string();
    sign_telegram_data(
        &[("auth_date", &auth_date.to_string()), ("query_id", "AAHtest"), ("user", &user)],
        BOT_TOKEN,
        true,
    )
}

pub fn value_str(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("expected a string, got {value}"))
}
pub use graphql::{GqlResponse, Walk};

/// `AISHA_TEST_REDIS_URL`, when the Redis variants should run.
pub fn redis_url() -> Option<String> {
    std::env::var("AISHA_TEST_REDIS_URL").ok().filter(|v| !v.is_empty())
}

/// Two instances sharing one database and one Redis (keys and channels of their own), as a
/// deployment of several instances would; None (and a notice) without `AISHA_TEST_REDIS_URL`.
pub async fn spawn_two_instances(adjust_first: impl FnOnce(&mut Config)) -> Option<(TestApp, TestApp)> {
    let Some(redis_url) = redis_url() else {
        eprintln!("AISHA_TEST_REDIS_URL is not set: the two-instance variant is not run");
        return None;
    };
    let first_redis = redis_url.clone();
    let first = spawn_app_with(Db::Sqlite, move |c| {
        c.redis_url = Some(first_redis);
        adjust_first(c);
    })
    .await;
    let (database_url, prefix) = (first.app.config.database_url.clone(), first.app.config.redis_prefix.clone());
    let second = spawn_app_with(Db::Sqlite, |c| {
        c.redis_url = Some(redis_url);
        c.database_url = database_url;
        c.redis_prefix = prefix;
    })
    .await;
    Some((first, second))
}

/// Polls `check` every 30 ms for up to 10 s; true as soon as it holds.
pub async fn eventually<F, Fut>(check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_within(Duration::from_secs(10), check).await
}

/// Polls `check` every 30 ms for up to `limit`; true as soon as it holds.
pub async fn eventually_within<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_found_within(limit, || {
        let holds = check();
        async move { holds.await.then_some(()) }
    })
    .await
    .is_some()
}

/// Polls `find` every 30 ms for up to 10 s; the first thing it finds.
pub async fn eventually_found<T, F, Fut>(find: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_found_within(Duration::from_secs(10), find).await
}

/// Polls `find` every 30 ms for up to `limit`; the first thing it finds.
pub async fn eventually_found_within<T, F, Fut>(limit: Duration, mut find: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(found) = find().await {
            return Some(found);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

/// Points the app at a fake FAL (polling only unless the test turns webhooks on).
pub fn use_fal(config: &mut Config, fal: &fake_fal::FakeFal) {
    config.fal.key = Some("test-fal-key".into());
    config.fal.queue_url = format!("{}/", fal.url).parse().expect("url");
    config.fal.jwks_url = fal.jwks_url().parse().expect("url");
}

impl Drop for TestApp {
    /// Every test ends with no job left running on an app it did not stop itself: what a test
    /// started must finish (or be cancelled) within it. Skipped when the test failed already.
    fn drop(&mut self) {
        if std::thread::panicking() || self.background.is_none() || *self.jobs_may_run_on.get_mut() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        if runtime.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return;
        }
        tokio::task::block_in_place(|| runtime.block_on(self.assert_no_job_running()));
    }
}
