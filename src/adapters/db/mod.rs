//! The database: connect (SQLite file or PostgreSQL), run migrations, and the entities.

pub mod entity;
pub mod leases;
pub mod reads;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement,
    TransactionTrait, TryGetable, Value,
    sqlx::{Decode, Postgres, Row},
};

/// Opens a pool of the default size (8 connections on SQLite, 16 on PostgreSQL).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_sized(url, if url.starts_with("sqlite:") { 8 } else { 16 }, Durability::Flushed).await
}

/// When a commit returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Once it is on disk (what every change of substance needs).
    Flushed,
    /// At once; PostgreSQL flushes it a moment later (`synchronous_commit = off`). For
    /// bookkeeping whose loss in a crash only means some work is done again, so that it does not
    /// queue on the log flushes that acknowledgements wait for.
    Relaxed,
}

/// A pool of at most `max` connections (a small one of its own keeps a latency-critical writer
/// from waiting behind everything else). SQLite gets WAL (readers never wait for the writer), a
/// busy timeout so that concurrent writers queue instead of failing, and its folder created on
/// first run. Idle connections beyond the first close after 10 minutes.
pub async fn connect_sized(url: &str, max: u32, durability: Durability) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = url.strip_prefix("sqlite://").map(|rest| rest.split('?').next().unwrap_or(rest))
        && let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|e| DbErr::Custom(format!("create {parent:?}: {e}")))?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(600))
        // sqlx pings every connection it hands out by default: a second round trip per query.
        // Only a connection idle long enough to have been dropped is worth a ping.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
        });
    if durability == Durability::Relaxed {
        options.map_sqlx_postgres_opts(|opts| opts.options([("synchronous_commit", "off")]));
    }
    Database::connect(options).await
}

/// What `db`'s pool holds now, for `aisha_db_connections`.
pub fn pool_gauge(db: &DatabaseConnection) -> crate::metrics::PoolGauge {
    fn usage<D: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<D>) -> crate::metrics::PoolUsage {
        let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
        crate::metrics::PoolUsage {
            in_use: pool.size().saturating_sub(idle),
            idle,
            max: pool.options().get_max_connections(),
        }
    }
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool().clone();
            Box::new(move || Some(usage(&pool)))
        }
        _ => {
            let pool = db.get_sqlite_connection_pool().clone();
            Box::new(move || Some(usage(&pool)))
        }
    }
}

/// Runs the migrations not yet applied. On PostgreSQL under a lock of the schema's, held by a
/// transaction of its own: instances that start together (two replicas of a fresh deployment)
/// would otherwise race to create the same tables; the first migrates, the others then find
/// nothing to do.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    // The lock holds one connection while the migrations take another.
    let lockable = db.get_database_backend() == DbBackend::Postgres
        && db.get_postgres_connection_pool().options().get_max_connections() > 1;
    if !lockable {
        return Migrator::up(db, None).await;
    }
    let lock = db.begin().await?;
    lock.execute_unprepared("SELECT pg_advisory_xact_lock(hashtext(current_schema()))").await?;
    let migrated = Migrator::up(db, None).await;
    lock.commit().await?;
    migrated
}

/// A raw statement with `$1, $2, …` placeholders, which both SQLite and PostgreSQL accept.
pub fn statement(db: &impl ConnectionTrait, sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// A keyset page by an id column, newest (highest id) first: from the seek's cursor (excluded),
/// towards newer ids when it says so (then oldest first, as `Seek` wants).
pub fn seek_by_id<E: sea_orm::EntityTrait>(
    query: sea_orm::Select<E>,
    id: impl sea_orm::ColumnTrait,
    seek: crate::domain::paging::Seek<i64>,
) -> sea_orm::Select<E> {
    use sea_orm::{QueryFilter, QueryOrder, QuerySelect};
    let query = match (seek.cursor, seek.newer) {
        (Some(cursor), false) => query.filter(id.lt(cursor)),
        (Some(cursor), true) => query.filter(id.gt(cursor)),
        (None, _) => query,
    };
    let order = if seek.newer { sea_orm::Order::Asc } else { sea_orm::Order::Desc };
    query.order_by(id, order).limit(seek.limit)
}

pub fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// Reads column `index` of a row. On PostgreSQL straight from sqlx's row, without checking the
/// column's declared type against `T` at every cell as sea-orm's getters do (the schema is our
/// migrations'; a page of the gallery reads some 400 cells, and the checks were half the decoding).
/// A wrong type still fails: binary decoding checks the width and the text.
pub fn column<T>(row: &QueryResult, index: usize) -> Result<T, DbErr>
where
    T: TryGetable + for<'r> Decode<'r, Postgres>,
{
    match row.try_as_pg_row() {
        Some(pg) => pg.try_get_unchecked(index).map_err(|e| DbErr::Type(format!("column {index}: {e}"))),
        None => row.try_get_by_index(index),
    }
}
