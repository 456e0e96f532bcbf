//! PostgreSQL connections leased for single read statements on hot paths (the gallery page),
//! kept outside sqlx's pool. sqlx pings every connection it takes back (sqlx-core 0.9,
//! `Floating::return_to_pool`): a second round trip to PostgreSQL per statement, which made the
//! bare gallery handler 40% slower (`BASELINE_HOLD=1 bench/gallery.sh`). A lease that finished
//! its statement goes straight back; one abandoned mid-statement (a client hung up) is drained
//! with that ping in the background first (sqlx would otherwise wait for the rest at the start of
//! the next statement, making its caller wait), and one that failed is dropped and replaced on
//! demand. Connections idle for a minute are closed, so a burst does not keep its connections
//! out of PostgreSQL's budget; at most `max` are ever open (`AISHA_DATABASE_LEASES`).

use std::{
    sync::{Arc, Mutex, Weak},
    time::{Duration, Instant},
};

use sea_orm::{
    DbErr, QueryResult, Value,
    sqlx::{Connection, PgConnection, PgPool, postgres::PgArguments, query::Query},
};
use tokio::sync::Semaphore;

use crate::metrics::{Metrics, PoolUsage};

/// An idle connection unused for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Leases {
    inner: Arc<Inner>,
}

struct Inner {
    /// Idle connections with when each was last used, the most recent last.
    idle: Mutex<Vec<(PgConnection, Instant)>>,
    permits: Semaphore,
    max: usize,
    /// Where new connections come from (detached from it, with its connect options).
    source: PgPool,
    metrics: Arc<Metrics>,
}

impl Leases {
    /// At most `max` connections, made from `source`'s options; trimmed in the background when
    /// built inside a runtime, and reported in the metrics as the `leases` pool.
    pub fn new(source: PgPool, max: usize, metrics: Arc<Metrics>) -> Self {
        let inner = Arc::new(Inner {
            idle: Mutex::default(),
            permits: Semaphore::new(max),
            max,
            source,
            metrics: metrics.clone(),
        });
        let watched = Arc::downgrade(&inner);
        metrics.watch_pool("leases", Box::new(move || watched.upgrade().map(|inner| inner.usage())));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(trim_idle(Arc::downgrade(&inner)));
        }
        Leases { inner }
    }

    /// Closes the idle connections unused for `idle_for` (the background does it at a minute);
    /// returns how many.
    pub async fn trim(&self, idle_for: Duration) -> usize {
        self.inner.trim(idle_for).await
    }

    /// Runs one read statement (`$n` parameters) and returns its rows. A connection that broke
    /// since its last use (PostgreSQL restarted, say) is replaced and the statement run again once.
    pub async fn fetch_all(&self, sql: &str, values: &[Value]) -> Result<Vec<QueryResult>, DbErr> {
        let _permit = self.inner.permits.acquire().await.map_err(|e| DbErr::Custom(e.to_string()))?;
        let started = Instant::now();
        let mut retried = false;
        loop {
            let mut lease = self.lease().await?;
            let result = bind(sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(sql)), values)?
                .fetch_all(lease.connection())
                .await;
            match result {
                Ok(rows) => {
                    lease.finished = true;
                    self.inner.metrics.record_sql(started.elapsed());
                    return Ok(rows.into_iter().map(QueryResult::from).collect());
                }
                Err(error) => {
                    lease.broken = true;
                    if is_connection_lost(&error) && !retried {
                        // The idle ones most likely went the same way (PostgreSQL restarted).
                        self.inner.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
                        retried = true;
                        continue;
                    }
                    return Err(DbErr::Query(sea_orm::RuntimeErr::SqlxError(Arc::new(error))));
                }
            }
        }
    }

    async fn lease(&self) -> Result<Lease, DbErr> {
        let idle = self.inner.idle.lock().unwrap_or_else(|p| p.into_inner()).pop().map(|(connection, _)| connection);
        let connection = match idle {
            Some(connection) => connection,
            None => self
                .inner
                .source
                .acquire()
                .await
                .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(Arc::new(e))))?
                .detach(),
        };
        Ok(Lease { connection: Some(connection), inner: self.inner.clone(), finished: false, broken: false })
    }
}

impl Inner {
    fn usage(&self) -> PoolUsage {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).len();
        let as_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        PoolUsage {
            in_use: as_u32(self.max - self.permits.available_permits()),
            idle: as_u32(idle),
            max: as_u32(self.max),
        }
    }

    fn put_back(&self, connection: PgConnection) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push((connection, Instant::now()));
    }

    async fn trim(&self, idle_for: Duration) -> usize {
        let stale: Vec<PgConnection> = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            // The most recently used are last: the stale ones are a prefix.
            let fresh = idle.iter().position(|(_, used)| used.elapsed() < idle_for).unwrap_or(idle.len());
            idle.drain(..fresh).map(|(connection, _)| connection).collect()
        };
        let count = stale.len();
        for connection in stale {
            if let Err(error) = connection.close().await {
                tracing::debug!(%error, "an idle leased connection did not close cleanly");
            }
        }
        count
    }
}

/// Trims the idle connections every few seconds until the leases are dropped.
async fn trim_idle(inner: Weak<Inner>) {
    let mut every = tokio::time::interval(IDLE_TIMEOUT / 4);
    loop {
        every.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        inner.trim(IDLE_TIMEOUT).await;
    }
}

/// Errors after which the connection is gone but the statement may well succeed on another:
/// the socket failed, or the server ended the session (class 57P: shutdown, termination by an
/// administrator; class 08: connection exceptions).
fn is_connection_lost(error: &sea_orm::sqlx::Error) -> bool {
    match error {
        sea_orm::sqlx::Error::Io(_) | sea_orm::sqlx::Error::Protocol(_) => true,
        sea_orm::sqlx::Error::Database(e) => e.code().is_some_and(|c| c.starts_with("57P") || c.starts_with("08")),
        _ => false,
    }
}

fn bind<'q>(
    mut query: Query<'q, sea_orm::sqlx::Postgres, PgArguments>,
    values: &'q [Value],
) -> Result<Query<'q, sea_orm::sqlx::Postgres, PgArguments>, DbErr> {
    for value in values {
        query = match value {
            Value::BigInt(v) => query.bind(*v),
            Value::Int(v) => query.bind(*v),
            Value::Bool(v) => query.bind(*v),
            Value::String(v) => query.bind(v.as_deref()),
            other => return Err(DbErr::Custom(format!("a leased statement cannot bind {other:?}"))),
        };
    }
    Ok(query)
}

struct Lease {
    connection: Option<PgConnection>,
    inner: Arc<Inner>,
    finished: bool,
    broken: bool,
}

impl Lease {
    fn connection(&mut self) -> &mut PgConnection {
        self.connection.as_mut().unwrap_or_else(|| unreachable!("a lease holds its connection until dropped"))
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else { return };
        if self.broken {
            return; // closed by dropping; a new one is made on demand
        }
        let inner = self.inner.clone();
        if self.finished {
            inner.put_back(connection);
            return;
        }
        // Abandoned mid-statement: read what is still coming before anyone else uses it (or close
        // it, outside a runtime).
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        runtime.spawn(async move {
            if connection.ping().await.is_ok() {
                inner.put_back(connection);
            }
        });
    }
}
