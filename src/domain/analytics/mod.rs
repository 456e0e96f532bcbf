//! Analytics: events stored with their source, in the transaction of what they record — a user
//! arriving (with the `/start` payload, the Mini App's `start_param` or the web client's
//! `utm_source`), a sign-in, the first generation, a top-up, a referral reward — and, for the
//! operator, a funnel by source (arrived → generated → paid) and weekly retention. Nothing
//! leaves the instance.

mod model;
mod repository;
mod service;

pub use model::{Analytics, Cohort, EventKind, FunnelStep, source_of};
pub use service::AnalyticsService;
pub(crate) use service::record_in_tx;
