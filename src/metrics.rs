//! Prometheus metrics kept in fixed arrays of atomics: counting a request costs a few atomic
//! adds and no lock, which matters at tens of thousands of requests per second. What happens
//! less often (provider calls, job steps, webhooks, Telegram updates) is kept by label in
//! [`family`].

mod family;

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use family::{Counters, Histograms};

/// The routes we report separately; everything else is `other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Graphql,
    Graphiql,
    Telegram,
    Fal,
    Files,
    Health,
    Metrics,
    WebClient,
    Other,
}

const ROUTES: [Route; 9] = [
    Route::Graphql,
    Route::Graphiql,
    Route::Telegram,
    Route::Fal,
    Route::Files,
    Route::Health,
    Route::Metrics,
    Route::WebClient,
    Route::Other,
];

impl Route {
    pub fn of_path(path: &str) -> Route {
        match path {
            "/graphql" => Route::Graphql,
            "/healthz" | "/readyz" => Route::Health,
            "/metrics" => Route::Metrics,
            "/telegram/webhook" => Route::Telegram,
            "/webhooks/fal" => Route::Fal,
            p if p.starts_with("/graphiql") => Route::Graphiql,
            p if p.starts_with("/files/") => Route::Files,
            "/" => Route::WebClient,
            p if p.starts_with("/app/") || p.starts_with("/assets/") => Route::WebClient,
            _ => Route::Other,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Route::Graphql => "graphql",
            Route::Graphiql => "graphiql",
            Route::Telegram => "telegram_webhook",
            Route::Fal => "fal_webhook",
            Route::Files => "files",
            Route::Health => "health",
            Route::Metrics => "metrics",
            Route::WebClient => "web_client",
            Route::Other => "other",
        }
    }
}

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];
/// The same for what takes seconds to minutes (provider calls, job steps, Telegram updates).
const SLOW_BUCKETS: [f64; 12] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
const OPERATIONS: [&str; 3] = ["query", "mutation", "subscription"];

#[derive(Default)]
struct RouteStats {
    by_status: [AtomicU64; 5],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

#[derive(Default)]
pub struct Metrics {
    routes: [RouteStats; ROUTES.len()],
    operations: [AtomicU64; OPERATIONS.len()],
    /// Errors by `extensions.code`; errors are rare enough for a lock.
    errors: Mutex<BTreeMap<String, u64>>,
    sql_statements: AtomicU64,
    sql_micros: AtomicU64,
    /// Telegram updates taken in (past the secret and dedupe) and handled to the end.
    telegram_received: AtomicU64,
    telegram_duplicates: AtomicU64,
    telegram_processed: AtomicU64,
    /// The database pools this instance holds, read when metrics are rendered.
    pools: Mutex<Vec<(&'static str, PoolGauge)>>,
    activity: Activity,
}

/// What this instance does besides answering requests.
struct Activity {
    provider_calls: Counters<3>,
    provider_latency: Histograms<2>,
    job_steps: Counters<3>,
    job_step_latency: Histograms<2>,
    webhooks: Counters<2>,
    telegram_updates: Histograms<1>,
    sockets: Arc<AtomicI64>,
    subscriptions: Arc<AtomicI64>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            provider_calls: Counters::new(
                "aisha_provider_calls_total",
                "Calls to the image provider by call and outcome (ok, transient, failed).",
                ["provider", "call", "outcome"],
            ),
            provider_latency: Histograms::new(
                "aisha_provider_call_duration_seconds",
                "Latency of calls to the image provider.",
                ["provider", "call"],
                &SLOW_BUCKETS,
            ),
            job_steps: Counters::new(
                "aisha_job_steps_total",
                "Job steps this instance ran, by kind of job, step and outcome.",
                ["kind", "step", "outcome"],
            ),
            job_step_latency: Histograms::new(
                "aisha_job_step_duration_seconds",
                "How long the job steps this instance ran took.",
                ["kind", "step"],
                &SLOW_BUCKETS,
            ),
            webhooks: Counters::new(
                "aisha_webhook_deliveries_total",
                "Webhook deliveries by source (telegram, fal) and what became of them.",
                ["source", "outcome"],
            ),
            telegram_updates: Histograms::new(
                "aisha_telegram_update_lag_seconds",
                "From an update's receipt to the end of its handling (inbox lag), by outcome.",
                ["outcome"],
                &SLOW_BUCKETS,
            ),
            sockets: Arc::default(),
            subscriptions: Arc::default(),
        }
    }
}

/// Counts one open thing (a socket, a subscription) while it lives.
pub struct Open(Arc<AtomicI64>);

