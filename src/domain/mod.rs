//! The domain: users, credits (a ledger), sign-in, generations and the job engine, gallery,
//! avatars, payments, promo codes, the inbox of acknowledged updates and the outbox of notifications. Plain
//! Rust over the database and the adapter traits; nothing here knows HTTP, GraphQL or Telegram.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod avatars;
pub mod claims;
pub mod credits;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod gallery;
pub mod generations;
pub mod inbox;
pub mod jobs;
pub mod notifications;
pub mod paging;
pub mod payments;
pub mod privacy;
pub mod promos;
pub mod rate_limits;
pub mod referrals;
pub mod spending;
pub mod storage;
pub mod styles;
pub mod time;
pub mod users;

pub use error::{Error, Result};

/// The domain's entry points, built once at start-up and shared by every port.
#[derive(Clone)]
pub struct Services {
    pub users: users::UserService,
    /// What the operator did.
    pub audit: audit::AuditLog,
    /// Where users came from and what they did, for the operator.
    pub analytics: analytics::AnalyticsService,
    pub credits: credits::CreditService,
    /// The operator's figures.
    pub dashboard: dashboard::DashboardService,
    pub auth: auth::AuthService,
    pub generations: generations::GenerationService,
    /// Runs generations and trainings.
    pub jobs: jobs::JobEngine,
    pub gallery: gallery::GalleryService,
    pub payments: payments::PaymentService,
    pub promos: promos::PromoService,
    /// Export and erasure of a user's own data.
    pub privacy: privacy::PrivacyService,
    pub referrals: referrals::ReferralService,
    /// What credits went to and came from.
    pub spending: spending::SpendingService,
    pub avatars: avatars::AvatarService,
    /// Style templates and users' favourites among them.
    pub styles: styles::StyleService,
    /// Telegram updates acknowledged and not yet handled.
    pub inbox: inbox::InboxService,
    /// What users must be told.
    pub notifications: notifications::NotificationService,
    /// How much each user and address may ask for.
    pub rate_limits: rate_limits::RateLimiter,
}
