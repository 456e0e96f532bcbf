//! Generations: a paid request for images. `GenerationService` creates (reserving the price and
//! writing the job in one transaction), cancels, reads and follows them; the job engine
//! (`domain/jobs`) runs them.

mod catalog;
mod model;
pub mod prompt_help;
mod repository;
mod service;

pub use catalog::{LOCAL_MODEL, ModelSpec, apply_prices, default_catalog};
pub use model::{AspectRatio, Generation, GenerationStatus, NewGeneration, Prompt, Quote};
pub use service::GenerationService;
