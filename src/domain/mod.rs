//! The domain: users, credits (a ledger), sign-in, generations, gallery, avatars and payments. Plain Rust over the database and the adapter traits; nothing here knows HTTP,
//! GraphQL or Telegram.

pub mod auth;
pub mod avatars;
pub mod credits;
pub mod error;
pub mod events;
pub mod gallery;
pub mod generations;
pub mod payments;
pub mod time;
pub mod users;

pub use error::{Error, Result};

/// The domain's entry points, built once at start-up and shared by every port.
#[derive(Clone)]
pub struct Services {
    pub users: users::UserService,
    pub credits: credits::CreditService,
    pub auth: auth::AuthService,
    pub generations: generations::GenerationService,
    pub gallery: gallery::GalleryService,
    pub payments: payments::PaymentService,
    pub avatars: avatars::AvatarService,
}
