//! Style templates: the catalogue users pick from, their favourites, and the operator's edits.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};

use super::context::{current_user, require_admin, services};
use super::ids::{Kind, decode_as, encode};
use crate::domain::{
    Result,
    styles::{self, CategoryInput, TemplateInput},
    time::to_datetime,
};

#[derive(Default)]
pub struct StyleQuery;

#[Object]
impl StyleQuery {
    /// The active categories, in catalogue order.
    async fn style_categories(&self, ctx: &Context<'_>) -> Result<Vec<StyleCategory>> {
        current_user(ctx).await?;
        let categories = services(ctx).styles.categories(false).await?;
        Ok(categories.into_iter().map(StyleCategory).collect())
    }

    /// The active templates of a category, or all of them when no category is given, in
    /// catalogue order, each saying whether it is one of your favourites.
    async fn style_templates(&self, ctx: &Context<'_>, category_id: Option<ID>) -> Result<Vec<StyleTemplate>> {
        let user = current_user(ctx).await?;
        let category =
            category_id.as_ref().map(|id| decode_as(id, Kind::StyleCategory, "style category")).transpose()?;
        templates(ctx, user, services(ctx).styles.templates(category, false).await?).await
    }

    /// One active template.
    async fn style_template(&self, ctx: &Context<'_>, id: ID) -> Result<StyleTemplate> {
        let user = current_user(ctx).await?;
        let id = decode_as(&id, Kind::StyleTemplate, "style template")?;
        let styles = &services(ctx).styles;
        let template = styles.active_template(id).await?;
        let favorite = styles.favorites(user).await?.contains(&template.id);
        Ok(StyleTemplate { template, favorite })
    }

    /// Your favourite templates (active ones), newest favourite first.
    async fn favorite_style_templates(&self, ctx: &Context<'_>) -> Result<Vec<StyleTemplate>> {
        let user = current_user(ctx).await?;
        let styles = &services(ctx).styles;
        let all = styles.templates(None, false).await?;
        let favorites = styles.favorites(user).await?;
        Ok(favorites
            .iter()
            .filter_map(|id| all.iter().find(|t| t.id == *id))
            .map(|t| StyleTemplate { template: t.clone(), favorite: true })
            .collect())
    }

    /// Admin only: every category, switched off or not.
    async fn admin_style_categories(&self, ctx: &Context<'_>) -> Result<Vec<StyleCategory>> {
        require_admin(ctx).await?;
        Ok(services(ctx).styles.categories(true).await?.into_iter().map(StyleCategory).collect())
    }

    /// Admin only: every template, switched off or not.
    async fn admin_style_templates(&self, ctx: &Context<'_>) -> Result<Vec<StyleTemplate>> {
        require_admin(ctx).await?;
        let all = services(ctx).styles.templates(None, true).await?;
        Ok(all.into_iter().map(|template| StyleTemplate { template, favorite: false }).collect())
    }
}

/// The templates with the user's favourites marked.
async fn templates(ctx: &Context<'_>, user: i64, list: Vec<styles::Template>) -> Result<Vec<StyleTemplate>> {
    let favorites = services(ctx).styles.favorites(user).await?;
    Ok(list
        .into_iter()
        .map(|template| {
            let favorite = favorites.contains(&template.id);
            StyleTemplate { template, favorite }
        })
        .collect())
}

#[derive(Default)]
pub struct StyleMutation;

#[Object]
impl StyleMutation {
    /// Marks an active template as one of your favourites, or unmarks it.
    async fn set_style_template_favorite(
        &self,
        ctx: &Context<'_>,
        template_id: ID,
        favorite: bool,
    ) -> Result<StyleTemplate> {
        let user = current_user(ctx).await?;
        let id = decode_as(&template_id, Kind::StyleTemplate, "style template")?;
        let template = services(ctx).styles.set_favorite(user, id, favorite).await?;
        Ok(StyleTemplate { template, favorite })
    }

    /// Admin only: writes a category, by slug (a new slug adds one).
    async fn admin_put_style_category(&self, ctx: &Context<'_>, input: StyleCategoryInput) -> Result<StyleCategory> {
        require_admin(ctx).await?;
        let input = CategoryInput {
            slug: input.slug,
            name_en: input.name_en,
            name_ru: input.name_ru,
            icon: input.icon,
            sort_order: input.sort_order,
            active: input.active,
        };
        let category = services(ctx).styles.put_category(input).await?;
        let details = serde_json::json!({ "active": category.active, "nameEn": category.name_en });
        super::console::audit(ctx, "adminPutStyleCategory", &category.slug, None, details).await?;
        Ok(StyleCategory(category))
    }

