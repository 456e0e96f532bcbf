//! The export archive: one JSON file per table and every image and photo as a file, in a zip
//! (stored, not deflated: the pictures are compressed already).

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};

use super::repository::StoredFile;
use crate::adapters::storage::Storage;
use crate::domain::avatars::zip_stored;
use crate::domain::storage::{Bucket, Objects, StorageKey};
use crate::domain::{Error, Result};

/// The archive is built in memory: past this, the export is refused rather than the instance
/// run out of memory.
pub const MAX_ARCHIVE_BYTES: usize = 512 * 1024 * 1024;
/// The zip's entry count is 16 bits.
const MAX_ENTRIES: usize = 65_000;
/// Objects read at once.
const READS_IN_FLIGHT: usize = 8;

/// What went into an archive.
pub struct Archive {
    pub bytes: Bytes,
    pub images: usize,
    pub photos: usize,
}

/// The archive of these JSON documents and stored files. A file whose object is gone is left
/// out (the JSON still lists its row).
pub async fn build(
    storage: &Arc<dyn Storage>,
    documents: Vec<(String, Vec<u8>)>,
    files: Vec<StoredFile>,
) -> Result<Archive> {
    if documents.len() + files.len() > MAX_ENTRIES {
        return Err(Error::Unavailable("too many files to export in one archive".into()));
    }
    let mut size: usize = documents.iter().map(|(_, d)| d.len()).sum();
    let mut read = futures_util::stream::iter(files)
        .map(|file| async move {
            let bucket = Bucket::parse(&file.bucket).unwrap_or(Bucket::Images);
            let object = storage.read(&StorageKey::stored(bucket, file.key.as_str())).await?;
            Ok::<_, Error>(object.map(|o| (file.name, o.bytes)))
        })
        .buffered(READS_IN_FLIGHT);
    let mut stored: Vec<(String, Bytes)> = Vec::new();
    while let Some(found) = read.try_next().await? {
        let Some((name, bytes)) = found else { continue };
        size += bytes.len();
        if size > MAX_ARCHIVE_BYTES {
            return Err(Error::Unavailable(format!(
                "the archive would be over {} MB; delete some images and try again",
                MAX_ARCHIVE_BYTES >> 20
            )));
        }
        stored.push((name, bytes));
    }
    let images = stored.iter().filter(|(n, _)| n.starts_with("images/")).count();
    let photos = stored.len() - images;
    let entries: Vec<(String, &[u8])> = documents
        .iter()
        .map(|(n, d)| (n.clone(), d.as_slice()))
        .chain(stored.iter().map(|(n, b)| (n.clone(), b.as_ref())))
        .collect();
    Ok(Archive { bytes: Bytes::from(zip_stored(&entries)), images, photos })
}
