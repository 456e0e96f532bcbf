use std::sync::Arc;

use super::prompt_help::{self, PromptTask};
use crate::providers::TextRequest;
use futures_util::{Stream, StreamExt, stream};
use sea_orm::{DatabaseConnection, TransactionTrait};

use super::catalog::ModelSpec;
use super::model::{Generation, GenerationStatus, NewGeneration, Prompt, Quote, new_seed};
use super::repository as repo;
use crate::adapters::bus::EventBus;
use crate::domain::avatars;
use crate::domain::credits::{CreditService, IdempotencyKey, NotApplied, reserve_in_tx};
use crate::domain::gallery::GalleryService;
use crate::domain::jobs::{Job, JobEngine, JobKind, NewJob, Purpose, active_jobs, find_job, insert_job};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::rate_limits::{Action, Caller, RateLimiter};
use crate::domain::{Error, Result, events::Event, time::now_micros};
use crate::domain::{analytics, promos, users};

/// At most this many variations are asked for at once.
pub const MAX_VARIATIONS: u8 = 4;

/// Creates, cancels, reads and follows generations; the job engine runs them.
#[derive(Clone)]
pub struct GenerationService {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    credits: CreditService,
    gallery: GalleryService,
    bus: Arc<dyn EventBus>,
    engine: JobEngine,
    rate_limits: RateLimiter,
}

impl GenerationService {
    pub fn new(
        db: DatabaseConnection,
        credits: CreditService,
        gallery: GalleryService,
        bus: Arc<dyn EventBus>,
        engine: JobEngine,
        rate_limits: RateLimiter,
    ) -> Self {
        GenerationService { inner: Arc::new(Inner { db, credits, gallery, bus, engine, rate_limits }) }
    }

    /// An enhanced prompt for the user to look at (in English, with more detail, light and
    /// lens): nothing uses it unless they create with it. Free, but it spends the user's paid
    /// budget, as it costs a model call.
    pub async fn enhance(&self, user_id: i64, prompt: &Prompt) -> Result<Prompt> {
        self.inner.rate_limits.check(Caller::User(user_id), Action::Paid).await?;
        let task = PromptTask::Enhance;
        let request = TextRequest { task, instructions: task.instructions(), text: prompt.as_str().to_owned() };
        let reply = self.inner.engine.complete_text(&request).await.map_err(|error| {
            tracing::warn!(%error, "prompt help failed");
            Error::Unavailable("prompt help is not available now; try again in a minute".into())
        })?;
        prompt_help::prompt_from_reply(&reply)
            .ok_or_else(|| Error::Unavailable("prompt help gave no usable prompt; try again".into()))
    }

    /// How long an active generation will still take; None once it ended.
    pub async fn eta(&self, generation: &Generation) -> Result<Option<crate::domain::jobs::Eta>> {
        self.inner.engine.eta(generation).await
    }

    pub fn models(&self) -> &[ModelSpec] {
        self.inner.engine.catalog()
    }

    pub fn model(&self, id: &str) -> Result<&ModelSpec> {
        self.models().iter().find(|m| m.id == id).ok_or_else(|| Error::invalid(format!("unknown model {id:?}")))
    }

