//! Wiring: configuration → adapters → domain services → schema → axum router, and serving it.

use std::{ops::Deref, sync::Arc, time::Duration};

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::adapters::{
    bus::{EventBus, MemoryBus, RedisBus},
    cache::{Cache, MemoryCache, RedisCache},
    db::{self, Durability, reads::Reads},
    outbound::Downloads,
    storage::{LinkCache, LocalStorage, S3Storage, Storage},
};
use crate::config::{Config, Environment};
use crate::domain::styles::StyleService;
use crate::domain::{
    Services,
    analytics::AnalyticsService,
    audit::AuditLog,
    auth::AuthService,
    avatars::{AvatarService, AvatarSettings},
    claims::Claimant,
    credits::CreditService,
    dashboard::DashboardService,
    gallery::{GalleryService, StatsCache},
    generations::GenerationService,
    inbox::InboxService,
    jobs::{Capacity, JobEngine, JobEngineDeps, JobSettings},
    notifications::{NotificationService, NotificationSettings},
    payments::PaymentService,
    privacy::PrivacyService,
    promos::PromoService,
    rate_limits::RateLimiter,
    referrals::ReferralService,
    spending::SpendingService,
    users::UserService,
};
use crate::graphql::{self, DocumentCache, ObservedSchema, SchemaDeps};
use crate::metrics::Metrics;
use crate::providers::{
    ImageProvider,
    fal::{FalProvider, webhook::WebhookVerifier},
    local::{LocalProvider, LocalProviderConfig},
    observed::Observed,
};
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
    let mut db = db::connect_sized(&config.database_url, config.database_pool, Durability::Flushed)
        .await
        .context("connecting to the database")?;
    db::migrate(&db).await.context("running migrations")?;
    let metrics = Arc::new(Metrics::default());
    metrics.watch_pool("main", db::pool_gauge(&db));
    let sql_metrics = metrics.clone();
    // Set before the connection is cloned into the services, so that every clone counts.
    db.set_metric_callback(move |info| sql_metrics.record_sql(info.elapsed));
    let (cache, bus) = connect_redis(&config).await?;
    let (storage, local_files) = open_storage(&config).await?;
    let storage: Arc<dyn Storage> = Arc::new(LinkCache::new(storage));
    let instance_id = format!("{:08x}", rand::random::<u32>());
    let claimant = Arc::new(Claimant::new(&instance_id));
    let credits = CreditService::new(db.clone(), bus.clone());
    let stats = StatsCache::new(cache.clone());
    let reads = Reads::new(db.clone(), config.database_leases, metrics.clone());
    let gallery = GalleryService::new(db.clone(), reads, storage.clone(), stats.clone(), config.image_url_ttl);
    // Notifications are written only when a channel delivers them (today: the bot).
    let notification_settings =
        NotificationSettings { enabled: config.telegram.is_some(), ..config.notifications.clone() };
    let notifications = NotificationService::new(db.clone(), notification_settings, claimant.clone());
    // The bot's inbox has pools of its own: acknowledgements (flushed) never wait for the
    // handlers' connections, and its bookkeeping (relaxed) never queues on their flushes.
    let (inbox_bookkeeping, inbox_writes) = match &config.telegram {
        Some(_) => (
            counted(
                "inbox_bookkeeping",
                db::connect_sized(&config.database_url, 4, Durability::Relaxed).await,
                &metrics,
            )?,
            counted("inbox_writes", db::connect_sized(&config.database_url, 2, Durability::Flushed).await, &metrics)?,
        ),
        None => (db.clone(), db.clone()),
    };
    let inbox = InboxService::new(inbox_bookkeeping, inbox_writes, config.inbox.clone(), claimant.clone());
    let jobs = JobEngine::new(JobEngineDeps {
        db: db.clone(),
        credits: credits.clone(),
        bus: bus.clone(),
        provider: Arc::new(Observed::new(provider(&config)?, metrics.clone())),
        storage: storage.clone(),
        catalog: config.catalog.clone(),
        settings: job_settings(&config),
        stats: stats.clone(),
        notifications: notifications.clone(),
        claimant,
        metrics: metrics.clone(),
    });
    let rate_limits = RateLimiter::new(cache.clone(), config.rate_limits);
    let generations = GenerationService::new(
        db.clone(),
        credits.clone(),
        gallery.clone(),
        bus.clone(),
        jobs.clone(),
        rate_limits.clone(),
    );
    let users = UserService::new(db.clone(), credits.clone(), cache.clone(), config.welcome_bonus);
    let bot_token = config.telegram.as_ref().map(|t| t.bot_token.clone());
    let auth = AuthService::new(
        db.clone(),
        users.clone(),
        bus.clone(),
        cache.clone(),
        bot_token,
        config.admin_token.clone(),
        config.auth,
    );
    let stars = config.telegram.as_ref().map(crate::telegram::stars_gateway).transpose()?;
    let bot_link = config
        .telegram
        .as_ref()
        .and_then(|t| t.bot_username.as_ref())
        .map(|name| format!("https://t.me/{name}?start="));
    let referrals = ReferralService::new(db.clone(), config.referral_reward, bot_link);
    let payments = PaymentService::new(
        db.clone(),
        credits.clone(),
        users.clone(),
        notifications.clone(),
        config.credit_packages.clone(),
        referrals.clone(),
        stars,
    );
    let spending = SpendingService::new(db.clone());
    let promos = PromoService::new(db.clone(), credits.clone(), rate_limits.clone());
    let avatars = AvatarService::new(
        db.clone(),
        storage.clone(),
        bus.clone(),
        jobs.clone(),
        stats.clone(),
        rate_limits.clone(),
        AvatarSettings { training_price: config.training_price, url_ttl: config.image_url_ttl },
    );
    let privacy =
        PrivacyService::new(db.clone(), storage.clone(), jobs.clone(), auth.clone(), stats, rate_limits.clone());
    let template_models = config.catalog.iter().filter(|m| !m.needs_avatar).map(|m| m.id.clone()).collect();
    let styles = StyleService::new(db.clone(), template_models, config.public_url.clone());
    // Every instance adds what the shipped catalogue has and the database lacks (idempotent).
    let seeded = styles.seed().await.context("seeding the style templates")?;
    if seeded > 0 {
        tracing::info!(seeded, "style templates added from the shipped catalogue");
    }
    let services = Services {
        users,
        audit: AuditLog::new(db.clone()),
        analytics: AnalyticsService::new(db.clone()),
        dashboard: DashboardService::new(db.clone()),
        credits,
        auth,
        generations,
        jobs,
        gallery,
        payments,
        promos,
        privacy,
        referrals,
        spending,
        avatars,
        styles,
        inbox,
        notifications,
        rate_limits,
    };
    let schema = graphql::build(SchemaDeps {
        services: services.clone(),
        bus: bus.clone(),
        metrics: metrics.clone(),
        limits: config.limits,
        introspection: config.graphiql || config.env == Environment::Dev,
    });
    let documents = DocumentCache::new(1024);
    let fal_webhooks = WebhookVerifier::new(config.fal.jwks_url.clone());
    let telegram = match &config.telegram {
        Some(telegram) => {
            let bot = TelegramBot::new(
                telegram,
                &config.public_url,
                schema.clone(),
                cache.clone(),
                metrics.clone(),
                &services,
            );
            Some(bot.context("starting the bot")?)
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

/// What runs beside the HTTP server: the job engine, the listener that forgets tokens revoked
/// elsewhere, and the bot.
pub struct Background {
    shutdown: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Background {
    /// Stops claiming work, lets short work finish, releases what is held (so another instance
    /// takes it over at once) and waits for it, up to `grace`.
    pub async fn stop(mut self, grace: Duration) {
        self.shutdown.cancel();
        let tasks = std::mem::take(&mut self.tasks);
        if tokio::time::timeout(grace, futures_util::future::join_all(tasks)).await.is_err() {
            tracing::warn!("background work did not stop in time; what it holds lapses with its leases");
        }
    }

    /// Stops everything where it is, as a crash would (for tests).
    pub async fn abort(mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }
}

pub fn start_background(app: &AppState) -> Background {
    let shutdown = CancellationToken::new();
    let mut tasks = vec![app.services.jobs.start(shutdown.clone())];
    let auth = app.services.auth.clone();
    let stop = shutdown.clone();
    tasks.push(tokio::spawn(async move {
        tokio::select! { () = auth.follow_revocations() => {}, () = stop.cancelled() => {} }
    }));
    if let Some(telegram) = &app.telegram {
        tasks.extend(telegram.start(shutdown.clone()));
        let outbox = app.services.notifications.clone();
        tasks.push(tokio::spawn(outbox.deliver_until(telegram.courier(), app.bus.clone(), shutdown.clone())));
    }
    Background { shutdown, tasks }
}

/// The jobs' settings from the configuration.
fn job_settings(config: &Config) -> JobSettings {
    let w = config.workers;
    let off = Capacity { submit: 0, poll: 0, fetch: 0 };
    JobSettings {
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
        per_user: config.job_per_user,
        images: if w == 0 { off } else { Capacity { submit: 8 * w, poll: 16 * w, fetch: 4 * w } },
        trainings: if w == 0 { off } else { Capacity { submit: 2, poll: 8, fetch: 2 } },
        drain: config.shutdown_grace / 2,
        typical_duration: match config.fal.key {
            Some(_) => Duration::from_secs(15),
            None => config.local.latency + Duration::from_secs(1),
        },
    }
}

/// A pool whose statements count in `/metrics`.
/// A pool of its own, whose statements and connections count in the metrics as `name`.
fn counted(
    name: &'static str,
    pool: Result<DatabaseConnection, sea_orm::DbErr>,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<DatabaseConnection> {
    let mut pool = pool.context("connecting to the database")?;
    metrics.watch_pool(name, db::pool_gauge(&pool));
    let sql_metrics = metrics.clone();
    pool.set_metric_callback(move |info| sql_metrics.record_sql(info.elapsed));
    Ok(pool)
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
            let downloads = Downloads::new(config.downloads);
            Arc::new(FalProvider::new(
                key.expose_secret(),
                config.fal.queue_url.clone(),
                config.fal.storage_url.clone(),
                webhook,
                downloads,
            ))
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
    let local =
        Arc::new(LocalStorage::open(&config.data_dir, config.public_url.clone()).context("opening the data folder")?);
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
