//! Real `aisha serve` processes, for the tests that kill a server (SIGKILL, as a crash or an
//! OOM kill would) or stop it (SIGTERM, as a deploy would). They are configured by their
//! environment, as in production, and share a database with the test (and with each other).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use super::{ADMIN_TOKEN, BOT_TOKEN, Db, WEBHOOK_SECRET, postgres::TestSchema};

/// A database and a data folder that outlive the processes using them.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub database_url: String,
    _schema: Option<TestSchema>,
}

impl Site {
    pub async fn new(db: Db) -> Site {
        let dir = tempfile::tempdir().expect("temp dir");
        let (schema, database_url) = match db {
            Db::Sqlite => (None, format!("sqlite://{}?mode=rwc", dir.path().join("shared.sqlite").display())),
            Db::Postgres => {
                let schema = TestSchema::create().await;
                let url = schema.url.clone();
                (Some(schema), url)
            }
        };
        Site { dir, database_url, _schema: schema }
    }

    /// The environment of a server on this site: test settings, the bot (talking to
    /// `telegram_url`, when given), quick jobs.
    pub fn env(&self, name: &str, telegram_url: Option<&str>) -> Vec<(String, String)> {
        let data = self.dir.path().join(name);
        let mut env: Vec<(String, String)> = [
            ("DATABASE_URL", self.database_url.as_str()),
            ("AISHA_DATA_DIR", data.to_str().expect("utf-8 path")),
            ("AISHA_ADMIN_TOKEN", ADMIN_TOKEN),
            ("AISHA_LOCAL_IMAGE_SIZE", "64"),
            ("AISHA_LOCAL_LATENCY_MS", "150"),
            ("AISHA_JOB_POLL_MS", "50"),
            ("RUST_LOG", "info"),
            ("AISHA_RATE_LIMITS", super::GENEROUS_RATE_LIMITS),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        if let Some(url) = telegram_url {
            env.push(("TELEGRAM_BOT_TOKEN".into(), BOT_TOKEN.into()));
            env.push(("TELEGRAM_WEBHOOK_SECRET".into(), WEBHOOK_SECRET.into()));
            env.push(("TELEGRAM_API_URL".into(), url.into()));
        }
        env
    }
}

pub struct Server {
    child: tokio::process::Child,
    pub url: String,
    pub log: PathBuf,
}

impl Server {
    /// Starts `aisha serve` with this environment and waits until it answers `/healthz`.
    pub async fn start(env: &[(String, String)], log: &Path) -> Server {
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("address").port();
        let out = std::fs::File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let cwd = log.parent().expect("a folder");
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_aisha"))
            .arg("serve")
            .current_dir(cwd)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AISHA_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .kill_on_drop(true)
            .spawn()
            .expect("aisha serve starts");
        let server = Server { child, url: format!("http://127.0.0.1:{port}"), log: log.to_owned() };
        let http = reqwest::Client::new();
        let healthy = || async {
            http.get(format!("{}/healthz", server.url)).send().await.is_ok_and(|r| r.status().is_success())
        };
        if super::eventually_within(Duration::from_secs(30), healthy).await {
            return server;
        }
        panic!("the server did not come up; its log:\n{}", server.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: the process ends wherever it is.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL");
    }

    /// SIGTERM, then waits for the process to exit; returns whether it exited cleanly, and when.
    pub async fn terminate(mut self) -> (bool, Duration) {
        let pid = self.child.id().expect("a running process");
        let started = Instant::now();
        let sent = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill -TERM");
        assert!(sent.success(), "SIGTERM could not be sent");
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("the process exits")
            .expect("status");
        (status.success(), started.elapsed())
    }
}

impl Server {
    /// A GraphQL request to this server; returns the response body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: serde_json::Value) -> serde_json::Value {
        let mut request = reqwest::Client::new()
            .post(format!("{}/graphql", self.url))
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent").json().await.expect("JSON body")
    }
}

/// `aisha token`: the operator's way to a bearer token, run against this site's database.
pub async fn cli_token(env: &[(String, String)], telegram_id: i64) -> String {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aisha"))
        .args(["token", "--telegram-id", &telegram_id.to_string()])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("aisha token runs");
    assert!(output.status.success(), "aisha token failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
}

/// One number from the database (SQLite or PostgreSQL) behind `url`.
pub async fn scalar(url: &str, sql: &str) -> i64 {
    value(url, sql).await
}

/// The first column of the first row `sql` returns from the database behind `url`.
pub async fn value<T: sea_orm::TryGetable>(url: &str, sql: &str) -> T {
    use sea_orm::ConnectionTrait;
    let db = aisha::adapters::db::connect(url).await.expect("the test reaches the database");
    let row = db.query_one_raw(aisha::adapters::db::statement(&db, sql, [])).await.expect("query").expect("a row");
    let value = row.try_get_by_index::<T>(0).expect("a value of the expected type");
    let _ = db.close().await;
    value
}
