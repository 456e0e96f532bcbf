//! Spending: what a user's credits went to and came from over a period, read from the ledger
//! (exact: every figure is a sum of ledger rows, or of the payments behind `TOP_UP` rows). A
//! read model across areas: charges and refunds are attributed to their job through the
//! reservation they settle.

mod model;
mod repository;
mod service;

pub use model::{DaySpending, JobSpending, KindTotal, Spending, StarsTopUps};
pub use service::SpendingService;
