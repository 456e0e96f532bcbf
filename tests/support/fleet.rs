//! A fleet: several real `aisha serve` processes sharing one PostgreSQL, one Redis and one S3
//! server (the services `.ci/run` starts), as a deployment of many instances would, with the
//! fake Telegram and FAL servers they all talk to. Each fleet has its own schema, Redis prefix
//! and buckets, so fleets of different tests never meet.

use serde_json::{Value, json};

use super::fake_fal::{FakeFal, Mode};
use super::fake_telegram::FakeTelegram;
use super::process::{Server, Site};
use super::{BOT_TOKEN, Db, mini_app_init_data, now_secs, postgres, redis_url};

/// The environment of one instance, as `KEY=value` pairs; later settings replace earlier ones.
#[derive(Clone, Default)]
pub struct Env(Vec<(String, String)>);

impl Env {
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_owned(), value.into()));
        self
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

pub struct Fleet {
    pub site: Site,
    pub servers: Vec<Server>,
    pub telegram: FakeTelegram,
    pub fal: FakeFal,
    env: Env,
}

/// The S3 server of `.ci/run`, when it is given.
fn s3() -> Option<(String, String, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    Some((
        var("AISHA_TEST_S3_ENDPOINT")?,
        var("AISHA_TEST_S3_ACCESS_KEY").unwrap_or_else(|| "aisha".into()),
        var("AISHA_TEST_S3_SECRET_KEY").unwrap_or_else(|| "aisha-secret".into()),
    ))
}

impl Fleet {
    /// Starts `instances` servers on the shared services, each with the common environment
    /// changed by `adjust(index, env)`; None (and a notice) when a service is not given.
    pub async fn start(instances: usize, mut adjust: impl FnMut(usize, &mut Env)) -> Option<Fleet> {
        let (Some(redis), Some((endpoint, access_key, secret_key)), true) = (redis_url(), s3(), postgres::available())
        else {
            eprintln!(
                "AISHA_TEST_DATABASE_URL, AISHA_TEST_REDIS_URL and AISHA_TEST_S3_ENDPOINT are needed: the fleet is not run"
            );
            return None;
        };
        let site = Site::new(Db::Postgres).await;
        let telegram = FakeTelegram::start(BOT_TOKEN).await;
        let fal = FakeFal::start(Mode::Succeed, std::time::Duration::from_millis(300)).await;
        let name = format!("fleet-{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
        let mut env = Env(site.env("fleet", Some(&telegram.url)));
        env.set("REDIS_URL", redis)
            .set("AISHA_REDIS_PREFIX", name.clone())
            .set("S3_ENDPOINT", endpoint)
            .set("S3_ACCESS_KEY_ID", access_key)
            .set("S3_SECRET_ACCESS_KEY", secret_key)
            .set("S3_BUCKET_IMAGES", format!("{name}-images"))
            .set("S3_BUCKET_PHOTOS", format!("{name}-photos"))
            .set("FAL_KEY", "test-fal-key")
            .set("FAL_QUEUE_URL", format!("{}/", fal.url))
            .set("FAL_JWKS_URL", fal.jwks_url())
            .set("AISHA_FAL_POLL_MS", "50")
            .set("AISHA_TELEGRAM_CHAT_RATE", "1000")
            .set("AISHA_TELEGRAM_GLOBAL_RATE", "10000");
        let mut fleet = Fleet { site, servers: Vec::new(), telegram, fal, env };
        for index in 0..instances {
            let mut env = fleet.env.clone();
            adjust(index, &mut env);
            fleet.start_instance(index, &env).await;
        }
        Some(fleet)
    }

    /// Starts one more instance (`index` names its data folder and log) with `env`.
    pub async fn start_instance(&mut self, index: usize, env: &Env) {
        let mut env = env.clone();
        env.set("AISHA_DATA_DIR", self.site.dir.path().join(format!("instance-{index}")).display().to_string());
        let log = self.site.dir.path().join(format!("instance-{index}-{}.log", self.servers.len()));
        self.servers.push(Server::start(env.pairs(), &log).await);
    }

    /// The environment every instance starts from.
    pub fn env(&self) -> Env {
        self.env.clone()
    }

    /// Signs a Telegram user in (as the Mini App would) on instance `at`; returns the token.
    pub async fn sign_in(&self, at: usize, telegram_id: i64) -> String {
        let query = "mutation($d: String!) { signInWithTelegram(initData: $d) { token } }";
        let init_data = mini_app_init_data(telegram_id, &format!("user{telegram_id}"), now_secs());
        let answer = self.servers[at].gql(None, query, json!({ "d": init_data })).await;
        answer["data"]["signInWithTelegram"]["token"].as_str().unwrap_or_else(|| panic!("a token: {answer}")).to_owned()
    }

    /// One number from the shared database.
    pub async fn scalar(&self, sql: &str) -> i64 {
        super::process::scalar(&self.site.database_url, sql).await
    }

    /// Every instance's log, for a failure message.
    pub fn logs(&self) -> String {
        self.servers.iter().map(|s| format!("--- {}\n{}", s.url, s.log_text())).collect()
    }
}

/// The id a `createGeneration` answer carries, or a panic that shows the answer.
pub fn created_id(answer: &Value) -> String {
    answer["data"]["createGeneration"]["id"].as_str().unwrap_or_else(|| panic!("created: {answer}")).to_owned()
}
