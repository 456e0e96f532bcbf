//! Adapters to the world outside: each has a production implementation and an embedded default
//! that needs nothing installed (DESIGN.md, "The shape").

pub mod bus;
pub mod cache;
pub mod db;
pub mod outbound;
pub mod storage;