    /// Validates, reserves price × images and writes the job in one transaction, then returns
    /// at once: `PENDING`, or `QUEUED` when the user already has their share of jobs in flight.
    /// The same idempotency key returns the same generation and charges once.
    pub async fn create(&self, user_id: i64, mut input: NewGeneration) -> Result<Generation> {
        let model = self.model(&input.model)?;
        // A model that needs an avatar, given none, uses the user's main avatar.
        if model.needs_avatar && input.avatar_id.is_none() {
            input.avatar_id = avatars::main_of(&self.inner.db, user_id).await?;
        }
        model.image_count(i64::from(input.num_images))?;
        if !model.aspect_ratios.contains(&input.aspect_ratio) {
            return Err(Error::invalid(format!(
                "{} does not offer aspect ratio {}",
                model.id,
                input.aspect_ratio.as_str()
            )));
        }
        match (model.needs_avatar, input.avatar_id) {
            (true, None) => {
                return Err(Error::invalid(format!("{} needs avatarId (or a main avatar)", model.id)));
            }
            (false, Some(_)) => {
                return Err(Error::invalid(format!("{} does not take an avatar; use fal-ai/flux-lora", model.id)));
            }
            (true, Some(avatar_id)) => {
                let avatar = avatars::find_of_user(&self.inner.db, user_id, avatar_id).await?;
                let avatar = avatar.ok_or(Error::NotFound("avatar"))?;
                if avatar.status != avatars::AvatarStatus::Ready {
                    return Err(Error::invalid("this avatar is not trained yet"));
                }
            }
            (false, None) => {}
        }
        self.check_source_image(user_id, model, input.source_image_id).await?;
        if let Some(key) = &input.idempotency_key
            && let Some(existing) = repo::find_by_key(&self.inner.db, user_id, key.as_str()).await?
        {
            return self.snapshot(existing).await;
        }
        // A repeat of the same request (above) is free; a new one spends the user's budget.
        self.inner.rate_limits.check(Caller::User(user_id), Action::Paid).await?;
        let cost = model.price(input.num_images);
        let client_key = input.idempotency_key.as_ref().map(IdempotencyKey::as_str);
        let ledger_key = IdempotencyKey::internal(match client_key {
            Some(key) => format!("generation:{key}"),
            None => format!("generation:{:032x}", rand::random::<u128>()),
        });
        let now = now_micros();
        let engine = &self.inner.engine;
        let tx = self.inner.db.begin().await?;
        // A waiting discount lowers the price; a refusal below rolls its use back.
        let (cost, discount) = promos::discount_in_tx(&tx, user_id, cost).await?;
        let (reservation, charge) = match reserve_in_tx(&tx, user_id, cost, "generation", &ledger_key).await? {
            Ok(reserved) => reserved,
            Err(not_applied) => {
                tx.rollback().await?;
                return self.explain_refusal(user_id, client_key, cost, not_applied).await;
            }
        };
        if let Some(redemption_id) = discount {
            promos::link_discount_in_tx(&tx, redemption_id, reservation.id).await?;
        }
        let active_jobs = active_jobs(&tx, user_id, JobKind::Image).await?;
        let job = NewJob {
            user_id,
            kind: JobKind::Image,
            model: &model.id,
            prompt: input.prompt.as_str(),
            aspect_ratio: input.aspect_ratio,
            num_images: input.num_images,
            seed: Some(input.seed.unwrap_or_else(new_seed)),
            avatar_id: input.avatar_id,
            cost,
            reservation_id: reservation.id,
            idempotency_key: client_key,
            provider: engine.provider_name(),
            status: engine.initial_status(active_jobs),
            deadline_at: now + engine.settings().deadline.as_micros() as i64,
            now,
            template_id: input.template_id,
            original_prompt: input.original_prompt.as_deref(),
            source_image_id: input.source_image_id,
        };
        let Some(id) = insert_job(&tx, job).await? else {
            tx.rollback().await?;
            return self.explain_refusal(user_id, client_key, cost, NotApplied::Duplicate).await;
        };
        analytics::record_in_tx(&tx, user_id, analytics::EventKind::FirstGeneration, None).await?;
        tx.commit().await?;
        self.inner.credits.announce(&charge).await;
        engine.after_change(id, user_id).await;
        engine.wake(JobKind::Image);
        self.get(user_id, id).await
    }

