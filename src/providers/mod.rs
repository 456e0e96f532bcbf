//! Image providers: FAL AI's queue API in production, and a local renderer that needs nothing
//! (it draws a real PNG from the prompt, labelled as not AI). Both follow the same life: submit,
//! then status until done, then the result; a handle stored in the database lets a restarted
//! server follow a job it did not submit, instead of submitting it again.

pub mod fal;
pub mod local;
pub mod observed;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::adapters::outbound::DownloadError;
use crate::domain::generations::AspectRatio;
use crate::domain::generations::prompt_help::PromptTask;

/// What to make: images, a clip of one picture (with `video`), or (with `training`) an
/// avatar's LoRA weights.
#[derive(Clone, Debug)]
pub struct JobSpec {
    /// The catalogue's model id (FAL's endpoint id), or a trainer's.
    pub model: String,
    pub prompt: String,
    pub aspect_ratio: AspectRatio,
    pub num_images: u8,
    pub seed: Option<i64>,
    /// Generating with a trained avatar: its LoRA weights.
    pub lora: Option<LoraWeights>,
    /// Training an avatar instead of generating.
    pub training: Option<TrainingSpec>,
    /// Animating a picture instead of drawing one.
    pub video: Option<VideoSpec>,
}

#[derive(Clone, Debug)]
pub struct VideoSpec {
    /// Where the provider can download the picture to animate (a signed storage link).
    pub image_url: String,
    pub seconds: u32,
}

#[derive(Clone, Debug)]
pub struct LoraWeights {
    /// Where the provider can download the weights (a signed storage link).
    pub url: String,
    pub scale: f32,
}

#[derive(Clone, Debug)]
pub struct TrainingSpec {
    /// A zip of the photos (a signed storage link); filled in when the job is submitted.
    pub images_zip_url: String,
    pub trigger_phrase: String,
    /// A style (not a person): no face cropping or captioning.
    pub style: bool,
}

/// What a language model is asked: a task (the local stand-in imitates it), its instructions
/// and the user's text.
#[derive(Clone, Debug)]
pub struct TextRequest {
    pub task: PromptTask,
    pub instructions: &'static str,
    pub text: String,
}

/// The provider's handle on a submitted job, stored with the generation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderHandle {
    pub request_id: String,
    pub status_url: Option<String>,
    pub response_url: Option<String>,
    pub cancel_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderStatus {
    Queued { position: Option<u32> },
    Running { progress: Option<u8> },
    Completed,
    Failed { reason: String },
}

/// One result file, downloaded: an image, a clip, or a training's LoRA weights.
#[derive(Clone, Debug)]
pub struct ProducedFile {
    /// Empty for a blocked image: it is never downloaded.
    pub bytes: Bytes,
    pub content_type: String,
    pub verdict: Verdict,
    /// A clip's length, when the provider knows it (else it is read from the file).
    pub duration_ms: Option<u32>,
}

impl ProducedFile {
    /// A file the model said nothing about (a LoRA, or an image of a model with no checker).
    pub fn unchecked(bytes: Bytes, content_type: impl Into<String>) -> Self {
        ProducedFile { bytes, content_type: content_type.into(), verdict: Verdict::NotReported, duration_ms: None }
    }

    /// A picture the model's checker flagged: never downloaded, so it has no bytes.
    pub fn blocked(content_type: impl Into<String>) -> Self {
        ProducedFile { verdict: Verdict::Blocked, ..ProducedFile::unchecked(Bytes::new(), content_type) }
    }
}

/// What the model's safety checker said of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The model has no checker, or did not report.
    NotReported,
    Passed,
    /// Flagged: the image is not stored, and its share of the price is refunded.
    Blocked,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Worth retrying later (network, 429, 5xx): the job keeps going.
    #[error("provider unavailable: {0}")]
    Transient(String),
    /// The provider refused or failed the job: it ends `FAILED` and is refunded.
    #[error("{0}")]
    Failed(String),
    /// The provider's content checker refused the request (FAL's `content_policy_violation`):
    /// every picture counts as blocked, and the job ends `FAILED` with a full refund.
    #[error("the safety filter refused this request")]
    Blocked,
}

impl From<DownloadError> for ProviderError {
    fn from(error: DownloadError) -> Self {
        match error {
            DownloadError::Refused(reason) => {
                ProviderError::Failed(format!("the result could not be fetched: {reason}"))
            }
            DownloadError::Transient(reason) => ProviderError::Transient(reason),
        }
    }
}

#[async_trait::async_trait]
pub trait ImageProvider: Send + Sync {
    /// `fal` or `local`, stored with each generation.
    fn name(&self) -> &'static str;
    /// Whether completions also arrive by webhook (then polling is only the fallback).
    fn uses_webhooks(&self) -> bool {
        false
    }
    async fn submit(&self, spec: &JobSpec) -> Result<ProviderHandle, ProviderError>;
    async fn status(&self, spec: &JobSpec, handle: &ProviderHandle) -> Result<ProviderStatus, ProviderError>;
    async fn result(&self, spec: &JobSpec, handle: &ProviderHandle) -> Result<Vec<ProducedFile>, ProviderError>;
    /// Downloads the files of a model output delivered by webhook (images, or LoRA weights).
    async fn files_from_output(&self, output: &serde_json::Value) -> Result<Vec<ProducedFile>, ProviderError>;
    async fn cancel(&self, handle: &ProviderHandle) -> Result<(), ProviderError>;
    /// A short text from a language model (prompt help), waited for: `instructions` say what
    /// to do with `text`.
    async fn complete_text(&self, request: &TextRequest) -> Result<String, ProviderError>;
    /// Puts a file in the provider's own storage and returns its URL (for inputs such as a
    /// training archive); None when the provider has no storage of its own.
    async fn upload(&self, _name: &str, _bytes: Bytes, _content_type: &str) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }
}
