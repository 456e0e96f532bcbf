//! The gallery: a user's stored images. (Filters, favourites and statistics come with the
//! gallery issue; generations create the images.)

mod model;

pub use model::{Image, ImageKind};
