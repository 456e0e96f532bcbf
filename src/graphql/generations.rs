//! Models, generations and their images: creating, cancelling, reading and following them.

use super::pagination::{ROW_COST, page_cost};
use async_graphql::{
    Context, Enum, ID, InputObject, Object, SimpleObject, Subscription,
    connection::{Connection, Edge},
};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

use super::context::{current_user, services};
use super::ids::{Kind, decode_as, encode};
use super::images::{Image, ImageType};
use super::pagination::{decode_id_cursor, id_cursor, page_request};
use crate::domain::{
    self, Result,
    credits::IdempotencyKey,
    generations::{AspectRatio, GenerationStatus, ModelSpec, NewGeneration, Prompt},
    time::to_datetime,
};

#[derive(Default)]
pub struct GenerationQuery;

#[Object]
impl GenerationQuery {
    /// The models on offer, with their prices in credits per image.
    async fn models(&self, ctx: &Context<'_>) -> Vec<AiModel> {
        services(ctx).generations.models().iter().cloned().map(AiModel).collect()
    }

    /// What `numImages` images of `model` would cost the signed-in user now: the catalogue's
    /// price, a waiting promo discount taken off, the balance after, and whether a client should
    /// ask before creating (the user's quick mode). `createGeneration` charges `toPay`, unless
    /// the balance or the discount changes in between.
    async fn quote(&self, ctx: &Context<'_>, model: String, num_images: i32) -> Result<PriceQuote> {
        let user = current_user(ctx).await?;
        let quote = services(ctx).generations.quote(user, &model, i64::from(num_images)).await?;
        Ok(PriceQuote {
            price: quote.price,
            discount_percent: quote.discount_percent,
            to_pay: quote.to_pay,
            balance_after: quote.balance_after,
            needs_confirmation: quote.needs_confirmation,
        })
    }

    /// One of your generations.
    #[graphql(complexity = "ROW_COST + child_complexity")]
    async fn generation(&self, ctx: &Context<'_>, id: ID) -> Result<Generation> {
        let user = current_user(ctx).await?;
        let id = decode_as(&id, Kind::Generation, "generation")?;
        Ok(Generation(services(ctx).generations.get(user, id).await?))
    }

    /// Your generations, newest first (Relay connection; `first`/`after` forwards, `last`/`before`
    /// backwards).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn generations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        status: Option<GenerationState>,
    ) -> Result<Connection<String, Generation, GenerationsTotal>> {
        let user = current_user(ctx).await?;
        let request = page_request(ctx, (first, after), (last, before), |c| decode_id_cursor("gen", c))?;
        let status = status.map(GenerationStatus::from);
        let page = services(ctx).generations.list(user, status, request).await?;
        let total = GenerationsTotal { user, status };
        let mut connection = Connection::with_additional_fields(page.has_previous, page.has_next, total);
        connection.edges.extend(page.items.into_iter().map(|g| Edge::new(id_cursor("gen", g.id), Generation(g))));
        Ok(connection)
    }
}

pub struct GenerationsTotal {
    user: i64,
    status: Option<GenerationStatus>,
}

#[Object]
impl GenerationsTotal {
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        services(ctx).generations.count(self.user, self.status).await
    }
}

#[derive(InputObject)]
pub struct CreateGenerationInput {
    /// A model id from `models`, e.g. `fal-ai/imagen4/preview`; with a template, the
    /// template's model by default.
    pub model: Option<String>,
    /// 1–2000 characters; with a template, give `subject` instead.
    pub prompt: Option<String>,
    /// A style template from `styleTemplates`: its prompt is filled with `subject`.
    pub template_id: Option<ID>,
    /// What the picture is of, for a template's `{subject}` (1–500 characters).
    pub subject: Option<String>,
    /// Your own words when `prompt` is a suggestion of `enhancePrompt`: both are kept.
    pub original_prompt: Option<String>,
    /// `1:1` (default, or the template's), `16:9`, `9:16`, `3:4` or `4:3`.
    pub aspect_ratio: Option<String>,
    /// 1–4 (default 1).
    pub num_images: Option<i32>,
    pub seed: Option<i64>,
    /// Generate with one of your trained avatars (for a model that needs one: your main avatar
    /// when none is given).
    pub avatar_id: Option<ID>,
    /// The same key returns the same generation and charges once.
    pub idempotency_key: Option<String>,
}

