//! Avatars: a personal FLUX LoRA trained on 10–20 of the user's photos. Photos are checked by
//! their bytes (format, size, dimensions, duplicates) and kept in the `photos` bucket; training
//! runs as a job on the generation machinery (`generations::training`), and a `READY` avatar's
//! weights are used by `fal-ai/flux-lora` generations.

mod archive;
mod model;
mod photos;
mod repository;
mod service;

pub(crate) use archive::zip_stored;
pub use model::{Avatar, AvatarPhoto, AvatarStatus, PhotoStatus, TrainingType, Upload, UploadBody};
pub use photos::{MAX_PHOTOS, MIN_PHOTOS};
pub use service::{AvatarService, AvatarSettings};
// For the job engine, which runs a training's steps in its own transactions, and for
// `createGeneration`, which checks the avatar it is given.
pub(crate) use repository::{
    accepted_count, begin_training, find as find_of_user, find_any, finish_training, main_of, photos as avatar_photos,
    set_training_job, training_progress,
};
