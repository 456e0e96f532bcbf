//! A user's own data: everything they have, as one archive they can download
//! (`exportMyData`), and the erasure of their account (`deleteMyAccount`), which keeps only the
//! money records the law asks for, with nothing left that says whose they were.

mod export;
mod repository;
mod service;

pub use service::{AccountErased, DataExport, PrivacyService};
