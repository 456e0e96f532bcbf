//! Wiring: configuration → adapters → domain services → schema → axum router, and serving it.

use std::{ops::Deref, sync::Arc, time::Duration};

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::adapters::{
    bus::{EventBus, MemoryBus, RedisBus},
    cache::{Cache, MemoryCache, RedisCache},
    db::{self, leases::Leases},
    storage::{LinkCache, LocalStorage, S3Storage, Storage},
};
use crate::config::{Config, Environment};
use crate::domain::{
    Services,
    auth::AuthService,
    avatars::{AvatarService, AvatarSettings},
    credits::CreditService,
    gallery::{GalleryService, StatsCache},
    generations::{GenerationService, JobSettings},
    payments::PaymentService,
    users::UserService,
};
use crate::providers::{
    ImageProvider,
    fal::{FalProvider, webhook::WebhookVerifier},
    local::{LocalProvider, LocalProviderConfig},
};
use crate::graphql::{self, DocumentCache, ObservedSchema, SchemaDeps};
use crate::metrics::Metrics;
use crate::telegram::TelegramBot;

/// Everything a request handler may need; cloned cheaply as [`AppState`].
pub struct App {
    pub config: Config,
    pub db: DatabaseConnection,
    pub cache: Arc<dyn Cache>,
    pub bus: Arc<dyn EventBus>,
    pub storage: Arc<dyn Storage>,
    /// The local folder behind `/files/…`, when storage is local.
    pub local_files: Option<Arc<LocalStorage>>,
    pub fal_webhooks: WebhookVerifier,
    pub services: Services,
    /// The GraphQL schema, as every port runs it.
    pub schema: ObservedSchema,
    /// Parsed GraphQL documents by their text.
    pub documents: DocumentCache,
    pub metrics: Arc<Metrics>,
    /// Prefix of the request ids this instance makes.
    pub instance_id: String,
    /// The bot, when `TELEGRAM_BOT_TOKEN` is set.
    pub telegram: Option<TelegramBot>,
}

