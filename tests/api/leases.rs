//! Leased PostgreSQL connections (the gallery page's): a statement abandoned halfway never
//! leaks its rows into the next one (our drain and sqlx's own wait for pending results both see
//! to it), finished statements are counted in the metrics, and a connection PostgreSQL dropped is
//! replaced without the caller seeing an error; never more than the cap are open, and idle ones
//! are closed.

use std::{sync::Arc, time::Duration};

use aisha::adapters::db::leases::Leases;
use aisha::metrics::Metrics;
use sea_orm::{Value, sqlx::postgres::PgPoolOptions};

use crate::support::postgres;

async fn leases() -> Option<(Leases, Arc<Metrics>, sea_orm::sqlx::PgPool)> {
    let Some(url) = postgres::base_url() else {
        eprintln!("AISHA_TEST_DATABASE_URL is not set: not run");
        return None;
    };
    let pool = PgPoolOptions::new().max_connections(4).connect(&url).await.expect("connects");
    let metrics = Arc::new(Metrics::default());
    Some((Leases::new(pool.clone(), 8, metrics.clone()), metrics, pool))
}

async fn number(leases: &Leases, n: i64) -> i64 {
    let rows = leases.fetch_all("SELECT $1::bigint", &[Value::BigInt(Some(n))]).await.expect("runs");
    rows[0].try_get_by_index(0).expect("a number")
}

#[tokio::test]
async fn a_statement_abandoned_halfway_does_not_leak_into_the_next() {
    let Some((leases, metrics, _)) = leases().await else { return };
    assert_eq!(number(&leases, 1).await, 1);
    let slow = leases.fetch_all("SELECT 7::bigint FROM pg_sleep(0.3)", &[]);
    assert!(tokio::time::timeout(Duration::from_millis(50), slow).await.is_err(), "abandoned");
    tokio::time::sleep(Duration::from_millis(600)).await;
    for n in 2..20 {
        assert_eq!(number(&leases, n).await, n, "each statement reads its own rows");
    }
    assert_eq!(metrics.sql_statements(), 19, "finished statements are counted");
}

#[tokio::test]
async fn a_connection_postgres_dropped_is_replaced() {
    let Some((leases, _, pool)) = leases().await else { return };
    let pid_of = || async {
        let rows = leases.fetch_all("SELECT pg_backend_pid()::bigint", &[]).await.expect("runs");
        rows[0].try_get_by_index::<i64>(0).expect("a pid")
    };
    let pid = pid_of().await;
    sea_orm::sqlx::query("SELECT pg_terminate_backend($1::int)").bind(pid).execute(&pool).await.expect("terminates");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let replaced = pid_of().await;
    assert_ne!(replaced, pid, "a new connection answered");
    assert_eq!(number(&leases, 5).await, 5);
}

#[tokio::test]
async fn leases_stay_within_their_cap_and_idle_ones_are_closed() {
    let Some(url) = postgres::base_url() else {
        eprintln!("AISHA_TEST_DATABASE_URL is not set: not run");
        return;
    };
    let pool = PgPoolOptions::new().max_connections(2).connect(&url).await.expect("connects");
    let metrics = Arc::new(Metrics::default());
    let leases = Leases::new(pool.clone(), 3, metrics.clone());
    let pids = futures_util::future::join_all((0..12).map(|_| async {
        let rows = leases.fetch_all("SELECT pg_backend_pid()::bigint FROM pg_sleep(0.05)", &[]).await.expect("runs");
        rows[0].try_get_by_index::<i64>(0).expect("a pid")
    }))
    .await;
    let distinct: std::collections::BTreeSet<i64> = pids.into_iter().collect();
    assert!(distinct.len() <= 3, "more connections than the cap: {distinct:?}");
    let text = metrics.render();
    let idle = format!("aisha_db_connections{{pool=\"leases\",state=\"idle\"}} {}", distinct.len());
    assert!(text.contains(&idle), "{text}");
    assert!(text.contains("aisha_db_connections_max{pool=\"leases\"} 3"), "{text}");

    assert_eq!(leases.trim(Duration::from_secs(60)).await, 0, "recently used ones stay");
    assert_eq!(leases.trim(Duration::ZERO).await, distinct.len());
    assert!(metrics.render().contains("aisha_db_connections{pool=\"leases\",state=\"idle\"} 0"));
    let listed: Vec<i64> = distinct.iter().copied().collect();
    let open = || async {
        sea_orm::sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])")
            .bind(listed.iter().map(|p| *p as i32).collect::<Vec<i32>>())
            .fetch_one(&pool)
            .await
            .expect("counts")
    };
    assert!(crate::support::eventually(|| async { open().await == 0 }).await, "the trimmed connections are still open");
}