impl Open {
    fn new(gauge: &Arc<AtomicI64>) -> Self {
        gauge.fetch_add(1, Relaxed);
        Open(gauge.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

/// What a pool of database connections holds now, or None once the pool is gone.
pub type PoolGauge = Box<dyn Fn() -> Option<PoolUsage> + Send + Sync>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUsage {
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

impl Metrics {
    pub fn record_request(&self, route: Route, status: u16, elapsed: Duration) {
        let stats = &self.routes[ROUTES.iter().position(|r| *r == route).unwrap_or(ROUTES.len() - 1)];
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        stats.by_status[class].fetch_add(1, Relaxed);
        let seconds = elapsed.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|upper| seconds <= *upper) {
            stats.buckets[bucket].fetch_add(1, Relaxed);
        }
        stats.count.fetch_add(1, Relaxed);
        stats.sum_micros.fetch_add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    /// Counts one GraphQL operation by its type (`query`, `mutation`, `subscription`).
    pub fn record_operation(&self, kind: &str) {
        if let Some(i) = OPERATIONS.iter().position(|k| *k == kind) {
            self.operations[i].fetch_add(1, Relaxed);
        }
    }

    pub fn record_error(&self, code: &str) {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *errors.entry(code.to_owned()).or_default() += 1;
    }

    /// Counts one SQL statement and its duration (from the database driver's metric callback).
    /// Counts a statement, and charges it to the budget of the request that ran it.
    pub fn record_sql(&self, elapsed: Duration) {
        crate::budget::RequestBudget::charge();
        self.sql_statements.fetch_add(1, Relaxed);
        self.sql_micros.fetch_add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    pub fn record_telegram_received(&self, duplicate: bool) {
        let counter = if duplicate { &self.telegram_duplicates } else { &self.telegram_received };
        counter.fetch_add(1, Relaxed);
    }

    pub fn record_provider_call(
        &self,
        provider: &'static str,
        call: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        self.activity.provider_calls.add([provider, call, outcome]);
        self.activity.provider_latency.observe([provider, call], elapsed);
    }

    pub fn record_job_step(&self, kind: &'static str, step: &'static str, outcome: &'static str, elapsed: Duration) {
        self.activity.job_steps.add([kind, step, outcome]);
        self.activity.job_step_latency.observe([kind, step], elapsed);
    }

    pub fn record_webhook(&self, source: &'static str, outcome: &'static str) {
        self.activity.webhooks.add([source, outcome]);
    }

    /// A Telegram update handled to an end (`outcome`), `lag` after it was received.
    pub fn record_telegram_handled(&self, outcome: &'static str, lag: Duration) {
        self.telegram_processed.fetch_add(1, Relaxed);
        self.activity.telegram_updates.observe([outcome], lag);
    }

    /// An open WebSocket, counted in `aisha_websocket_connections` while it lives.
    pub fn socket_opened(&self) -> Open {
        Open::new(&self.activity.sockets)
    }

    /// A running subscription, counted in `aisha_subscriptions` while it lives.
    pub fn subscription_started(&self) -> Open {
        Open::new(&self.activity.subscriptions)
    }

    /// Reports `pool`'s connections in `aisha_db_connections` from now on.
    pub fn watch_pool(&self, pool: &'static str, gauge: PoolGauge) {
        self.pools.lock().unwrap_or_else(|p| p.into_inner()).push((pool, gauge));
    }

    pub fn sql_statements(&self) -> u64 {
        self.sql_statements.load(Relaxed)
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP aisha_http_requests_total HTTP requests by route and status class.\n");
        out.push_str("# TYPE aisha_http_requests_total counter\n");
        for (route, stats) in ROUTES.iter().zip(&self.routes) {
            for (class, counter) in STATUS_CLASSES.iter().zip(&stats.by_status) {
                let n = counter.load(Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "aisha_http_requests_total{{route=\"{}\",status=\"{class}\"}} {n}",
                        route.label()
                    );
                }
            }
        }
        out.push_str("# HELP aisha_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE aisha_http_request_duration_seconds histogram\n");
        for (route, stats) in ROUTES.iter().zip(&self.routes) {
            let count = stats.count.load(Relaxed);
            if count == 0 {
                continue;
            }
            let label = route.label();
            let mut cumulative = 0;
            for (upper, bucket) in BUCKETS.iter().zip(&stats.buckets) {
                cumulative += bucket.load(Relaxed);
                let _ = writeln!(
                    out,
                    "aisha_http_request_duration_seconds_bucket{{route=\"{label}\",le=\"{upper}\"}} {cumulative}"
                );
            }
            let _ =
                writeln!(out, "aisha_http_request_duration_seconds_bucket{{route=\"{label}\",le=\"+Inf\"}} {count}");
            let sum = stats.sum_micros.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "aisha_http_request_duration_seconds_sum{{route=\"{label}\"}} {sum}");
            let _ = writeln!(out, "aisha_http_request_duration_seconds_count{{route=\"{label}\"}} {count}");
        }
        out.push_str("# HELP aisha_graphql_operations_total GraphQL operations by type.\n");
        out.push_str("# TYPE aisha_graphql_operations_total counter\n");
        for (kind, counter) in OPERATIONS.iter().zip(&self.operations) {
            let _ = writeln!(out, "aisha_graphql_operations_total{{type=\"{kind}\"}} {}", counter.load(Relaxed));
        }
        out.push_str("# HELP aisha_sql_statements_total SQL statements executed.\n");
        out.push_str("# TYPE aisha_sql_statements_total counter\n");
        let _ = writeln!(out, "aisha_sql_statements_total {}", self.sql_statements.load(Relaxed));
        out.push_str("# HELP aisha_sql_seconds_total Time spent in SQL statements.\n");
        out.push_str("# TYPE aisha_sql_seconds_total counter\n");
        let _ = writeln!(out, "aisha_sql_seconds_total {}", self.sql_micros.load(Relaxed) as f64 / 1e6);
        out.push_str(
            "# HELP aisha_telegram_updates_total Telegram updates: received (new), duplicate (dropped), processed.\n",
        );
        out.push_str("# TYPE aisha_telegram_updates_total counter\n");
        for (label, counter) in [
            ("received", &self.telegram_received),
            ("duplicate", &self.telegram_duplicates),
            ("processed", &self.telegram_processed),
        ] {
            let _ = writeln!(out, "aisha_telegram_updates_total{{outcome=\"{label}\"}} {}", counter.load(Relaxed));
        }
        out.push_str("# HELP aisha_graphql_errors_total GraphQL errors by extensions.code.\n");
        out.push_str("# TYPE aisha_graphql_errors_total counter\n");
        for (code, n) in self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "aisha_graphql_errors_total{{code=\"{code}\"}} {n}");
        }
        out.push_str("# HELP aisha_db_connections Database connections of this instance by pool and state.\n");
        out.push_str("# TYPE aisha_db_connections gauge\n");
        let pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        let usage: Vec<(&str, PoolUsage)> = pools.iter().filter_map(|(name, gauge)| Some((*name, gauge()?))).collect();
        for (pool, now) in &usage {
            let _ = writeln!(out, "aisha_db_connections{{pool=\"{pool}\",state=\"in_use\"}} {}", now.in_use);
            let _ = writeln!(out, "aisha_db_connections{{pool=\"{pool}\",state=\"idle\"}} {}", now.idle);
        }
        out.push_str("# HELP aisha_db_connections_max The most connections each pool of this instance opens.\n");
        out.push_str("# TYPE aisha_db_connections_max gauge\n");
        for (pool, now) in &usage {
            let _ = writeln!(out, "aisha_db_connections_max{{pool=\"{pool}\"}} {}", now.max);
        }
        drop(pools);
        let activity = &self.activity;
        for (name, help, gauge) in [
            ("aisha_websocket_connections", "WebSockets open on this instance.", &activity.sockets),
            ("aisha_subscriptions", "GraphQL subscriptions running on this instance.", &activity.subscriptions),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}", gauge.load(Relaxed));
        }
        activity.provider_calls.render(&mut out);
        activity.provider_latency.render(&mut out);
        activity.job_steps.render(&mut out);
        activity.job_step_latency.render(&mut out);
        activity.webhooks.render(&mut out);
        activity.telegram_updates.render(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.record_request(Route::Graphql, 200, Duration::from_micros(300));
        metrics.record_request(Route::Graphql, 400, Duration::from_millis(3));
        metrics.record_operation("query");
        metrics.record_error("BAD_USER_INPUT");
        let text = metrics.render();
        assert!(text.contains("aisha_http_requests_total{route=\"graphql\",status=\"2xx\"} 1"));
        assert!(text.contains("aisha_http_requests_total{route=\"graphql\",status=\"4xx\"} 1"));
        assert!(text.contains("aisha_http_request_duration_seconds_bucket{route=\"graphql\",le=\"0.0005\"} 1"));
        assert!(text.contains("aisha_http_request_duration_seconds_bucket{route=\"graphql\",le=\"0.005\"} 2"));
        assert!(text.contains("aisha_graphql_operations_total{type=\"query\"} 1"));
        assert!(text.contains("aisha_graphql_errors_total{code=\"BAD_USER_INPUT\"} 1"));
    }
}
