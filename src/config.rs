//! Typed configuration, read once from the environment (and `.env`) with the names fixed by
//! DESIGN.md. A value that does not parse stops start-up with a message naming the variable.
//! Tests build a `Config` with [`Config::from_lookup`] and change the typed fields instead of the
//! process environment.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use secrecy::SecretString;
use url::Url;

use crate::adapters::outbound::DownloadSettings;
pub use crate::adapters::storage::S3Config;
use crate::domain::generations::{ModelSpec, apply_prices, default_catalog};
use crate::domain::inbox::InboxSettings;
use crate::domain::notifications::NotificationSettings;
use crate::domain::payments::{CreditPackage, parse_packages};
use crate::domain::rate_limits::RateLimitSettings;
use crate::domain::referrals::ReferralReward;

/// `dev` shows GraphiQL and introspection and detailed errors; `prod` hides them unless enabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Dev,
    Prod,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub public_url: Url,
    pub data_dir: PathBuf,
    pub env: Environment,
    pub admin_token: Option<SecretString>,
    pub database_url: String,
    /// Connections of the main pool (`AISHA_DATABASE_POOL`, 16 on PostgreSQL).
    pub database_pool: u32,
    /// PostgreSQL connections leased for the gallery's reads, at most (`AISHA_DATABASE_LEASES`,
    /// 8; 0 reads on the main pool).
    pub database_leases: u32,
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel, so that deployments can share one Redis.
    pub redis_prefix: String,
    pub s3: Option<S3Config>,
    pub fal: FalConfig,
    pub telegram: Option<TelegramConfig>,
    /// The size of the job engine: 4 means 32 submits, 64 polls and 16 downloads at once for
    /// images (trainings have their own 2, 8 and 2); 0 makes an API-only instance.
    pub workers: usize,
    /// A user's jobs of one kind in flight at once; the rest wait `QUEUED`.
    pub job_per_user: usize,
    /// On SIGTERM: stop claiming, release what is held, finish requests, exit within this.
    pub shutdown_grace: Duration,
    pub job_deadline: Duration,
    pub training_deadline: Duration,
    /// A worker's claim on a job lasts this long unless renewed (a crashed worker's jobs are
    /// taken over after it).
    pub job_lease: Duration,
    /// How often idle workers look for jobs made elsewhere, and the deadline reaper runs.
    pub job_idle_interval: Duration,
    pub welcome_bonus: i64,
    /// What a referrer earns on a referee's first top-up (`AISHA_REFERRAL_REWARD`).
    pub referral_reward: ReferralReward,
    /// Credits an avatar training costs.
    pub training_price: i64,
    pub local: LocalProviderSettings,
    /// The models on offer, with prices (`AISHA_MODEL_PRICES` changes them).
    pub catalog: Vec<ModelSpec>,
    /// Credits sold for Telegram Stars (`AISHA_CREDIT_PACKAGES`, `stars:credits,…`).
    pub credit_packages: Vec<CreditPackage>,
    /// How long signed image links live.
    pub image_url_ttl: Duration,
    /// Serve GraphiQL and allow introspection (default: on in dev, off in prod).
    pub graphiql: bool,
    /// Behind a reverse proxy (`AISHA_TRUST_PROXY`): the client's address is the last one of
    /// `X-Forwarded-For`, which our proxy wrote, rather than the proxy's own.
    pub trust_proxy: bool,
    pub auth: crate::domain::auth::AuthSettings,
    /// `/metrics` asks for this bearer token when it is set (`AISHA_METRICS_TOKEN`).
    pub metrics_token: Option<SecretString>,
    pub limits: Limits,
    pub websocket: WebSocketSettings,
    /// How slow a client may be (headers, idle keep-alive, bodies).
    pub connections: ConnectionLimits,
    /// Leases and retries of Telegram updates.
    pub inbox: InboxSettings,
    /// Leases and retries of notifications (written only when the bot is on).
    pub notifications: NotificationSettings,
    /// Budgets per user and per address (`AISHA_RATE_LIMITS`).
    pub rate_limits: RateLimitSettings,
    /// Result and LoRA downloads from addresses FAL hands back.
    pub downloads: DownloadSettings,
}

