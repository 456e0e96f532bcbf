//! Test support: `spawn_app` starts the real server on 127.0.0.1:0 with a fresh database
//! (a SQLite file, or a PostgreSQL schema of its own when `AISHA_TEST_DATABASE_URL` is set),
//! and helpers speak GraphQL to it over real HTTP and WebSocket connections.

#![allow(dead_code)]

pub mod graphql;
pub mod postgres;

use std::{net::SocketAddr, time::Duration};

use aisha::{app::AppState, config::Config, domain::auth::sign_telegram_data};
use serde_json::{Value, json};


pub const BOT_TOKEN: &str = "123456:TEST-bot-token";
pub const WEBHOOK_SECRET: &str = "test-webhook-secret";
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

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
    _data_dir: tempfile::TempDir,
    _database: Option<postgres::TestSchema>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// A configuration for tests: nothing external, a bot token for sign-in, an admin token.
pub fn test_config(data_dir: &std::path::Path) -> Config {
    let mut config = Config::from_lookup(|_| None).expect("the defaults are valid");
    config.bind = "127.0.0.1:0".parse().expect("address");
    config.data_dir = data_dir.to_owned();
    config.database_url = format!("sqlite://{}?mode=rwc", data_dir.join("test.sqlite").display());
    config.admin_token = Some(ADMIN_TOKEN.into());
    // Tests share one Redis: each app gets keys and channels of its own.
    config.redis_prefix = format!("aisha-test-{:016x}", rand::random::<u64>());
    config.telegram = Some(aisha::config::TelegramConfig {
        bot_token: BOT_TOKEN.into(),
        api_url: "http://127.0.0.1:9/".parse().expect("url"),
        webhook_secret: WEBHOOK_SECRET.into(),
    });
    config
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// Starts the server with the test configuration changed by `adjust`.
pub async fn spawn_app_with(db: Db, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(data_dir.path());
    let database = match db {
        Db::Sqlite => None,
        Db::Postgres => {
            let schema = postgres::TestSchema::create().await;
            config.database_url = schema.url.clone();
            Some(schema)
        }
    };
    adjust(&mut config);
    let app = aisha::app::build(config).await.expect("the app builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_app = app.clone();
    let server = tokio::spawn(async move {
        let stop = async move {
            let _ = stopped.await;
        };
        aisha::app::serve(server_app, listener, stop).await.expect("server runs");
    });
    TestApp {
        addr,
        url: format!("http://{addr}"),
        app,
        http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client"),
        _data_dir: data_dir,
        _database: database,
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

impl TestApp {
    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Signs a new Telegram user in through `signInWithTelegram`; returns (token, user id).
    pub async fn sign_in(&self, telegram_id: i64, username: &str) -> (String, String) {
        let init_data = mini_app_init_data(telegram_id, username, now_secs());
        let response = self
            .gql(None, "mutation($d: String!) { signInWithTelegram(initData: $d) { token user { id } } }", json!({ "d": init_data }))
            .await;
        let payload = response.data("signInWithTelegram");
        (payload["token"].as_str().expect("token").to_owned(), payload["user"]["id"].as_str().expect("id").to_owned())
    }

    /// Runs one SQL statement on the app's database and returns the first column of the first row.
    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        use sea_orm::ConnectionTrait;
        let row = self.app.db.query_one_raw(aisha::adapters::db::statement(&self.app.db, sql, [])).await.expect("query");
        row.expect("a row").try_get_by_index::<i64>(0).expect("an integer")
    }
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// Mini App `initData` for a user, signed with the test bot token.
pub fn mini_app_init_data(telegram_id: i64, username: &str, auth_date: i64) -> String {
    let user = json!({ "id": telegram_id, "first_name": username, "username": username, "language_code": "en" }).to_string();
    sign_telegram_data(&[("auth_date", &auth_date.to_string()), ("query_id", "AAHtest"), ("user", &user)], BOT_TOKEN, true)
}

pub fn value_str(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("expected a string, got {value}"))
}
