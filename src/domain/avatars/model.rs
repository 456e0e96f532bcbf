use serde::{Deserialize, Serialize};

use crate::domain::{Error, Result, time::Micros};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrainingType {
    /// A person: `fal-ai/flux-lora-portrait-trainer`.
    Portrait,
    /// A look or style: `fal-ai/flux-lora-fast-training` with `is_style`.
    Style,
}

impl TrainingType {
    pub fn as_str(self) -> &'static str {
        match self {
            TrainingType::Portrait => "PORTRAIT",
            TrainingType::Style => "STYLE",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "PORTRAIT" => Ok(TrainingType::Portrait),
            "STYLE" => Ok(TrainingType::Style),
            other => Err(Error::internal(format!("unknown training type {other:?}"))),
        }
    }

    /// The FAL trainer for this type.
    pub fn trainer(self) -> &'static str {
        match self {
            TrainingType::Portrait => "fal-ai/flux-lora-portrait-trainer",
            TrainingType::Style => "fal-ai/flux-lora-fast-training",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AvatarStatus {
    Draft,
    Training,
    Ready,
    Failed,
    Cancelled,
}

impl AvatarStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AvatarStatus::Draft => "DRAFT",
            AvatarStatus::Training => "TRAINING",
            AvatarStatus::Ready => "READY",
            AvatarStatus::Failed => "FAILED",
            AvatarStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "DRAFT" => AvatarStatus::Draft,
            "TRAINING" => AvatarStatus::Training,
            "READY" => AvatarStatus::Ready,
            "FAILED" => AvatarStatus::Failed,
            "CANCELLED" => AvatarStatus::Cancelled,
            other => return Err(Error::internal(format!("unknown avatar status {other:?}"))),
        })
    }

    /// Photos can change and training can start only before training, or after one that did
    /// not succeed.
    pub fn is_editable(self) -> bool {
        matches!(self, AvatarStatus::Draft | AvatarStatus::Failed | AvatarStatus::Cancelled)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Avatar {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub training_type: TrainingType,
    pub status: AvatarStatus,
    /// 0–100 while training.
    pub progress: u8,
    pub is_main: bool,
    /// Put in prompts to call up the trained subject.
    pub trigger_phrase: String,
    /// Where the trained weights are stored (`photos` bucket), once `READY`.
    pub lora_key: Option<String>,
    pub error: Option<String>,
    pub training_job_id: Option<i64>,
    pub photo_count: i64,
    pub generation_count: i64,
    /// `READY` and training anew: the old weights serve until the new ones are ready.
    #[serde(default)]
    pub retraining: bool,
    pub created_at: Micros,
    pub updated_at: Micros,
}

impl Avatar {
    /// Photos can change and training can start: before a training, after one that did not
    /// succeed, or once trained (to train it anew) unless it is training again already.
    pub fn is_editable(&self) -> bool {
        self.status.is_editable() || (self.status == AvatarStatus::Ready && !self.retraining)
    }

    /// Training may start: the avatar is editable and has 10–20 accepted photos.
    pub fn can_train(&self) -> bool {
        self.is_editable() && (super::MIN_PHOTOS..=super::MAX_PHOTOS).contains(&self.photo_count)
    }

    /// A training of it runs (a first one, or a retraining).
    pub fn is_training(&self) -> bool {
        self.status == AvatarStatus::Training || self.retraining
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PhotoStatus {
    Accepted,
    Rejected,
}

impl PhotoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoStatus::Accepted => "ACCEPTED",
            PhotoStatus::Rejected => "REJECTED",
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "ACCEPTED" { PhotoStatus::Accepted } else { PhotoStatus::Rejected }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AvatarPhoto {
    pub id: i64,
    pub avatar_id: i64,
    pub status: PhotoStatus,
    /// Why it was refused, when it was.
    pub reject_reason: Option<String>,
    pub storage_key: Option<String>,
    pub content_type: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub byte_size: i64,
    pub sha256: String,
    pub created_at: Micros,
}

/// A photo as uploaded: its name is only a label; its bytes decide what it is.
#[derive(Debug)]
pub struct Upload {
    pub file_name: String,
    pub body: UploadBody,
}

/// Where an upload's bytes are: read only when its turn comes, so one photo's bytes are in
/// memory at a time however many a request brings.
#[derive(Debug)]
pub enum UploadBody {
    Bytes(bytes::Bytes),
    /// A temporary file the transport streamed the upload into.
    File(std::fs::File),
}

impl UploadBody {
    pub async fn read(self) -> std::io::Result<bytes::Bytes> {
        match self {
            UploadBody::Bytes(bytes) => Ok(bytes),
            UploadBody::File(mut file) => {
                let read = tokio::task::spawn_blocking(move || {
                    use std::io::{Read, Seek};
                    let mut bytes = Vec::new();
                    file.rewind()?;
                    file.read_to_end(&mut bytes).map(|_| bytes)
                });
                Ok(read.await.map_err(std::io::Error::other)??.into())
            }
        }
    }
}
