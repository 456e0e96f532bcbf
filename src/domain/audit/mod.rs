//! The audit log of the operator's actions: who (the admin role), what, on what, when and why.
//! Rows are only ever added; nothing in AISHA updates or deletes them.

mod repository;

use sea_orm::DatabaseConnection;

use crate::domain::{Result, time::Micros, time::now_micros};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    /// The mutation, e.g. `blockUser`.
    pub action: String,
    /// What it acted on (a global ID, a code).
    pub target: String,
    pub reason: Option<String>,
    /// The action's arguments and outcome, as JSON.
    pub details: String,
    pub created_at: Micros,
}

#[derive(Clone)]
pub struct AuditLog {
    db: DatabaseConnection,
}

impl AuditLog {
    pub fn new(db: DatabaseConnection) -> Self {
        AuditLog { db }
    }

    /// Writes one entry (after the action succeeded: a refused action changed nothing).
    pub async fn record(
        &self,
        action: &str,
        target: &str,
        reason: Option<&str>,
        details: serde_json::Value,
    ) -> Result<()> {
        repository::insert(&self.db, action, target, reason, &details.to_string(), now_micros()).await
    }

    /// Entries newest first, older than `before_id`; and whether more follow.
    pub async fn list(&self, before_id: Option<i64>, limit: usize) -> Result<(Vec<AuditEntry>, bool)> {
        let mut entries = repository::list(&self.db, before_id, limit as u64 + 1).await?;
        let more = entries.len() > limit;
        entries.truncate(limit);
        Ok((entries, more))
    }
}
