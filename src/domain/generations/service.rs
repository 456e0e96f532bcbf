use std::sync::Arc;

use futures_util::{Stream, StreamExt, stream};
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::Notify;

use super::catalog::ModelSpec;
use super::jobs::JobSettings;
use super::model::{Generation, GenerationStatus, NewGeneration};
use super::repository::{self as repo, NewRow};
use super::training::{PURPOSE_IMAGE, is_training};
use crate::domain::avatars;
use crate::adapters::{bus::EventBus, storage::Storage};
use crate::domain::credits::{CreditService, IdempotencyKey, NotApplied, reserve_in_tx};
use crate::domain::gallery::{StatsCache, repository::of_generations};
use crate::domain::{Error, Result, events::Event, time::now_micros};
use crate::providers::ImageProvider;

/// Creates, cancels and reads generations, and runs them (see `jobs.rs`).
#[derive(Clone)]
pub struct GenerationService {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub db: DatabaseConnection,
    pub credits: CreditService,
    pub bus: Arc<dyn EventBus>,
    pub provider: Arc<dyn ImageProvider>,
    pub storage: Arc<dyn Storage>,
    pub catalog: Vec<ModelSpec>,
    pub settings: JobSettings,
    /// New images change the gallery's statistics.
    pub stats: StatsCache,
    /// Wakes an idle worker when a job is created on this instance.
    pub wake: Notify,
}

