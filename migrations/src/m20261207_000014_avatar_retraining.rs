//! Retraining a `READY` avatar: it stays `READY` (its old weights in use) while `retraining`,
//! and the new weights replace the old ones only when the new training succeeds.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE avatars ADD COLUMN retraining BOOLEAN NOT NULL DEFAULT FALSE
"#;

const DOWN: &str = r#"
ALTER TABLE avatars DROP COLUMN retraining
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
