//! sea-orm entities for the tables read through the ORM (see `migrations/` for all of them);
//! the rest is read with SQL in the repositories. Times are microseconds since the epoch.

pub mod generations;
pub mod ledger_entries;
pub mod users;
