//! The integration suite: one binary, the real server over real connections.

#[path = "../support/mod.rs"]
mod support;

mod analytics;
mod auth;
mod avatars;
mod cache;
mod console;
mod creation;
mod credits;
mod dashboard;
mod engine;
mod eta;
mod exposure;
mod fleet;
mod gallery;
mod generations;
mod http;
mod inbox;
mod leases;
mod limits;
mod migrations;
mod models;
mod moderation;
mod notifications;
mod observability;
mod outbound;
mod payments;
mod privacy;
mod promos;
mod prompt_help;
mod quotas;
mod rate_limits;
mod referrals;
mod retraining;
mod schema;
mod settings;
mod spending;
mod storage;
mod styles;
mod telegram;
mod timeouts;
mod uploads;
mod videos;
mod websocket;
mod websocket_protocol;
