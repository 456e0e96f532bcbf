//! The operator's console: users can be blocked (with a reason), and every admin action is
//! written to an audit log that the database itself keeps append-only (a trigger refuses any
//! UPDATE or DELETE of it).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE users ADD COLUMN blocked_at BIGINT;
ALTER TABLE users ADD COLUMN blocked_reason TEXT;
CREATE INDEX users_username ON users (username);
CREATE TABLE admin_audit_log (
    id {pk},
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT,
    details TEXT NOT NULL,
    created_at BIGINT NOT NULL
)
"#;

/// The append-only trigger, in each backend's dialect (one statement per line end).
const APPEND_ONLY_POSTGRES: &str = "CREATE FUNCTION admin_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS \
    $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER admin_audit_log_append_only BEFORE UPDATE OR DELETE ON admin_audit_log \
    FOR EACH ROW EXECUTE FUNCTION admin_audit_log_append_only()";
const APPEND_ONLY_SQLITE: &str = "CREATE TRIGGER admin_audit_log_no_update BEFORE UPDATE ON admin_audit_log \
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER admin_audit_log_no_delete BEFORE DELETE ON admin_audit_log \
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END";

const DOWN: &str = r#"
DROP TABLE admin_audit_log;
DROP INDEX users_username;
ALTER TABLE users DROP COLUMN blocked_reason;
ALTER TABLE users DROP COLUMN blocked_at
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await?;
        let append_only = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => APPEND_ONLY_POSTGRES,
            _ => APPEND_ONLY_SQLITE,
        };
        crate::run_script(manager, append_only).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await?;
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            crate::run_script(manager, "DROP FUNCTION admin_audit_log_append_only()").await?;
        }
        Ok(())
    }
}
