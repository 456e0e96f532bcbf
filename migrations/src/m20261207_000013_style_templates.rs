//! Style templates: categories of templates (a prompt with a `{subject}` placeholder, the model
//! and aspect ratio it suits, a preview), seeded from the catalogue file shipped with the product
//! and edited by the operator; and each user's favourite templates. A generation remembers the
//! template it was made from and what the user wrote (`original_prompt`: a template's subject, or
//! a prompt before it was translated or enhanced).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE style_categories (
    id {pk},
    slug TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    icon TEXT NOT NULL,
    sort_order INTEGER NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE style_templates (
    id {pk},
    slug TEXT NOT NULL UNIQUE,
    category_id BIGINT NOT NULL REFERENCES style_categories(id),
    name_en TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    icon TEXT NOT NULL,
    prompt TEXT NOT NULL,
    model TEXT NOT NULL,
    aspect_ratio TEXT NOT NULL,
    preview_url TEXT,
    sort_order INTEGER NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX style_templates_category ON style_templates (category_id, sort_order);
CREATE TABLE style_favorites (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    template_id BIGINT NOT NULL REFERENCES style_templates(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, template_id)
);
ALTER TABLE generations ADD COLUMN template_id BIGINT REFERENCES style_templates(id);
ALTER TABLE generations ADD COLUMN original_prompt TEXT
"#;

const DOWN: &str = r#"
ALTER TABLE generations DROP COLUMN original_prompt;
ALTER TABLE generations DROP COLUMN template_id;
DROP TABLE style_favorites;
DROP TABLE style_templates;
DROP TABLE style_categories
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
