//! The job engine: image generations and avatar trainings, from their row to their end.
//!
//! A job in flight holds no worker while it waits. Its life is a series of short steps, each
//! taken under a claim that only its holder can record or release (`claims.rs`): *submit* (zip
//! and upload a training's photos, send the job to the provider, store its handle), then *poll*
//! (one status request; the next poll is scheduled in `next_step_at`), then *fetch* (download
//! and store the results, and settle). So one instance follows thousands of provider jobs at
//! once, with bounded concurrency for each kind of step, and trainings and images have pools of
//! their own. Who is submitted next is fair: a user has at most `per_user` jobs in flight, and
//! the users with the fewest go first. Long steps renew their claim; on shutdown an instance
//! stops claiming, lets short steps finish, and releases the rest at once.
//!
//! Every final transition (`transitions.rs`) is a conditional update: a step, a webhook, a
//! cancel and the deadline reaper can race, and exactly one settles the job — capturing its
//! reservation or refunding it, writing the notification in the same transaction, and
//! invalidating the gallery statistics.

mod engine;
mod eta;
mod media;
mod model;
mod repository;
mod steps;
mod training;
mod transitions;
mod video;

pub use engine::{Capacity, JobEngine, JobEngineDeps, JobSettings};
pub use eta::Eta;
pub use model::{Job, JobKind, Purpose};
pub use repository::JobCount;
pub(crate) use repository::{NewJob, active_jobs, find as find_job, insert as insert_job};

/// What a provider said about a job, by webhook.
pub enum ProviderOutcome {
    Completed(serde_json::Value),
    Failed(String),
    /// The provider's content checker refused the request: every picture blocked.
    Blocked,
}

#[derive(Debug, PartialEq, Eq)]
pub enum WebhookResult {
    Applied,
    /// A redelivery, or news of a job that already ended: nothing changes.
    AlreadySettled,
    /// Another instance, or a step here, holds the job and ends it the same way.
    InHand,
    UnknownRequest,
}
