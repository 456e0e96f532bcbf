//! Videos: a generation may animate one of the user's images (`source_image_id`); a stored
//! clip has a length and a poster frame (the picture it was animated from).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE generations ADD COLUMN source_image_id BIGINT;
ALTER TABLE images ADD COLUMN duration_ms INTEGER;
ALTER TABLE images ADD COLUMN poster_key TEXT
"#;

const DOWN: &str = r#"
ALTER TABLE images DROP COLUMN poster_key;
ALTER TABLE images DROP COLUMN duration_ms;
ALTER TABLE generations DROP COLUMN source_image_id
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
