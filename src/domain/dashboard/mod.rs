//! The operator's dashboard: what happened in a period, by day — users new and active,
//! generations, credits sold and spent, Stars received — generations by model and status with
//! the failure rate, and the queue as it is now. A read model: it writes nothing.

mod model;
mod repository;
mod service;

pub use model::{Dashboard, DashboardDay, JobTally};
pub use service::DashboardService;