impl GenerationService {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: DatabaseConnection,
        credits: CreditService,
        bus: Arc<dyn EventBus>,
        provider: Arc<dyn ImageProvider>,
        storage: Arc<dyn Storage>,
        catalog: Vec<ModelSpec>,
        settings: JobSettings,
        stats: StatsCache,
    ) -> Self {
        let inner = Inner { db, credits, bus, provider, storage, catalog, settings, stats, wake: Notify::new() };
        GenerationService { inner: Arc::new(inner) }
    }

    pub fn models(&self) -> &[ModelSpec] {
        &self.inner.catalog
    }

    pub fn model(&self, id: &str) -> Result<&ModelSpec> {
        self.inner.catalog.iter().find(|m| m.id == id).ok_or_else(|| Error::invalid(format!("unknown model {id:?}")))
    }

    /// Validates, reserves price × images and writes the `PENDING` row in one transaction, then
    /// returns at once. The same idempotency key returns the same generation and charges once.
    pub async fn create(&self, user_id: i64, input: NewGeneration) -> Result<Generation> {
        let model = self.model(&input.model)?;
        if !(1..=model.max_images).contains(&input.num_images) {
            return Err(Error::invalid(format!("numImages must be 1-{} for {}", model.max_images, model.id)));
        }
        if !model.aspect_ratios.contains(&input.aspect_ratio) {
            return Err(Error::invalid(format!("{} does not offer aspect ratio {}", model.id, input.aspect_ratio.as_str())));
        }
        match (model.needs_avatar, input.avatar_id) {
            (true, None) => return Err(Error::invalid(format!("{} needs avatarId", model.id))),
            (false, Some(_)) => return Err(Error::invalid(format!("{} does not take an avatar; use fal-ai/flux-lora", model.id))),
            (true, Some(avatar_id)) => {
                let avatar = avatars::repository::find(&self.inner.db, user_id, avatar_id).await?;
                let avatar = avatar.ok_or(Error::NotFound("avatar"))?;
                if avatar.status != avatars::AvatarStatus::Ready {
                    return Err(Error::invalid("this avatar is not trained yet"));
                }
            }
            (false, None) => {}
        }
        if let Some(key) = &input.idempotency_key
            && let Some(existing) = repo::find_by_key(&self.inner.db, user_id, key.as_str()).await? {
                return self.snapshot(existing).await;
            }
        let cost = model.price_per_image * i64::from(input.num_images);
        let client_key = input.idempotency_key.as_ref().map(IdempotencyKey::as_str);
        let ledger_key = IdempotencyKey::internal(match client_key {
            Some(key) => format!("generation:{key}"),
            None => format!("generation:{:032x}", rand::random::<u128>()),
        });
        let now = now_micros();
        let db = &self.inner.db;
        let tx = db.begin().await?;
        let (reservation, charge) = match reserve_in_tx(&tx, user_id, cost, "generation", &ledger_key).await? {
            Ok(reserved) => reserved,
            Err(not_applied) => {
                tx.rollback().await?;
                return self.explain_refusal(user_id, client_key, cost, not_applied).await;
            }
        };
        let row = NewRow {
            user_id,
            purpose: PURPOSE_IMAGE,
            model: &model.id,
            prompt: input.prompt.as_str(),
            aspect_ratio: input.aspect_ratio,
            num_images: input.num_images,
            seed: input.seed,
            avatar_id: input.avatar_id,
            cost,
            reservation_id: reservation.id,
            idempotency_key: client_key,
            provider: self.inner.provider.name(),
            deadline_at: now + self.inner.settings.deadline.as_micros() as i64,
            now,
        };
        let Some(id) = repo::insert(&tx, row).await? else {
            tx.rollback().await?;
            return self.explain_refusal(user_id, client_key, cost, NotApplied::Duplicate).await;
        };
        tx.commit().await?;
        let generation = self.get(user_id, id).await?;
        self.inner.credits.announce(&charge).await;
        self.publish(&generation).await;
        self.inner.wake.notify_one();
        Ok(generation)
    }

    /// After a refused reservation or insert: a concurrent request with the same key won, so
    /// answer with its generation; otherwise the balance was too low.
    async fn explain_refusal(&self, user_id: i64, key: Option<&str>, cost: i64, why: NotApplied) -> Result<Generation> {
        if let Some(key) = key
            && let Some(existing) = repo::find_by_key(&self.inner.db, user_id, key).await? {
                return self.snapshot(existing).await;
            }
        match why {
            NotApplied::InsufficientCredits => {
                Err(Error::InsufficientCredits { needed: cost, available: self.inner.credits.balance(user_id).await? })
            }
            NotApplied::Duplicate => Err(Error::internal("generation key conflict vanished")),
        }
    }

    /// Cancels an active generation (refunding it); a finished one is returned as it is.
    pub async fn cancel(&self, user_id: i64, id: i64) -> Result<Generation> {
        let row = self.owned_row(user_id, id).await?;
        let handle = repo::handle_of(&row);
        if self.settle(id, GenerationStatus::Cancelled, "cancelled by the user").await?
            && let Some(handle) = handle {
                let provider = self.inner.provider.clone();
                tokio::spawn(async move {
                    if let Err(error) = provider.cancel(&handle).await {
                        tracing::warn!(%error, request_id = %handle.request_id, "provider cancel failed");
                    }
                });
            }
        self.get(user_id, id).await
    }

    /// One of the user's generations with its images.
    pub async fn get(&self, user_id: i64, id: i64) -> Result<Generation> {
        let row = self.owned_row(user_id, id).await?;
        self.snapshot(row).await
    }

    /// The user's generations, newest first; and whether more follow.
    pub async fn list(
        &self,
        user_id: i64,
        status: Option<GenerationStatus>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<(Vec<Generation>, bool)> {
        let mut rows = repo::list(&self.inner.db, user_id, status, before_id, limit as u64 + 1).await?;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut images = of_generations(&self.inner.db, &ids).await?;
        let generations = rows
            .into_iter()
            .map(|row| {
                let mine: Vec<_> = images.extract_if(.., |i| i.generation_id == Some(row.id)).collect();
                repo::to_generation(row, mine)
            })
            .collect::<Result<_>>()?;
        Ok((generations, has_more))
    }

    /// Generations by id, with their images, whoever owns them (for DataLoaders).
    pub async fn get_many(&self, ids: &[i64]) -> Result<Vec<Generation>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        use crate::adapters::db::entity::generations;
        let rows = generations::Entity::find().filter(generations::Column::Id.is_in(ids.iter().copied())).all(&self.inner.db).await?;
        let mut images = of_generations(&self.inner.db, ids).await?;
        rows.into_iter()
            .map(|row| {
                let mine: Vec<_> = images.extract_if(.., |i| i.generation_id == Some(row.id)).collect();
                repo::to_generation(row, mine)
            })
            .collect()
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

    pub(super) async fn owned_row(&self, user_id: i64, id: i64) -> Result<crate::adapters::db::entity::generations::Model> {
        match repo::find(&self.inner.db, id).await? {
            Some(row) if row.user_id == user_id && !is_training(&row) => Ok(row),
            _ => Err(Error::NotFound("generation")),
        }
    }

    pub(super) async fn snapshot(&self, row: crate::adapters::db::entity::generations::Model) -> Result<Generation> {
        let images = of_generations(&self.inner.db, &[row.id]).await?;
        repo::to_generation(row, images)
    }

    pub(super) async fn publish(&self, generation: &Generation) {
        let event = Event::GenerationUpdated(Box::new(generation.clone()));
        if let Err(error) = self.inner.bus.publish(&event).await {
            tracing::warn!(%error, generation = generation.id, "could not publish a generation update");
        }
    }
}
