//! Analytics events: what a user did that the funnel counts (arrived with a source, signed in,
//! first generation, top-up, referral reward), written in the transaction of the act itself.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE analytics_events (
    id {pk},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    source TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX analytics_events_kind ON analytics_events (kind, created_at);
CREATE INDEX analytics_events_user ON analytics_events (user_id, kind)
"#;

const DOWN: &str = "DROP TABLE analytics_events";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await
    }
}
