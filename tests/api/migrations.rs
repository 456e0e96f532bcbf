//! Migrations when instances start together: two replicas of a fresh deployment each run them at
//! start-up, and both must come up on one migrated schema.

use sea_orm::ConnectionTrait;

use crate::support::postgres::{self, TestSchema};

#[tokio::test]
async fn instances_that_migrate_one_fresh_schema_together_all_succeed_once() {
    if !postgres::available() {
        eprintln!("AISHA_TEST_DATABASE_URL is not set: not run");
        return;
    }
    let schema = TestSchema::create().await;
    let mut instances = Vec::new();
    for _ in 0..4 {
        instances.push(aisha::adapters::db::connect(&schema.url).await.expect("connects"));
    }
    let results = futures_util::future::join_all(instances.iter().map(aisha::adapters::db::migrate)).await;
    for result in &results {
        assert!(result.is_ok(), "an instance failed to migrate: {result:?}");
    }
    let db = &instances[0];
    let applied = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*)::bigint, count(DISTINCT version)::bigint FROM seaql_migrations",
        ))
        .await
        .expect("reads")
        .expect("a row");
    let (rows, versions): (i64, i64) =
        (applied.try_get_by_index(0).expect("n"), applied.try_get_by_index(1).expect("n"));
    assert_eq!(rows, versions, "each migration recorded once");
    assert!(versions >= 5, "all migrations applied: {versions}");
}
