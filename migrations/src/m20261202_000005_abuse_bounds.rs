//! Abuse bounds: bearer tokens expire (`expires_at`, renewed on use); tokens issued before this
//! migration get 90 days from their creation.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE auth_tokens ADD COLUMN expires_at BIGINT;
UPDATE auth_tokens SET expires_at = created_at + 7776000000000;
CREATE INDEX auth_tokens_live ON auth_tokens (user_id, created_at) WHERE revoked_at IS NULL
"#;

const DOWN: &str = r#"
DROP INDEX auth_tokens_live;
ALTER TABLE auth_tokens DROP COLUMN expires_at
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await
    }
}
