//! Users: people known by their Telegram account, created on first sign-in or contact with the
//! welcome bonus as their first ledger row.

mod model;
mod repository;
mod service;

pub use model::{TelegramProfile, User};
pub use service::UserService;
