//! sea-orm entities, one per table (see `migrations/`). Times are microseconds since the epoch.

pub mod auth_tokens;
pub mod credit_reservations;
pub mod generations;
pub mod images;
pub mod ledger_entries;
pub mod users;
