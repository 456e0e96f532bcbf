//! Local "training": downloads the photo archive like FAL would and derives a real, small
//! safetensors file from it — the archive's SHA-256 as a 32-byte tensor, with the trigger
//! phrase and the archive's size in the metadata. Not a model of anyone's face, but a genuine
//! artifact of the uploaded photos, so the whole avatar flow runs offline.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::providers::{ProducedFile, ProviderError, TrainingSpec};

pub async fn train(http: &reqwest::Client, spec: &TrainingSpec) -> Result<ProducedFile, ProviderError> {
    let archive = super::fetch_input(http, &spec.images_zip_url, "the training archive").await?;
    if !archive.starts_with(b"PK\x03\x04") {
        return Err(ProviderError::Failed("the training archive is not a zip file".into()));
    }
    Ok(ProducedFile::unchecked(safetensors(&archive, spec).into(), "application/octet-stream"))
}

/// The safetensors layout: an 8-byte little-endian header length, a JSON header, the data.
fn safetensors(archive: &[u8], spec: &TrainingSpec) -> Vec<u8> {
    let weights = Sha256::digest(archive);
    let header = json!({
        "__metadata__": {
            "format": "aisha-local-lora",
            "note": "made by the local provider, not AI",
            "trigger_phrase": spec.trigger_phrase,
            "style": spec.style.to_string(),
            "archive_bytes": archive.len().to_string(),
        },
        "lora_fingerprint": { "dtype": "U8", "shape": [32], "data_offsets": [0, 32] }
    })
    .to_string();
    let mut file = Vec::with_capacity(8 + header.len() + 32);
    file.extend_from_slice(&(header.len() as u64).to_le_bytes());
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(&weights);
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_artifact_is_a_readable_safetensors_file() {
        let spec = TrainingSpec { images_zip_url: String::new(), trigger_phrase: "ohwx person".into(), style: false };
        let file = safetensors(b"PK\x03\x04 photos", &spec);
        let header_len = u64::from_le_bytes(file[..8].try_into().expect("8 bytes")) as usize;
        let header: serde_json::Value = serde_json::from_slice(&file[8..8 + header_len]).expect("JSON header");
        assert_eq!(header["__metadata__"]["trigger_phrase"], "ohwx person");
        assert_eq!(file.len(), 8 + header_len + 32);
    }
}