#[derive(Clone, Debug)]
pub struct FalConfig {
    pub key: Option<SecretString>,
    pub queue_url: Url,
    /// FAL's storage API, for `AISHA_TRAINING_ARCHIVE=fal`.
    pub storage_url: Url,
    /// Hand trainers the photo archive through FAL's storage rather than a signed link to ours
    /// (which FAL must be able to reach).
    pub archive_via_fal: bool,
    pub webhook_url_base: Option<Url>,
    pub jwks_url: Url,
    /// How often a job's status is polled without webhooks, and with them (the fallback).
    pub poll_interval: Duration,
    pub webhook_poll_interval: Duration,
}

/// The local image provider (used when `FAL_KEY` is unset).
#[derive(Clone, Debug)]
pub struct LocalProviderSettings {
    pub latency: Duration,
    pub failure_rate: f64,
    /// The long side of its images, in pixels.
    pub image_size: u32,
}

#[derive(Clone, Debug)]
pub struct TelegramConfig {
    pub bot_token: SecretString,
    pub api_url: Url,
    pub webhook_secret: SecretString,
    /// Outgoing messages per second to one chat, and overall (Telegram's published limits).
    pub messages_per_sec_chat: u32,
    pub messages_per_sec_overall: u32,
    /// The bot's `@username` without the `@` (`TELEGRAM_BOT_USERNAME`), for `t.me` links.
    pub bot_username: Option<String>,
}

/// Limits that protect the server from expensive requests.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    /// The largest `first`/`last` a connection accepts.
    pub max_page_size: usize,
    pub max_body_bytes: usize,
    /// The largest file an upload request may carry (`AISHA_MAX_UPLOAD_BYTES`), and how many.
    pub max_upload_bytes: u64,
    pub max_upload_files: usize,
    /// A request is stopped after this (`AISHA_REQUEST_TIMEOUT_SECS`) or after this many SQL
    /// statements (`AISHA_MAX_REQUEST_STATEMENTS`).
    pub request_timeout: Duration,
    pub max_request_statements: usize,
}

