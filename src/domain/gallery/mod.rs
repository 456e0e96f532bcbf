//! The gallery: a user's stored images, paged newest first under a filter (keyset pagination
//! on (created_at, id)), neighbours for ◀️ ▶️, favourites, deletion, statistics (cached, and
//! invalidated by every change) and saved filters.

mod model;
pub(crate) mod repository;
mod service;
mod stats_cache;

pub use model::{GalleryCursor, GalleryFilter, GalleryStats, Image, ImageKind, Position, SavedFilter};
pub use service::{GalleryService, MAX_SAVED_FILTERS};
pub use stats_cache::StatsCache;