    /// Admin only: writes a template, by slug (a new slug adds one). Its prompt holds
    /// `{subject}` once; its model is one of `models` that needs no avatar. `active: false`
    /// takes it off the catalogue (favourites and past generations keep it).
    async fn admin_put_style_template(&self, ctx: &Context<'_>, input: StyleTemplateInput) -> Result<StyleTemplate> {
        require_admin(ctx).await?;
        let input = TemplateInput {
            slug: input.slug,
            category: input.category_slug,
            name_en: input.name_en,
            name_ru: input.name_ru,
            icon: input.icon,
            prompt: input.prompt,
            model: input.model,
            aspect_ratio: input.aspect_ratio,
            preview_url: input.preview_url,
            sort_order: input.sort_order,
            active: input.active,
        };
        let template = services(ctx).styles.put_template(input).await?;
        let details = serde_json::json!({
            "active": template.active, "model": template.model, "prompt": template.prompt,
        });
        super::console::audit(ctx, "adminPutStyleTemplate", &template.slug, None, details).await?;
        Ok(StyleTemplate { template, favorite: false })
    }
}

#[derive(InputObject)]
pub struct StyleCategoryInput {
    /// `a-z`, `0-9` and `-`; names the category for good.
    pub slug: String,
    pub name_en: String,
    pub name_ru: String,
    pub icon: String,
    #[graphql(default)]
    pub sort_order: i32,
    #[graphql(default = true)]
    pub active: bool,
}

#[derive(InputObject)]
pub struct StyleTemplateInput {
    pub slug: String,
    pub category_slug: String,
    pub name_en: String,
    pub name_ru: String,
    pub icon: String,
    /// With `{subject}` exactly once.
    pub prompt: String,
    pub model: String,
    /// `1:1`, `16:9`, `9:16`, `3:4` or `4:3`.
    pub aspect_ratio: String,
    /// A picture of the style; without one our server draws a placeholder.
    pub preview_url: Option<String>,
    #[graphql(default)]
    pub sort_order: i32,
    #[graphql(default = true)]
    pub active: bool,
}

pub struct StyleCategory(styles::Category);

#[Object]
impl StyleCategory {
    async fn id(&self) -> ID {
        encode(Kind::StyleCategory, self.0.id)
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    async fn name_ru(&self) -> &str {
        &self.0.name_ru
    }
    async fn icon(&self) -> &str {
        &self.0.icon
    }
    async fn sort_order(&self) -> i32 {
        self.0.sort_order
    }
    async fn active(&self) -> bool {
        self.0.active
    }
}

pub struct StyleTemplate {
    template: styles::Template,
    favorite: bool,
}

#[Object]
impl StyleTemplate {
    async fn id(&self) -> ID {
        encode(Kind::StyleTemplate, self.template.id)
    }
    async fn slug(&self) -> &str {
        &self.template.slug
    }
    async fn category_id(&self) -> ID {
        encode(Kind::StyleCategory, self.template.category_id)
    }
    async fn name_en(&self) -> &str {
        &self.template.name_en
    }
    async fn name_ru(&self) -> &str {
        &self.template.name_ru
    }
    async fn icon(&self) -> &str {
        &self.template.icon
    }
    /// The prompt, with `{subject}` where yours goes.
    async fn prompt(&self) -> &str {
        &self.template.prompt
    }
    /// The model it suits (what `createGeneration` uses when given no `model`).
    async fn model(&self) -> &str {
        &self.template.model
    }
    /// The aspect ratio it suits (the default of `createGeneration` with it).
    async fn aspect_ratio(&self) -> &str {
        self.template.aspect_ratio.as_str()
    }
    /// A picture of the style: the operator's, or one our server draws.
    async fn preview_url(&self, ctx: &Context<'_>) -> String {
        match &self.template.preview_url {
            Some(url) => url.clone(),
            None => services(ctx).styles.drawn_preview_url(&self.template.slug),
        }
    }
    async fn sort_order(&self) -> i32 {
        self.template.sort_order
    }
    async fn active(&self) -> bool {
        self.template.active
    }
    /// One of your favourites.
    async fn favorite(&self) -> bool {
        self.favorite
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        to_datetime(self.template.updated_at)
    }
}
