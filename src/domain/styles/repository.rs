//! The SQL of style templates and favourites.

use sea_orm::{ConnectionTrait, QueryResult};

use super::model::{Category, CategoryInput, Template, TemplateInput};
use crate::adapters::db::statement;
use crate::domain::generations::AspectRatio;
use crate::domain::{Error, Result, time::Micros};

const CATEGORY_COLUMNS: &str = "id, slug, name_en, name_ru, icon, sort_order, active";
const TEMPLATE_COLUMNS: &str = "id, slug, category_id, name_en, name_ru, icon, prompt, model, aspect_ratio, \
                                preview_url, sort_order, active, updated_at";

/// Inserts the category, or (when `overwrite`) writes over the one with its slug; with
/// `overwrite` false an existing one is left as it is. The category as stored.
pub async fn put_category(
    db: &impl ConnectionTrait,
    c: &CategoryInput,
    overwrite: bool,
    now: Micros,
) -> Result<Option<Category>> {
    let on_conflict = if overwrite {
        "DO UPDATE SET name_en = excluded.name_en, name_ru = excluded.name_ru, icon = excluded.icon, \
         sort_order = excluded.sort_order, active = excluded.active, updated_at = excluded.updated_at"
    } else {
        "DO NOTHING"
    };
    let sql = format!(
        "INSERT INTO style_categories (slug, name_en, name_ru, icon, sort_order, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (slug) {on_conflict} RETURNING {CATEGORY_COLUMNS}"
    );
    let values = [
        c.slug.clone().into(),
        c.name_en.trim().into(),
        c.name_ru.trim().into(),
        c.icon.trim().into(),
        c.sort_order.into(),
        c.active.into(),
        now.into(),
    ];
    db.query_one_raw(statement(db, &sql, values)).await?.map(|row| to_category(&row)).transpose()
}

/// As [`put_category`], for a template of the category `category_id`.
pub async fn put_template(
    db: &impl ConnectionTrait,
    t: &TemplateInput,
    category_id: i64,
    ratio: AspectRatio,
    overwrite: bool,
    now: Micros,
) -> Result<Option<Template>> {
    let on_conflict = if overwrite {
        "DO UPDATE SET category_id = excluded.category_id, name_en = excluded.name_en, name_ru = excluded.name_ru, \
         icon = excluded.icon, prompt = excluded.prompt, model = excluded.model, aspect_ratio = excluded.aspect_ratio, \
         preview_url = excluded.preview_url, sort_order = excluded.sort_order, active = excluded.active, \
         updated_at = excluded.updated_at"
    } else {
        "DO NOTHING"
    };
    let sql = format!(
        "INSERT INTO style_templates (slug, category_id, name_en, name_ru, icon, prompt, model, aspect_ratio, \
         preview_url, sort_order, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) ON CONFLICT (slug) {on_conflict} \
         RETURNING {TEMPLATE_COLUMNS}"
    );
    let values = [
        t.slug.clone().into(),
        category_id.into(),
        t.name_en.trim().into(),
        t.name_ru.trim().into(),
        t.icon.trim().into(),
        t.prompt.trim().into(),
        t.model.clone().into(),
        ratio.as_str().into(),
        t.preview_url.clone().into(),
        t.sort_order.into(),
        t.active.into(),
        now.into(),
    ];
    db.query_one_raw(statement(db, &sql, values)).await?.map(|row| to_template(&row)).transpose()
}

pub async fn category_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<Category>> {
    let sql = format!("SELECT {CATEGORY_COLUMNS} FROM style_categories WHERE slug = $1");
    db.query_one_raw(statement(db, &sql, [slug.into()])).await?.map(|row| to_category(&row)).transpose()
}

pub async fn categories(db: &impl ConnectionTrait, include_inactive: bool) -> Result<Vec<Category>> {
    let sql = format!("SELECT {CATEGORY_COLUMNS} FROM style_categories WHERE active OR $1 ORDER BY sort_order, id");
    let rows = db.query_all_raw(statement(db, &sql, [include_inactive.into()])).await?;
    rows.iter().map(to_category).collect()
}

