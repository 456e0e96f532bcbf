//! AISHA: the backend of an AI photo studio. See DESIGN.md (in the team's shared folder) and
//! README.md for the architecture; `main.rs` only parses the command line and calls [`cli`].

pub mod adapters;
pub mod app;
pub mod budget;
pub mod cli;
pub mod config;
pub mod domain;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod providers;
pub mod telegram;
pub mod telemetry;
