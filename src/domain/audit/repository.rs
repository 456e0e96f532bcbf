use sea_orm::ConnectionTrait;

use super::AuditEntry;
use crate::adapters::db::statement;
use crate::domain::{Result, time::Micros};

pub async fn insert(
    db: &impl ConnectionTrait,
    action: &str,
    target: &str,
    reason: Option<&str>,
    details: &str,
    now: Micros,
) -> Result<()> {
    let sql = "INSERT INTO admin_audit_log (action, target, reason, details, created_at) VALUES ($1, $2, $3, $4, $5)";
    let values = [action.into(), target.into(), reason.map(str::to_owned).into(), details.into(), now.into()];
    db.execute_raw(statement(db, sql, values)).await?;
    Ok(())
}

pub async fn list(db: &impl ConnectionTrait, before_id: Option<i64>, limit: u64) -> Result<Vec<AuditEntry>> {
    let sql = format!(
        "SELECT id, action, target, reason, details, created_at FROM admin_audit_log \
         WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT {limit}"
    );
    let rows = db.query_all_raw(statement(db, &sql, [before_id.into()])).await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get_by_index(0)?,
                action: r.try_get_by_index(1)?,
                target: r.try_get_by_index(2)?,
                reason: r.try_get_by_index(3)?,
                details: r.try_get_by_index(4)?,
                created_at: r.try_get_by_index(5)?,
            })
        })
        .collect()
}