#[derive(Default)]
pub struct GenerationMutation;

#[Object]
impl GenerationMutation {
    /// Starts a generation: reserves its price (`INSUFFICIENT_CREDITS` otherwise) and returns
    /// it at once, `PENDING` (or `QUEUED` behind your other jobs in flight: a user has a few at
    /// once, the rest wait their turn). Follow it with `generationUpdated`.
    async fn create_generation(&self, ctx: &Context<'_>, input: CreateGenerationInput) -> Result<Generation> {
        let user = current_user(ctx).await?;
        let num_images = input.num_images.unwrap_or(1);
        let (template, prompt) = match (&input.template_id, input.subject.as_deref(), input.prompt.as_deref()) {
            (Some(id), Some(subject), None) => {
                let id = decode_as(id, Kind::StyleTemplate, "style template")?;
                let (template, prompt) = services(ctx).styles.fill(id, subject).await?;
                (Some(template), prompt)
            }
            (None, None, Some(prompt)) => (None, prompt.to_owned()),
            _ => return Err(domain::Error::invalid("give a prompt, or a templateId with a subject")),
        };
        let aspect_ratio = match (input.aspect_ratio.as_deref(), &template) {
            (Some(ratio), _) => AspectRatio::parse(ratio)?,
            (None, Some(template)) => template.aspect_ratio,
            (None, None) => AspectRatio::Square,
        };
        let model = match (input.model, &template) {
            (Some(model), _) => model,
            (None, Some(template)) => template.model.clone(),
            (None, None) => return Err(domain::Error::invalid("model is required without a template")),
        };
        let request = NewGeneration {
            model,
            prompt: Prompt::parse(&prompt)?,
            aspect_ratio,
            num_images: u8::try_from(num_images).map_err(|_| domain::Error::invalid("numImages must be 1-4"))?,
            seed: input.seed,
            avatar_id: input.avatar_id.as_ref().map(|id| decode_as(id, Kind::Avatar, "avatar")).transpose()?,
            idempotency_key: input.idempotency_key.as_deref().map(IdempotencyKey::parse).transpose()?,
            template_id: template.as_ref().map(|t| t.id),
            original_prompt: match &template {
                Some(_) => input.subject.map(|s| s.trim().to_owned()),
                None => input.original_prompt.as_deref().map(Prompt::parse).transpose()?.map(|p| p.as_str().to_owned()),
            },
            // A clip is made by `animateImage`.
            source_image_id: None,
        };
        Ok(Generation(services(ctx).generations.create(user, request).await?))
    }

    /// A new generation with the parameters of one of yours (model, format, count, avatar): the
    /// same seed (the default; `Generation.seed` is always set) or a new one, and the same
    /// prompt or `prompt`. The original is never changed; the new one is charged as any other.
    async fn regenerate(
        &self,
        ctx: &Context<'_>,
        generation_id: ID,
        #[graphql(default = true)] same_seed: bool,
        prompt: Option<String>,
        idempotency_key: Option<String>,
    ) -> Result<Generation> {
        let user = current_user(ctx).await?;
        let id = decode_as(&generation_id, Kind::Generation, "generation")?;
        let prompt = prompt.as_deref().map(Prompt::parse).transpose()?;
        let key = idempotency_key.as_deref().map(IdempotencyKey::parse).transpose()?;
        Ok(Generation(services(ctx).generations.regenerate(user, id, same_seed, prompt, key).await?))
    }

    /// `count` (1-4) new pictures like one of your images, each its own generation with a new
    /// seed, each charged: `INSUFFICIENT_CREDITS` when the balance cannot pay for all of them.
    async fn variations(
        &self,
        ctx: &Context<'_>,
        image_id: ID,
        #[graphql(default = 3)] count: i32,
        idempotency_key: Option<String>,
    ) -> Result<Vec<Generation>> {
        let user = current_user(ctx).await?;
        let id = decode_as(&image_id, Kind::Image, "image")?;
        let count = u8::try_from(count).map_err(|_| domain::Error::invalid("count must be 1-4"))?;
        let key = idempotency_key.as_deref().map(IdempotencyKey::parse).transpose()?;
        let made = services(ctx).generations.variations(user, id, count, key).await?;
        Ok(made.into_iter().map(Generation).collect())
    }

