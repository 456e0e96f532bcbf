//! Case-insensitive prompt search that behaves the same on SQLite and PostgreSQL: SQLite's
//! `LOWER` folds ASCII only, so the server stores each prompt folded (Unicode-aware, in Rust)
//! and searches that column with `LIKE`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("ALTER TABLE images ADD COLUMN prompt_folded TEXT NOT NULL DEFAULT ''").await?;
        conn.execute_unprepared("UPDATE images SET prompt_folded = LOWER(prompt)").await?;
        conn.execute_unprepared("CREATE INDEX images_kind ON images (user_id, kind, created_at, id)").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("DROP INDEX images_kind").await?;
        conn.execute_unprepared("ALTER TABLE images DROP COLUMN prompt_folded").await?;
        Ok(())
    }
}
