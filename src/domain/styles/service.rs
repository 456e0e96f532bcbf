use sea_orm::DatabaseConnection;

use super::catalog;
use super::model::{Category, CategoryInput, Template, TemplateInput};
use super::repository as repo;
use crate::domain::{Error, Result, time::now_micros};

#[derive(Clone)]
pub struct StyleService {
    db: DatabaseConnection,
    /// The ids of the models a template may name (those that need no avatar).
    models: Vec<String>,
    /// Where clients reach us (for the previews we draw).
    public_url: url::Url,
}

impl StyleService {
    pub fn new(db: DatabaseConnection, models: Vec<String>, public_url: url::Url) -> Self {
        StyleService { db, models, public_url }
    }

    /// The preview our server draws for a template with no picture of its own.
    pub fn drawn_preview_url(&self, slug: &str) -> String {
        self.public_url.join(&format!("styles/{slug}/preview.png")).map_or_else(|_| String::new(), String::from)
    }

    /// The prompt an active template makes of the user's subject.
    pub async fn fill(&self, template_id: i64, subject: &str) -> Result<(Template, String)> {
        let template = self.active_template(template_id).await?;
        let prompt = template.fill(subject)?;
        Ok((template, prompt))
    }

    /// Adds what the shipped catalogue has and the database does not, by slug: the operator's
    /// edits (and switched-off templates) stay as they are. Run at start, on every instance
    /// (the inserts are idempotent).
    pub async fn seed(&self) -> Result<usize> {
        let shipped = catalog::shipped()?;
        let now = now_micros();
        let mut added = 0;
        for category in &shipped.categories {
            category.check()?;
            added += usize::from(repo::put_category(&self.db, category, false, now).await?.is_some());
        }
        for template in &shipped.templates {
            let ratio = template.check()?;
            self.check_model(&template.model)?;
            let category = repo::category_by_slug(&self.db, &template.category).await?.ok_or_else(|| {
                Error::internal(format!("template {}: no category {}", template.slug, template.category))
            })?;
            added +=
                usize::from(repo::put_template(&self.db, template, category.id, ratio, false, now).await?.is_some());
        }
        Ok(added)
    }

    fn check_model(&self, model: &str) -> Result<()> {
        if self.models.iter().any(|m| m == model) {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "unknown model {model:?} for a template (one of `models` that needs no avatar)"
            )))
        }
    }

    pub async fn categories(&self, include_inactive: bool) -> Result<Vec<Category>> {
        repo::categories(&self.db, include_inactive).await
    }

    pub async fn templates(&self, category_id: Option<i64>, include_inactive: bool) -> Result<Vec<Template>> {
        repo::templates(&self.db, category_id, include_inactive).await
    }

    /// An active template, for a user to create with.
    pub async fn active_template(&self, id: i64) -> Result<Template> {
        let template = repo::template(&self.db, id).await?.filter(|t| t.active);
        template.ok_or(Error::NotFound("style template"))
    }

    /// Any template by slug (the preview route).
    pub async fn template_by_slug(&self, slug: &str) -> Result<Option<Template>> {
        repo::template_by_slug(&self.db, slug).await
    }

    pub async fn favorites(&self, user_id: i64) -> Result<Vec<i64>> {
        repo::favorites(&self.db, user_id).await
    }

    /// Marks (or unmarks) an active template as one of the user's favourites.
    pub async fn set_favorite(&self, user_id: i64, template_id: i64, favorite: bool) -> Result<Template> {
        let template = self.active_template(template_id).await?;
        match favorite {
            true => repo::set_favorite(&self.db, user_id, template.id, now_micros()).await?,
            false => repo::unset_favorite(&self.db, user_id, template.id).await?,
        }
        Ok(template)
    }

    /// The operator writes a category: a new slug adds one, a known one is overwritten.
    pub async fn put_category(&self, input: CategoryInput) -> Result<Category> {
        input.check()?;
        let stored = repo::put_category(&self.db, &input, true, now_micros()).await?;
        stored.ok_or_else(|| Error::internal("an upsert returned no row"))
    }

    /// The operator writes a template, in a category named by slug.
    pub async fn put_template(&self, input: TemplateInput) -> Result<Template> {
        let ratio = input.check()?;
        self.check_model(&input.model)?;
        let category = repo::category_by_slug(&self.db, &input.category)
            .await?
            .ok_or_else(|| Error::invalid(format!("no style category {:?}", input.category)))?;
        let stored = repo::put_template(&self.db, &input, category.id, ratio, true, now_micros()).await?;
        stored.ok_or_else(|| Error::internal("an upsert returned no row"))
    }
}