/// Templates in catalogue order: of one category, or all; inactive ones (and those of inactive
/// categories) only when asked.
pub async fn templates(
    db: &impl ConnectionTrait,
    category_id: Option<i64>,
    include_inactive: bool,
) -> Result<Vec<Template>> {
    let columns = TEMPLATE_COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {columns} FROM style_templates t JOIN style_categories c ON c.id = t.category_id \
         WHERE ($1 IS NULL OR t.category_id = $1) AND ((t.active AND c.active) OR $2) \
         ORDER BY c.sort_order, c.id, t.sort_order, t.id"
    );
    let rows = db.query_all_raw(statement(db, &sql, [category_id.into(), include_inactive.into()])).await?;
    rows.iter().map(to_template).collect()
}

pub async fn template(db: &impl ConnectionTrait, id: i64) -> Result<Option<Template>> {
    let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM style_templates WHERE id = $1");
    db.query_one_raw(statement(db, &sql, [id.into()])).await?.map(|row| to_template(&row)).transpose()
}

pub async fn template_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<Template>> {
    let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM style_templates WHERE slug = $1");
    db.query_one_raw(statement(db, &sql, [slug.into()])).await?.map(|row| to_template(&row)).transpose()
}

/// The user's favourite template ids, newest first.
pub async fn favorites(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<i64>> {
    let sql = "SELECT template_id FROM style_favorites WHERE user_id = $1 ORDER BY created_at DESC, template_id";
    let rows = db.query_all_raw(statement(db, sql, [user_id.into()])).await?;
    Ok(rows.iter().map(|r| r.try_get_by_index::<i64>(0)).collect::<std::result::Result<_, _>>()?)
}

pub async fn set_favorite(db: &impl ConnectionTrait, user_id: i64, template_id: i64, now: Micros) -> Result<()> {
    let sql = "INSERT INTO style_favorites (user_id, template_id, created_at) VALUES ($1, $2, $3) \
               ON CONFLICT (user_id, template_id) DO NOTHING";
    db.execute_raw(statement(db, sql, [user_id.into(), template_id.into(), now.into()])).await?;
    Ok(())
}

pub async fn unset_favorite(db: &impl ConnectionTrait, user_id: i64, template_id: i64) -> Result<()> {
    let sql = "DELETE FROM style_favorites WHERE user_id = $1 AND template_id = $2";
    db.execute_raw(statement(db, sql, [user_id.into(), template_id.into()])).await?;
    Ok(())
}

fn to_category(row: &QueryResult) -> Result<Category> {
    Ok(Category {
        id: row.try_get_by_index(0)?,
        slug: row.try_get_by_index(1)?,
        name_en: row.try_get_by_index(2)?,
        name_ru: row.try_get_by_index(3)?,
        icon: row.try_get_by_index(4)?,
        sort_order: row.try_get_by_index(5)?,
        active: row.try_get_by_index(6)?,
    })
}

fn to_template(row: &QueryResult) -> Result<Template> {
    let ratio: String = row.try_get_by_index(8)?;
    Ok(Template {
        id: row.try_get_by_index(0)?,
        slug: row.try_get_by_index(1)?,
        category_id: row.try_get_by_index(2)?,
        name_en: row.try_get_by_index(3)?,
        name_ru: row.try_get_by_index(4)?,
        icon: row.try_get_by_index(5)?,
        prompt: row.try_get_by_index(6)?,
        model: row.try_get_by_index(7)?,
        aspect_ratio: AspectRatio::parse(&ratio).map_err(|_| Error::internal(format!("template ratio {ratio:?}")))?,
        preview_url: row.try_get_by_index(9)?,
        sort_order: row.try_get_by_index(10)?,
        active: row.try_get_by_index(11)?,
        updated_at: row.try_get_by_index(12)?,
    })
}
