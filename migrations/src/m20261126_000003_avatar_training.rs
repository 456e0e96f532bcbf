//! Avatar trainings run on the generation job machinery: a job row is either an image
//! generation or a training (`purpose`), and an avatar points at its latest training job.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("ALTER TABLE generations ADD COLUMN purpose TEXT NOT NULL DEFAULT 'IMAGE'").await?;
        conn.execute_unprepared("ALTER TABLE avatars ADD COLUMN training_job_id BIGINT").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("ALTER TABLE avatars DROP COLUMN training_job_id").await?;
        conn.execute_unprepared("ALTER TABLE generations DROP COLUMN purpose").await?;
        Ok(())
    }
}
