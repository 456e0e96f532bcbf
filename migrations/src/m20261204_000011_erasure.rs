//! Erased accounts: a user who deleted their account keeps only a row with no personal data, so
//! that the ledger and payments the law asks us to keep still have an owner; `erased_at` says
//! when.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE users ADD COLUMN erased_at BIGINT
"#;

const DOWN: &str = r#"
ALTER TABLE users DROP COLUMN erased_at
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
