//! Style templates: a catalogue of categories and templates that fill a prompt from the user's
//! subject (`{subject}`), seeded from `assets/styles.json` and edited by the operator, and each
//! user's favourite templates.

mod catalog;
mod model;
mod repository;
mod service;

pub use model::{Category, CategoryInput, SUBJECT, Template, TemplateInput};
pub use service::StyleService;