    /// A clip of one of the user's pictures: the video model (the catalogue's first unless
    /// named), with `prompt` saying what should move (the picture's own prompt if not given).
    /// Charged per clip like any generation; the picture stays as it is.
    pub async fn animate(
        &self,
        user_id: i64,
        image_id: i64,
        model: Option<&str>,
        prompt: Option<Prompt>,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Result<Generation> {
        let model = match model {
            Some(id) => self.model(id)?,
            None => self
                .models()
                .iter()
                .find(|m| m.is_video())
                .ok_or_else(|| Error::invalid("no video model is offered"))?,
        };
        let image = self.inner.gallery.image(user_id, image_id).await?;
        let prompt = match prompt {
            Some(prompt) => prompt,
            None => Prompt::parse(&image.prompt)?,
        };
        let input = NewGeneration {
            model: model.id.clone(),
            prompt,
            aspect_ratio: image.aspect_ratio,
            num_images: 1,
            seed: None,
            avatar_id: None,
            idempotency_key,
            template_id: None,
            original_prompt: None,
            source_image_id: Some(image.id),
        };
        self.create(user_id, input).await
    }

    /// A video model animates one picture of the user's (not a clip); no other model takes one.
    async fn check_source_image(&self, user_id: i64, model: &ModelSpec, source: Option<i64>) -> Result<()> {
        match (model.is_video(), source) {
            (true, None) => Err(Error::invalid(format!("{} animates a picture: use animateImage(imageId)", model.id))),
            (false, Some(_)) => Err(Error::invalid(format!("{} does not animate pictures", model.id))),
            (true, Some(id)) => {
                if self.inner.gallery.image(user_id, id).await?.is_video() {
                    return Err(Error::invalid("a video cannot be animated; pick a picture"));
                }
                Ok(())
            }
            (false, None) => Ok(()),
        }
    }

    /// After a refused reservation or insert: a concurrent request with the same key won, so
    /// answer with its generation; otherwise the balance was too low.
    async fn explain_refusal(&self, user_id: i64, key: Option<&str>, cost: i64, why: NotApplied) -> Result<Generation> {
        if let Some(key) = key
            && let Some(existing) = repo::find_by_key(&self.inner.db, user_id, key).await?
        {
            return self.snapshot(existing).await;
        }
        match why {
            NotApplied::InsufficientCredits => {
                Err(Error::InsufficientCredits { needed: cost, available: self.inner.credits.balance(user_id).await? })
            }
            NotApplied::Duplicate => Err(Error::internal("generation key conflict vanished")),
        }
    }

    /// What `num_images` of `model` would cost the user now: a waiting promo discount taken
    /// off (the one `create` would consume), the balance after, and whether their quick mode
    /// lets a client create without asking.
    pub async fn quote(&self, user_id: i64, model: &str, num_images: i64) -> Result<Quote> {
        let spec = self.model(model)?;
        let price = spec.price(spec.image_count(num_images)?);
        let discount_percent = promos::next_discount(&self.inner.db, user_id).await?;
        let to_pay = discount_percent.map_or(price, |percent| promos::discounted(price, percent));
        let balance = self.inner.credits.balance(user_id).await?;
        let settings = users::settings_of(&self.inner.db, user_id).await?;
        Ok(Quote {
            price,
            discount_percent,
            to_pay,
            balance_after: balance - to_pay,
            needs_confirmation: settings.asks_before(to_pay),
        })
    }

    /// A new generation with the parameters of one of the user's: the same seed or a new one,
    /// and the same prompt or `prompt`. The original stays as it is; the new one is charged.
    pub async fn regenerate(
        &self,
        user_id: i64,
        id: i64,
        same_seed: bool,
        prompt: Option<Prompt>,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Result<Generation> {
        let original = self.owned(user_id, id).await?;
        // An edited prompt is the user's own; the same one keeps what it was made from.
        let (prompt, original_prompt) = match prompt {
            Some(prompt) => (prompt, None),
            None => (Prompt::parse(&original.prompt)?, original.original_prompt.clone()),
        };
        let avatar_id = original.avatar_id();
        let input = NewGeneration {
            model: original.model,
            prompt,
            aspect_ratio: original.aspect_ratio,
            num_images: original.num_images,
            seed: if same_seed { original.seed } else { None },
            avatar_id,
            idempotency_key,
            template_id: original.template_id,
            original_prompt,
            // A clip made again animates the same picture (if it is still there).
            source_image_id: original.source_image_id,
        };
        self.create(user_id, input).await
    }

    /// `count` new one-picture generations like `image`, each with a seed of its own (none the
    /// image's), each charged. The balance must cover them all, or none is made.
    pub async fn variations(
        &self,
        user_id: i64,
        image_id: i64,
        count: u8,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Result<Vec<Generation>> {
        if !(1..=MAX_VARIATIONS).contains(&count) {
            return Err(Error::invalid(format!("count must be 1-{MAX_VARIATIONS}")));
        }
        let image = self.inner.gallery.image(user_id, image_id).await?;
        let model = self.model(&image.model)?;
        let original = match image.generation_id {
            Some(id) => find_job(&self.inner.db, id).await?,
            None => None,
        };
        let original_seed = original.as_ref().and_then(|job| job.seed);
        // Variations of a clip animate its picture anew.
        let source_image_id = original.as_ref().and_then(|job| job.source_image_id);
        let variation_key = |index: usize| idempotency_key.clone().map(|k| k.within(&format!("variation-{index}")));
        // A repeated request returns what it made; a new one must be paid for whole.
        let replay = match variation_key(0) {
            Some(key) => repo::find_by_key(&self.inner.db, user_id, key.as_str()).await?.is_some(),
            None => false,
        };
        let needed = model.price(1) * i64::from(count);
        let available = self.inner.credits.balance(user_id).await?;
        if !replay && available < needed {
            return Err(Error::InsufficientCredits { needed, available });
        }
        let mut seeds: Vec<i64> = Vec::with_capacity(usize::from(count));
        while seeds.len() < usize::from(count) {
            let seed = new_seed();
            if Some(seed) != original_seed && !seeds.contains(&seed) {
                seeds.push(seed);
            }
        }
        let mut made = Vec::with_capacity(seeds.len());
        for (index, seed) in seeds.into_iter().enumerate() {
            let input = NewGeneration {
                model: image.model.clone(),
                prompt: Prompt::parse(&image.prompt)?,
                aspect_ratio: image.aspect_ratio,
                num_images: 1,
                seed: Some(seed),
                avatar_id: image.avatar_id,
                // Each variation has a key of its own, so a repeated request makes none twice.
                idempotency_key: variation_key(index),
                template_id: None,
                original_prompt: None,
                source_image_id,
            };
            made.push(self.create(user_id, input).await?);
        }
        Ok(made)
    }

    /// Cancels an active generation (refunding it); a finished one is returned as it is.
    pub async fn cancel(&self, user_id: i64, id: i64) -> Result<Generation> {
        self.owned(user_id, id).await?;
        self.inner.engine.cancel(id, "cancelled by the user").await?;
        self.get(user_id, id).await
    }

    /// One of the user's generations with its images.
    pub async fn get(&self, user_id: i64, id: i64) -> Result<Generation> {
        let job = self.owned(user_id, id).await?;
        self.snapshot(job).await
    }

    /// The user's generations, newest first; and whether more follow.
    pub async fn list(
        &self,
        user_id: i64,
        status: Option<GenerationStatus>,
        request: PageRequest<i64>,
    ) -> Result<Page<Generation>> {
        let jobs = request.page(repo::list(&self.inner.db, user_id, status, request.seek()).await?);
        let generations = self.with_images(jobs.items).await?;
        Ok(Page { items: generations, has_previous: jobs.has_previous, has_next: jobs.has_next })
    }

    /// Generations by id, with their images, whoever owns them (for DataLoaders).
    pub async fn get_many(&self, ids: &[i64]) -> Result<Vec<Generation>> {
        let jobs = repo::find_many(&self.inner.db, ids).await?;
        self.with_images(jobs).await
    }

    async fn with_images(&self, jobs: Vec<Job>) -> Result<Vec<Generation>> {
        let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
        let mut images = self.inner.gallery.of_generations(&ids).await?;
        Ok(jobs
            .into_iter()
            .map(|job| {
                let id = job.id;
                job.into_generation(images.extract_if(.., |i| i.generation_id == Some(id)).collect())
            })
            .collect())
    }

    pub async fn count(&self, user_id: i64, status: Option<GenerationStatus>) -> Result<u64> {
        repo::count(&self.inner.db, user_id, status).await
    }

    /// The generation now, then every change, ending after its terminal state. Only the owner
    /// may follow it.
    pub async fn follow(&self, user_id: i64, id: i64) -> Result<impl Stream<Item = Generation> + use<>> {
        // Subscribe before reading, so no change falls between the snapshot and the stream.
        let events = self.inner.bus.subscribe();
        let current = self.get(user_id, id).await?;
        let since = current.updated_at;
        let done = current.status.is_terminal();
        let changes = events.filter_map(move |event| async move {
            match event {
                Event::GenerationUpdated(g) if g.id == id && g.updated_at >= since => Some(*g),
                _ => None,
            }
        });
        let changes = if done { stream::empty().boxed() } else { changes.boxed() };
        let updates = stream::once(async { current }).chain(changes).boxed();
        // End right after the terminal state, without waiting for another event.
        Ok(stream::unfold((updates, false), |(mut updates, finished)| async move {
            if finished {
                return None;
            }
            let generation = updates.next().await?;
            let finished = generation.status.is_terminal();
            Some((generation, (updates, finished)))
        }))
    }

    /// Every change of any of the user's generations.
    pub fn follow_all(&self, user_id: i64) -> impl Stream<Item = Generation> + use<> {
        self.inner.bus.subscribe().filter_map(move |event| async move {
            match event {
                Event::GenerationUpdated(g) if g.user_id == user_id => Some(*g),
                _ => None,
            }
        })
    }

    /// The user's image job; `NOT_FOUND` for anyone else's (and for trainings).
    async fn owned(&self, user_id: i64, id: i64) -> Result<Job> {
        match find_job(&self.inner.db, id).await? {
            Some(job) if job.user_id == user_id && matches!(job.purpose, Purpose::Image { .. }) => Ok(job),
            _ => Err(Error::NotFound("generation")),
        }
    }

    async fn snapshot(&self, job: Job) -> Result<Generation> {
        let images = self.inner.gallery.of_generations(&[job.id]).await?;
        Ok(job.into_generation(images))
    }
}
