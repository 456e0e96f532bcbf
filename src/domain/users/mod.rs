//! Users: people known by their Telegram account, created on first sign-in or contact with the
//! welcome bonus as their first ledger row; and their settings.

mod model;
mod repository;
mod service;
mod settings;

pub use model::{TelegramProfile, User};
pub use service::UserService;
pub use settings::{Settings, SettingsChange};