/// The bounds of a subscription socket.
#[derive(Clone, Copy, Debug)]
pub struct WebSocketSettings {
    /// `connection_init` must come within this (`AISHA_WS_INIT_TIMEOUT_SECS`), or 4408.
    pub init_timeout: Duration,
    /// The server pings this often; a peer silent for two pings is closed.
    pub ping_interval: Duration,
    pub max_subscriptions: usize,
    /// Per user and instance.
    pub max_sockets_per_user: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl Config {
    /// Reads `.env` (if present) and then the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable source; unset and empty mean "default".
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(&lookup);
        let bind: SocketAddr = vars.parse("AISHA_BIND")?.unwrap_or(([127, 0, 0, 1], 8080).into());
        let public_url = match vars.parse::<Url>("AISHA_PUBLIC_URL")? {
            Some(url) => url,
            None => Url::parse(&format!("http://{bind}")).map_err(|e| err("AISHA_BIND", e))?,
        };
        let data_dir = vars.get("AISHA_DATA_DIR").map_or_else(|| PathBuf::from("./data"), PathBuf::from);
        let env = match vars.get("AISHA_ENV").as_deref() {
            None | Some("dev") => Environment::Dev,
            Some("prod") => Environment::Prod,
            Some(other) => return Err(err("AISHA_ENV", format!("expected dev or prod, got {other:?}"))),
        };
        let database_url = vars
            .get("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("aisha.sqlite").display()));
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(err("DATABASE_URL", "expected sqlite://… or postgres://…"));
        }
        let graphiql = vars.parse::<bool>("AISHA_GRAPHIQL")?.unwrap_or(env == Environment::Dev);
        Ok(Config {
            bind,
            public_url,
            env,
            admin_token: admin_token(&vars)?,
            database_pool: positive(
                &vars,
                "AISHA_DATABASE_POOL",
                if database_url.starts_with("sqlite:") { 8 } else { 16 },
            )?,
            database_leases: vars.parse("AISHA_DATABASE_LEASES")?.unwrap_or(8),
            database_url,
            redis_url: vars.get("REDIS_URL"),
            redis_prefix: vars.get("AISHA_REDIS_PREFIX").unwrap_or_else(|| "aisha".into()),
            s3: S3Config::from_vars(&vars)?,
            fal: FalConfig {
                key: vars.secret("FAL_KEY"),
                queue_url: vars.parse("FAL_QUEUE_URL")?.unwrap_or_else(|| url("https://queue.fal.run")),
                webhook_url_base: vars.parse("FAL_WEBHOOK_URL_BASE")?,
                jwks_url: vars
                    .parse("FAL_JWKS_URL")?
                    .unwrap_or_else(|| url("https://rest.alpha.fal.ai/.well-known/jwks.json")),
                storage_url: vars.parse("FAL_STORAGE_URL")?.unwrap_or_else(|| url("https://rest.alpha.fal.ai/")),
                archive_via_fal: match vars.get("AISHA_TRAINING_ARCHIVE").as_deref() {
                    None | Some("storage") => false,
                    Some("fal") => true,
                    Some(_) => return Err(err("AISHA_TRAINING_ARCHIVE", "must be storage or fal")),
                },
                poll_interval: Duration::from_millis(vars.parse("AISHA_FAL_POLL_MS")?.unwrap_or(1000)),
                webhook_poll_interval: Duration::from_millis(
                    vars.parse("AISHA_FAL_WEBHOOK_POLL_MS")?.unwrap_or(15_000),
                ),
            },
            telegram: TelegramConfig::from_vars(&vars)?,
            workers: vars.parse("AISHA_WORKERS")?.unwrap_or(4),
            job_per_user: positive(&vars, "AISHA_JOB_USER_CONCURRENCY", 4)? as usize,
            shutdown_grace: Duration::from_secs(positive(&vars, "AISHA_SHUTDOWN_GRACE_SECS", 20)?.into()),
            job_deadline: Duration::from_secs(vars.parse("AISHA_JOB_DEADLINE_SECS")?.unwrap_or(600)),
            training_deadline: Duration::from_secs(vars.parse("AISHA_TRAINING_DEADLINE_SECS")?.unwrap_or(7200)),
            job_lease: Duration::from_secs(vars.parse("AISHA_JOB_LEASE_SECS")?.unwrap_or(30)),
            job_idle_interval: Duration::from_millis(vars.parse("AISHA_JOB_POLL_MS")?.unwrap_or(500)),
            welcome_bonus: vars.parse_non_negative("AISHA_WELCOME_BONUS")?.unwrap_or(10),
            referral_reward: ReferralReward::parse(&vars.get("AISHA_REFERRAL_REWARD").unwrap_or_else(|| "10%".into()))
                .map_err(|e| err("AISHA_REFERRAL_REWARD", e))?,
            training_price: vars.parse_non_negative("AISHA_TRAINING_PRICE")?.unwrap_or(150),
            local: LocalProviderSettings {
                latency: Duration::from_millis(vars.parse("AISHA_LOCAL_LATENCY_MS")?.unwrap_or(3000)),
                failure_rate: match vars.parse::<f64>("AISHA_LOCAL_FAILURE_RATE")?.unwrap_or(0.0) {
                    rate if (0.0..=1.0).contains(&rate) => rate,
                    _ => return Err(err("AISHA_LOCAL_FAILURE_RATE", "must be between 0 and 1")),
                },
                image_size: match vars.parse::<u32>("AISHA_LOCAL_IMAGE_SIZE")?.unwrap_or(1024) {
                    size if (16..=4096).contains(&size) => size,
                    _ => return Err(err("AISHA_LOCAL_IMAGE_SIZE", "must be 16-4096 pixels")),
                },
            },
            catalog: {
                let mut catalog = default_catalog();
                if let Some(prices) = vars.get("AISHA_MODEL_PRICES") {
                    apply_prices(&mut catalog, &prices).map_err(|e| err("AISHA_MODEL_PRICES", e))?;
                }
                catalog
            },
            credit_packages: parse_packages(
                &vars.get("AISHA_CREDIT_PACKAGES").unwrap_or_else(|| "50:50,100:110,250:300,500:650".into()),
            )
            .map_err(|e| err("AISHA_CREDIT_PACKAGES", e))?,
            image_url_ttl: Duration::from_secs(vars.parse("AISHA_IMAGE_URL_TTL_SECS")?.unwrap_or(3600)),
            graphiql,
            trust_proxy: vars.parse::<bool>("AISHA_TRUST_PROXY")?.unwrap_or(false),
            metrics_token: vars.secret("AISHA_METRICS_TOKEN"),
            auth: crate::domain::auth::AuthSettings {
                sign_in_max_age: Duration::from_secs(positive(&vars, "AISHA_SIGN_IN_MAX_AGE_SECS", 3600)?.into()),
                token_ttl: Duration::from_secs(u64::from(positive(&vars, "AISHA_TOKEN_TTL_DAYS", 90)?) * 24 * 3600),
                ..crate::domain::auth::AuthSettings::default()
            },
            connections: ConnectionLimits::default(),
            websocket: WebSocketSettings {
                init_timeout: Duration::from_secs(positive(&vars, "AISHA_WS_INIT_TIMEOUT_SECS", 10)?.into()),
                ping_interval: Duration::from_secs(15),
                max_subscriptions: 32,
                max_sockets_per_user: 16,
            },
            limits: Limits {
                max_query_depth: vars.parse("AISHA_MAX_QUERY_DEPTH")?.unwrap_or(16),
                max_query_complexity: vars.parse("AISHA_MAX_QUERY_COMPLEXITY")?.unwrap_or(2000),
                max_page_size: vars.parse("AISHA_MAX_PAGE_SIZE")?.unwrap_or(100),
                max_body_bytes: vars.parse("AISHA_MAX_BODY_BYTES")?.unwrap_or(1024 * 1024),
                max_upload_bytes: positive(&vars, "AISHA_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)?.into(),
                max_upload_files: 20,
                request_timeout: Duration::from_secs(positive(&vars, "AISHA_REQUEST_TIMEOUT_SECS", 30)?.into()),
                max_request_statements: positive(&vars, "AISHA_MAX_REQUEST_STATEMENTS", 500)? as usize,
            },
            inbox: InboxSettings {
                lease: Duration::from_secs(positive(&vars, "AISHA_TELEGRAM_LEASE_SECS", 15)?.into()),
                ..InboxSettings::default()
            },
            notifications: NotificationSettings::default(),
            rate_limits: RateLimitSettings::parse(&vars.get("AISHA_RATE_LIMITS").unwrap_or_default())
                .map_err(|e| err("AISHA_RATE_LIMITS", e))?,
            downloads: DownloadSettings {
                max_bytes: positive(&vars, "AISHA_MAX_DOWNLOAD_BYTES", 512 * 1024 * 1024)?.into(),
                timeout: Duration::from_secs(120),
                allow_private: vars.parse::<bool>("AISHA_ALLOW_PRIVATE_DOWNLOADS")?.unwrap_or(env == Environment::Dev),
            },
            data_dir,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

impl S3Config {
    fn from_vars(vars: &Vars<'_>) -> Result<Option<Self>, ConfigError> {
        let Some(endpoint) = vars.parse::<Url>("S3_ENDPOINT")? else { return Ok(None) };
        Ok(Some(S3Config {
            endpoint,
            public_endpoint: vars.parse::<Url>("S3_PUBLIC_ENDPOINT")?,
            region: vars.get("S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            access_key_id: vars.require("S3_ACCESS_KEY_ID", "required when S3_ENDPOINT is set")?,
            secret_access_key: vars.require("S3_SECRET_ACCESS_KEY", "required when S3_ENDPOINT is set")?.into(),
            bucket_images: vars.get("S3_BUCKET_IMAGES").unwrap_or_else(|| "imagen4".into()),
            bucket_photos: vars.get("S3_BUCKET_PHOTOS").unwrap_or_else(|| "photos".into()),
        }))
    }
}

impl TelegramConfig {
    fn from_vars(vars: &Vars<'_>) -> Result<Option<Self>, ConfigError> {
        let Some(bot_token) = vars.get("TELEGRAM_BOT_TOKEN") else { return Ok(None) };
        let secret = vars.require("TELEGRAM_WEBHOOK_SECRET", "required when TELEGRAM_BOT_TOKEN is set")?;
        let valid_secret = (1..=256).contains(&secret.len())
            && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid_secret {
            return Err(err("TELEGRAM_WEBHOOK_SECRET", "1-256 characters of A-Z a-z 0-9 _ -"));
        }
        Ok(Some(TelegramConfig {
            bot_token: bot_token.into(),
            api_url: vars.parse("TELEGRAM_API_URL")?.unwrap_or_else(|| url("https://api.telegram.org")),
            webhook_secret: secret.into(),
            messages_per_sec_chat: positive(vars, "AISHA_TELEGRAM_CHAT_RATE", 1)?,
            messages_per_sec_overall: positive(vars, "AISHA_TELEGRAM_GLOBAL_RATE", 30)?,
            bot_username: match vars.get("TELEGRAM_BOT_USERNAME") {
                Some(name) => {
                    let name = name.trim().trim_start_matches('@').to_owned();
                    let valid =
                        (5..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                    if !valid {
                        return Err(err("TELEGRAM_BOT_USERNAME", "5-32 characters of A-Z a-z 0-9 _"));
                    }
                    Some(name)
                }
                None => None,
            },
        }))
    }
}

/// Looks variables up; an empty value counts as unset.
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    fn secret(&self, name: &str) -> Option<SecretString> {
        self.get(name).map(SecretString::from)
    }

    fn require(&self, name: &'static str, why: &str) -> Result<String, ConfigError> {
        self.get(name).ok_or_else(|| err(name, why))
    }

    fn parse<T>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        self.get(name).map(|raw| raw.trim().parse::<T>().map_err(|e| err(name, format!("{raw:?}: {e}")))).transpose()
    }

    fn parse_non_negative(&self, name: &'static str) -> Result<Option<i64>, ConfigError> {
        match self.parse::<i64>(name)? {
            Some(v) if v < 0 => Err(err(name, "must not be negative")),
            other => Ok(other),
        }
    }
}

/// The operator's token: long enough that it cannot be guessed.
fn admin_token(vars: &Vars<'_>) -> Result<Option<SecretString>, ConfigError> {
    match vars.get("AISHA_ADMIN_TOKEN") {
        Some(token) if token.chars().count() < 32 => Err(err("AISHA_ADMIN_TOKEN", "must be at least 32 characters")),
        token => Ok(token.map(SecretString::from)),
    }
}

fn positive(vars: &Vars<'_>, name: &'static str, default: u32) -> Result<u32, ConfigError> {
    match vars.parse::<u32>(name)?.unwrap_or(default) {
        0 => Err(err(name, "must be at least 1")),
        n => Ok(n),
    }
}

fn err(var: &'static str, message: impl ToString) -> ConfigError {
    ConfigError { var, message: message.to_string() }
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap_or_else(|e| unreachable!("built-in URL {s} is valid: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_need_nothing() {
        let config = with(&[]).expect("defaults are valid");
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8080/");
        assert!(config.is_sqlite());
        assert_eq!(config.welcome_bonus, 10);
        assert!(config.telegram.is_none() && config.s3.is_none() && config.redis_url.is_none());
    }

    #[test]
    fn invalid_values_name_the_variable() {
        for (var, value) in [
            ("AISHA_BIND", "nowhere"),
            ("AISHA_WORKERS", "many"),
            ("AISHA_ENV", "staging"),
            ("AISHA_WELCOME_BONUS", "-1"),
            ("DATABASE_URL", "mysql://x"),
            ("AISHA_LOCAL_FAILURE_RATE", "2"),
            ("AISHA_MODEL_PRICES", "nope/model=3"),
            ("AISHA_MODEL_PRICES", "fal-ai/imagen4/preview=-1"),
            ("AISHA_ADMIN_TOKEN", "short-and-guessable"),
            ("AISHA_RATE_LIMITS", "paid=0/60"),
            ("AISHA_WS_INIT_TIMEOUT_SECS", "0"),
        ] {
            let error = with(&[(var, value)]).expect_err(var);
            assert_eq!(error.var, var);
            assert!(error.to_string().contains(var));
        }
    }

    #[test]
    fn bot_needs_a_valid_webhook_secret() {
        let missing = with(&[("TELEGRAM_BOT_TOKEN", "1:x")]).expect_err("secret required");
        assert_eq!(missing.var, "TELEGRAM_WEBHOOK_SECRET");
        let bad = with(&[("TELEGRAM_BOT_TOKEN", "1:x"), ("TELEGRAM_WEBHOOK_SECRET", "a b")]);
        assert_eq!(bad.expect_err("charset").var, "TELEGRAM_WEBHOOK_SECRET");
    }
}

/// How slow a client may be.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// For a request's headers, and for a keep-alive connection between requests.
    pub header_timeout: Duration,
    /// The longest pause between two pieces of a request body.
    pub body_idle: Duration,
    /// After `body_idle`, a body must have come at this rate on average.
    pub body_min_bytes_per_sec: u64,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            body_idle: Duration::from_secs(10),
            body_min_bytes_per_sec: 1024,
        }
    }
}