    /// A short clip of one of your pictures (not of a clip): `prompt` says what should move (the
    /// picture's own prompt if not given), `model` a video model of `models` (the first one if
    /// not given). Charged per clip, reserved now like any generation; follow it with
    /// `generationUpdated`. Its one `Image` is of type `VIDEO`, with `durationMs` and `posterUrl`.
    async fn animate_image(
        &self,
        ctx: &Context<'_>,
        image_id: ID,
        prompt: Option<String>,
        model: Option<String>,
        idempotency_key: Option<String>,
    ) -> Result<Generation> {
        let user = current_user(ctx).await?;
        let id = decode_as(&image_id, Kind::Image, "image")?;
        let prompt = prompt.as_deref().map(Prompt::parse).transpose()?;
        let key = idempotency_key.as_deref().map(IdempotencyKey::parse).transpose()?;
        let generations = &services(ctx).generations;
        Ok(Generation(generations.animate(user, id, model.as_deref(), prompt, key).await?))
    }

    /// An enhanced version of `prompt` (English, with setting, composition, light and lens
    /// added), for you to look at: nothing uses it unless you create with it (pass your own
    /// words as `originalPrompt` to keep both). Free; it spends the `paid` rate budget.
    /// `UNAVAILABLE` when the language model cannot answer now.
    async fn enhance_prompt(&self, ctx: &Context<'_>, prompt: String) -> Result<PromptSuggestion> {
        let user = current_user(ctx).await?;
        let original = Prompt::parse(&prompt)?;
        let enhanced = services(ctx).generations.enhance(user, &original).await?;
        Ok(PromptSuggestion { original: original.as_str().to_owned(), enhanced: enhanced.as_str().to_owned() })
    }

    /// Cancels a generation that has not finished, refunding it; a finished one is returned as it is.
    async fn cancel_generation(&self, ctx: &Context<'_>, id: ID) -> Result<Generation> {
        let user = current_user(ctx).await?;
        let id = decode_as(&id, Kind::Generation, "generation")?;
        Ok(Generation(services(ctx).generations.cancel(user, id).await?))
    }
}

#[derive(Default)]
pub struct GenerationSubscription;

#[Subscription]
impl GenerationSubscription {
    /// The generation now, then every change of status or progress; ends after its final state.
    async fn generation_updated(&self, ctx: &Context<'_>, id: ID) -> Result<impl Stream<Item = Generation> + use<>> {
        let user = current_user(ctx).await?;
        let id = decode_as(&id, Kind::Generation, "generation")?;
        Ok(services(ctx).generations.follow(user, id).await?.map(Generation))
    }

    /// Every change of any of your generations.
    async fn my_generation_updates(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Generation> + use<>> {
        let user = current_user(ctx).await?;
        Ok(services(ctx).generations.follow_all(user).map(Generation))
    }
}

/// A model of the catalogue.
pub struct AiModel(ModelSpec);

#[Object]
impl AiModel {
    /// The provider's model id; what `createGeneration` takes as `model`.
    async fn id(&self) -> &str {
        &self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// `FAL`, or `LOCAL` for the local renderer (not AI).
    async fn provider(&self) -> &str {
        self.0.provider
    }
    /// Credits per image (per clip, for a video model).
    async fn price_per_image(&self) -> i64 {
        self.0.price_per_image
    }
    /// What `numImages` images cost, in credits (what `createGeneration` reserves).
    async fn price(&self, #[graphql(validator(minimum = 1, maximum = 100))] num_images: i32) -> i64 {
        self.0.price(u8::try_from(num_images).unwrap_or(u8::MAX))
    }
    async fn aspect_ratios(&self) -> Vec<&'static str> {
        self.0.aspect_ratios.iter().map(|r| r.as_str()).collect()
    }
    async fn max_images(&self) -> i32 {
        i32::from(self.0.max_images)
    }
    /// The type its images get in the gallery.
    async fn image_type(&self) -> ImageType {
        self.0.kind.into()
    }
    /// Needs an avatar: `avatarId`, or the main one.
    async fn requires_avatar(&self) -> bool {
        self.0.needs_avatar
    }
    /// A video model: it animates one of your pictures (`animateImage`) into a clip this many
    /// seconds long; null for a picture model.
    async fn clip_seconds(&self) -> Option<i32> {
        self.0.clip_seconds.map(|s| s as i32)
    }
}

/// What prompt help suggests.
#[derive(SimpleObject)]
pub struct PromptSuggestion {
    /// Your prompt, as given.
    original: String,
    /// The suggestion.
    enhanced: String,
}

/// A price as the signed-in user would pay it now.
#[derive(SimpleObject)]
pub struct PriceQuote {
    /// The catalogue's price.
    price: i64,
    /// The waiting promo discount the action would consume, in percent.
    discount_percent: Option<i64>,
    /// What would be charged.
    to_pay: i64,
    /// The balance after paying; negative when it is not enough (`createGeneration` would be
    /// refused with `INSUFFICIENT_CREDITS`).
    balance_after: i64,
    /// False when the user's quick mode covers this price: a client creates without asking.
    needs_confirmation: bool,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "GenerationStatus", remote = "GenerationStatus")]
