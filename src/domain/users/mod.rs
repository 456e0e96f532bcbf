//! Users: people known by their Telegram account, created on first sign-in or contact with the
//! welcome bonus as their first ledger row; and their settings.

mod model;
mod repository;
mod service;
mod settings;

pub use model::{TelegramProfile, User};
pub use service::UserService;
pub use settings::{Settings, SettingsChange};

/// The user's stored settings (the defaults until they change one), for a service that needs
/// them in its own rule (the quick mode of a quote).
pub(crate) async fn settings_of(db: &impl sea_orm::ConnectionTrait, id: i64) -> crate::domain::Result<Settings> {
    Ok(repository::settings(db, id).await?.unwrap_or_default())
}
