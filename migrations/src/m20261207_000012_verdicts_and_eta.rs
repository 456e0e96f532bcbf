//! Moderation verdicts and ETAs: a generation counts the pictures the model's safety filter
//! blocked (they are never stored), an image keeps the verdict the model gave it, and a queued
//! job keeps the queue position the provider last reported. An index finds a model's latest
//! generations, whose durations the ETA is taken from.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE generations ADD COLUMN blocked_images INTEGER NOT NULL DEFAULT 0;
ALTER TABLE generations ADD COLUMN queue_position INTEGER;
ALTER TABLE images ADD COLUMN moderation TEXT;
CREATE INDEX generations_model_recent ON generations (model, id)
"#;

const DOWN: &str = r#"
DROP INDEX generations_model_recent;
ALTER TABLE images DROP COLUMN moderation;
ALTER TABLE generations DROP COLUMN queue_position;
ALTER TABLE generations DROP COLUMN blocked_images
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