#[derive(Clone)]
pub struct AppState(Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// Connects the adapters, runs migrations and builds the services and the schema.
pub async fn build(config: Config) -> anyhow::Result<AppState> {
    let mut db = db::connect(&config.database_url).await.context("connecting to the database")?;
    db::migrate(&db).await.context("running migrations")?;
    let metrics = Arc::new(Metrics::default());
    let sql_metrics = metrics.clone();
    // Set before the connection is cloned into the services, so that every clone counts.
    db.set_metric_callback(move |info| sql_metrics.record_sql(info.elapsed));
    let (cache, bus) = connect_redis(&config).await?;
    let (storage, local_files) = open_storage(&config).await?;
    let storage: Arc<dyn Storage> = Arc::new(LinkCache::new(storage));
    let credits = CreditService::new(db.clone(), bus.clone());
    let stats = StatsCache::new(cache.clone());
    let leases = db::is_postgres(&db).then(|| Arc::new(Leases::new(db.get_postgres_connection_pool().clone(), metrics.clone())));
    let gallery = GalleryService::new(db.clone(), leases, storage.clone(), stats.clone(), config.image_url_ttl);
    let generations = GenerationService::new(
        db.clone(),
        credits.clone(),
        bus.clone(),
        provider(&config)?,
        storage.clone(),
        config.catalog.clone(),
        JobSettings {
            workers: config.workers,
            deadline: config.job_deadline,
            training_deadline: config.training_deadline,
            archive_via_provider: config.fal.key.is_some() && config.fal.archive_via_fal,
            lease: config.job_lease,
            // The local provider's progress moves with time: look about eight times per job.
            poll_interval: match config.fal.key {
                Some(_) => config.fal.poll_interval,
                None => (config.local.latency / 8).clamp(Duration::from_millis(10), Duration::from_millis(500)),
            },
            webhook_poll_interval: config.fal.webhook_poll_interval,
            idle_interval: config.job_idle_interval,
        },
        stats,
    );
    let users = UserService::new(db.clone(), credits.clone(), config.welcome_bonus);
    let bot_token = config.telegram.as_ref().map(|t| t.bot_token.clone());
    let auth = AuthService::new(db.clone(), users.clone(), bus.clone(), bot_token, config.admin_token.clone());
    let payments = PaymentService::new(db.clone(), credits.clone(), config.credit_packages.clone());
    let avatars = AvatarService::new(
        db.clone(),
        storage.clone(),
        bus.clone(),
        generations.clone(),
        AvatarSettings { training_price: config.training_price, url_ttl: config.image_url_ttl },
    );
    let services = Services { users, credits, auth, generations, gallery, payments, avatars };
    let schema = graphql::build(SchemaDeps {
        services: services.clone(),
        bus: bus.clone(),
        metrics: metrics.clone(),
        limits: config.limits,
        introspection: config.graphiql || config.env == Environment::Dev,
    });
    let instance_id = format!("{:08x}", rand::random::<u32>());
    let documents = DocumentCache::new(1024);
    let fal_webhooks = WebhookVerifier::new(config.fal.jwks_url.clone());
    let telegram = match &config.telegram {
        Some(telegram) => {
            Some(TelegramBot::new(telegram, &config.public_url, schema.clone(), cache.clone(), metrics.clone()).context("starting the bot")?)
        }
        None => None,
    };
    Ok(AppState(Arc::new(App {
        config,
        db,
        cache,
        bus,
        storage,
        local_files,
        fal_webhooks,
        services,
        schema,
        documents,
        metrics,
        instance_id,
        telegram,
    })))
}

/// Starts what runs beside the HTTP server: the job workers, the deadline reaper, the
/// listener that forgets tokens revoked elsewhere, and the bot.
pub fn start_background(app: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = app.services.generations.spawn_workers();
    let auth = app.services.auth.clone();
    tasks.push(tokio::spawn(async move { auth.follow_revocations().await }));
    if let Some(telegram) = &app.telegram {
        tasks.extend(telegram.start(app.bus.clone()));
    }
    tasks
}

/// FAL when `FAL_KEY` is set; the local renderer otherwise.
fn provider(config: &Config) -> anyhow::Result<Arc<dyn ImageProvider>> {
    use secrecy::ExposeSecret;
    Ok(match &config.fal.key {
        Some(key) => {
            let webhook = match &config.fal.webhook_url_base {
                Some(base) => Some(base.join("webhooks/fal").context("FAL_WEBHOOK_URL_BASE")?),
                None => None,
            };
            Arc::new(FalProvider::new(key.expose_secret(), config.fal.queue_url.clone(), config.fal.storage_url.clone(), webhook))
        }
        None => Arc::new(LocalProvider::new(LocalProviderConfig {
            latency: config.local.latency,
            failure_rate: config.local.failure_rate,
            image_size: config.local.image_size,
        })),
    })
}

/// S3 when `S3_ENDPOINT` is set; the local folder otherwise.
async fn open_storage(config: &Config) -> anyhow::Result<(Arc<dyn Storage>, Option<Arc<LocalStorage>>)> {
    if let Some(s3) = &config.s3 {
        let storage = S3Storage::connect(s3).await.context("connecting to S3 (S3_ENDPOINT)")?;
        return Ok((Arc::new(storage), None));
    }
    let local = Arc::new(LocalStorage::open(&config.data_dir, config.public_url.clone()).context("opening the data folder")?);
    Ok((local.clone(), Some(local)))
}

/// Redis for the cache and the bus when `REDIS_URL` is set; in-process otherwise.
async fn connect_redis(config: &Config) -> anyhow::Result<(Arc<dyn Cache>, Arc<dyn EventBus>)> {
    let Some(url) = &config.redis_url else {
        return Ok((Arc::new(MemoryCache::default()), Arc::new(MemoryBus::default())));
    };
    let client = redis::Client::open(url.as_str()).context("REDIS_URL")?;
    let manager_config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2);
    // Lazy: start-up does not need Redis to be up; /readyz reports it.
    let conn = redis::aio::ConnectionManager::new_lazy_with_config(client.clone(), manager_config)
        .context("creating the Redis connection manager")?;
    let bus = RedisBus::connect(client, conn.clone(), &config.redis_prefix).await;
    Ok((Arc::new(RedisCache::new(conn, &config.redis_prefix)), Arc::new(bus)))
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    app: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let router = crate::http::router(app);
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await.context("serving HTTP")
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
