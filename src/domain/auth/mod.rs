//! Sign-in: Telegram Mini App `initData` and Login Widget data checked with the bot token's
//! HMAC, revocable bearer tokens stored hashed, and the operator's admin token.

mod repository;
mod service;
mod telegram;
mod token_cache;

pub use service::{AuthService, AuthSettings, Principal, constant_time_eq};
pub use telegram::{InitDataError, sign_telegram_data, verify_telegram_data};
