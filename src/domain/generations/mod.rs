//! Generations: a paid request for images, reserved when accepted, run as a durable job by
//! workers that claim it from the database, followed at the provider (polling, and webhooks when
//! configured), stored in our storage before it is `COMPLETED`, and refunded exactly once when it
//! fails, is cancelled or passes its deadline.

mod catalog;
mod jobs;
mod model;
mod repository;
mod service;
mod training;

pub use catalog::{LOCAL_MODEL, ModelSpec, apply_prices, default_catalog};
pub use jobs::{JobSettings, ProviderOutcome, WebhookResult};
pub use model::{AspectRatio, Generation, GenerationStatus, NewGeneration, Prompt};
pub use service::GenerationService;
pub use training::training_archive_key;