pub enum GenerationState {
    Pending,
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

pub struct Generation(pub domain::generations::Generation);

#[Object]
impl Generation {
    pub async fn id(&self) -> ID {
        encode(Kind::Generation, self.0.id)
    }
    async fn status(&self) -> GenerationState {
        self.0.status.into()
    }
    /// 0–100.
    async fn progress(&self) -> i32 {
        i32::from(self.0.progress)
    }
    async fn model(&self) -> &str {
        &self.0.model
    }
    async fn prompt(&self) -> &str {
        &self.0.prompt
    }
    async fn aspect_ratio(&self) -> &str {
        self.0.aspect_ratio.as_str()
    }
    async fn num_images(&self) -> i32 {
        i32::from(self.0.num_images)
    }
    /// The avatar it was made with (null once that avatar is deleted).
    async fn avatar_id(&self) -> Option<ID> {
        self.0.avatar_id.map(|id| encode(Kind::Avatar, id))
    }
    /// The seed sent to the provider: the one asked for, or one chosen at creation.
    async fn seed(&self) -> Option<i64> {
        self.0.seed
    }
    /// Credits reserved for it (refunded if it fails or is cancelled).
    async fn cost(&self) -> i64 {
        self.0.cost
    }
    /// What the user wrote, when the prompt sent was made from it (a template's subject).
    async fn original_prompt(&self) -> Option<&str> {
        self.0.original_prompt.as_deref()
    }
    /// The picture a clip animates.
    async fn source_image_id(&self) -> Option<ID> {
        self.0.source_image_id.map(|id| encode(Kind::Image, id))
    }
    /// The style template it was made from.
    async fn template_id(&self) -> Option<ID> {
        self.0.template_id.map(|id| encode(Kind::StyleTemplate, id))
    }
    /// Why it failed, when it did, in words for its user.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// Pictures the model's safety filter blocked: never stored or shown, their share of the
    /// price refunded (a `REFUND` in `transactions`). All of them blocked: `FAILED`, refunded whole.
    async fn blocked_images(&self) -> i32 {
        i32::from(self.0.blocked_images)
    }
    /// Where the provider says it waits in its queue, while `QUEUED` (when it says).
    async fn queue_position(&self) -> Option<i32> {
        self.0.queue_position.map(|p| p.min(i32::MAX as u32) as i32)
    }
    /// Seconds until it is expected to be done, from the model's recent durations and the
    /// queue position; null once it ended. Every `generationUpdated` event carries it anew.
    async fn eta(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        Ok(services(ctx).generations.eta(&self.0).await?.map(|eta| eta.seconds))
    }
    /// When it is expected to be done (now + `eta`); null once it ended.
    async fn eta_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(services(ctx).generations.eta(&self.0).await?.map(|eta| to_datetime(eta.at)))
    }
    /// The stored images, once `COMPLETED`.
    async fn images(&self) -> Vec<Image> {
        self.0.images.iter().cloned().map(Image::new).collect()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.created_at)
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.updated_at)
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at.map(to_datetime)
    }
}
