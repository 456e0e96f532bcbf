//! One handle for single read statements on hot paths: on PostgreSQL they run on leased
//! connections (`leases.rs`, one round trip each), elsewhere on the pool like any statement.
//! Callers see neither.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult, Value};

use super::leases::Leases;
use super::{is_postgres, statement};
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct Reads {
    db: DatabaseConnection,
    leases: Option<Arc<Leases>>,
}

impl Reads {
    /// Leases at most `max_leases` connections (none: statements run on the pool).
    pub fn new(db: DatabaseConnection, max_leases: u32, metrics: Arc<Metrics>) -> Self {
        let leases = (is_postgres(&db) && max_leases > 0)
            .then(|| Arc::new(Leases::new(db.get_postgres_connection_pool().clone(), max_leases as usize, metrics)));
        Reads { db, leases }
    }

    /// Runs one read statement (`$n` parameters) and returns its rows.
    pub async fn fetch_all(&self, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>, DbErr> {
        match &self.leases {
            Some(leases) => leases.fetch_all(sql, &values).await,
            None => self.db.query_all_raw(statement(&self.db, sql, values)).await,
        }
    }
}
