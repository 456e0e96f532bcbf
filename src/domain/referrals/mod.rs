//! Referrals. Each user has a code (`ref_<code>` as the bot's `/start` payload or the Mini App's
//! `start_param`). A user created through one is attributed to its owner, once, at creation
//! (never to themself, never again). The referee's first Stars top-up pays the referrer a reward
//! (`AISHA_REFERRAL_REWARD`: credits, or a percent of that top-up) as a `REFERRAL` ledger row,
//! exactly once: the top-up's transaction marks the referee rewarded on the row it has locked.

mod model;
mod repository;
mod service;

pub use model::{ReferralReward, ReferralStats, start_parameter};
pub use service::ReferralService;
pub(crate) use service::attribute_in_tx;
