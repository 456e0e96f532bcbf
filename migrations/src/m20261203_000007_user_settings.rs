//! User settings: the defaults of a new picture, quick mode and technical details. A user
//! without a row has the defaults. The language stays in `users.language_code`; once the user
//! chose one (`language_chosen`), Telegram's no longer replaces it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE user_settings (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    default_aspect_ratio TEXT NOT NULL,
    default_num_images INTEGER NOT NULL CHECK (default_num_images BETWEEN 1 AND 4),
    quick_mode BOOLEAN NOT NULL,
    quick_mode_max_price BIGINT NOT NULL CHECK (quick_mode_max_price > 0),
    show_technical_details BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);
ALTER TABLE users ADD COLUMN language_chosen BOOLEAN NOT NULL DEFAULT FALSE
"#;

const DOWN: &str = r#"
ALTER TABLE users DROP COLUMN language_chosen;
DROP TABLE user_settings
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
