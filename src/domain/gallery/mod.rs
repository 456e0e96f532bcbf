//! The gallery: a user's stored images, paged newest first under a filter (keyset pagination
//! on (created_at, id)), neighbours for ◀️ ▶️, favourites, deletion, statistics (cached, and
//! invalidated by every change) and saved filters.

mod model;
mod repository;
mod service;
mod stats_cache;

pub use model::{GalleryCursor, GalleryFilter, GalleryStats, Image, ImageKind, Moderation, Position, SavedFilter};
pub use service::{GalleryService, MAX_SAVED_FILTERS};
pub use stats_cache::StatsCache;
// For the job engine, which writes a generation's images in the transaction that completes it.
pub(crate) use repository::{
    NewImage, find as find_image, insert_image as insert_image_in_tx, of_generations as images_of_generations,
};
