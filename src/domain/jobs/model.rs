//! A job as the engine sees it: decoded once from its row, with its purpose, status, aspect
//! ratio and provider handle as types. A row that does not decode is an error, never a default.

use crate::adapters::db::entity::generations;
use crate::domain::gallery::Image;
use crate::domain::generations::{AspectRatio, Generation, GenerationStatus};
use crate::domain::{Error, Result, time::Micros};
use crate::providers::ProviderHandle;

/// What kind of capacity a job needs: trainings and images never compete for the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobKind {
    Image,
    Training,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Image => "IMAGE",
            JobKind::Training => "TRAINING",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "IMAGE" => Ok(JobKind::Image),
            "TRAINING" => Ok(JobKind::Training),
            other => Err(Error::internal(format!("unknown job purpose {other:?}"))),
        }
    }
}

/// What a job makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Images, with an avatar's weights when `avatar_id` is set (None also once the avatar
    /// that a FLUX job needed was deleted).
    Image { avatar_id: Option<i64> },
    /// An avatar's LoRA weights.
    Training { avatar_id: i64 },
}

impl Purpose {
    pub fn kind(self) -> JobKind {
        match self {
            Purpose::Image { .. } => JobKind::Image,
            Purpose::Training { .. } => JobKind::Training,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: i64,
    pub user_id: i64,
    pub purpose: Purpose,
    /// The catalogue's model id, or a trainer's.
    pub model: String,
    /// The prompt, or a training's trigger phrase.
    pub prompt: String,
    pub aspect_ratio: AspectRatio,
    pub num_images: u8,
    pub seed: Option<i64>,
    pub status: GenerationStatus,
    pub progress: u8,
    pub cost: i64,
    pub reservation_id: Option<i64>,
    /// The provider's handle, once submitted.
    pub handle: Option<ProviderHandle>,
    /// Failed steps in a row (for the backoff).
    pub attempts: i32,
    pub error: Option<String>,
    /// Pictures the safety filter blocked.
    pub blocked_images: u8,
    /// Where the provider last said the job waits in its queue.
    pub queue_position: Option<u32>,
    pub template_id: Option<i64>,
    pub original_prompt: Option<String>,
    /// The image a video animates.
    pub source_image_id: Option<i64>,
    pub deadline_at: Micros,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub completed_at: Option<Micros>,
    /// The claim this copy of the job was taken under, if any.
    pub claim: Option<String>,
}

impl TryFrom<generations::Model> for Job {
    type Error = Error;

    fn try_from(m: generations::Model) -> Result<Job> {
        let purpose = match (m.purpose.as_str(), m.avatar_id) {
            ("IMAGE", avatar_id) => Purpose::Image { avatar_id },
            ("TRAINING", Some(avatar_id)) => Purpose::Training { avatar_id },
            (other, avatar) => {
                return Err(Error::internal(format!("job {}: purpose {other:?} with avatar {avatar:?}", m.id)));
            }
        };
        let handle = m.provider_request_id.map(|request_id| ProviderHandle {
            request_id,
            status_url: m.status_url,
            response_url: m.response_url,
            cancel_url: m.cancel_url,
        });
        let num_images = u8::try_from(m.num_images)
            .map_err(|_| Error::internal(format!("job {}: {} images", m.id, m.num_images)))?;
        Ok(Job {
            id: m.id,
            user_id: m.user_id,
            purpose,
            model: m.model,
            prompt: m.prompt,
            aspect_ratio: AspectRatio::parse(&m.aspect_ratio)
                .map_err(|_| Error::internal(format!("job {}: aspect ratio {:?}", m.id, m.aspect_ratio)))?,
            num_images,
            seed: m.seed,
            status: GenerationStatus::parse(&m.status)?,
            progress: m.progress.clamp(0, 100) as u8,
            cost: m.cost,
            reservation_id: m.reservation_id,
            handle,
            attempts: m.attempts,
            error: m.error,
            blocked_images: m.blocked_images.clamp(0, 255) as u8,
            queue_position: m.queue_position.map(|p| p.max(0) as u32),
            template_id: m.template_id,
            original_prompt: m.original_prompt,
            source_image_id: m.source_image_id,
            deadline_at: m.deadline_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
            completed_at: m.completed_at,
            claim: m.claimed_by,
        })
    }
}

impl Job {
    pub fn kind(&self) -> JobKind {
        self.purpose.kind()
    }

    pub fn avatar_id(&self) -> Option<i64> {
        match self.purpose {
            Purpose::Image { avatar_id } => avatar_id,
            Purpose::Training { avatar_id } => Some(avatar_id),
        }
    }

    /// The generation clients see (for an image job), with its images once completed.
    pub fn into_generation(self, images: Vec<Image>) -> Generation {
        Generation {
            id: self.id,
            user_id: self.user_id,
            avatar_id: self.avatar_id(),
            model: self.model,
            prompt: self.prompt,
            aspect_ratio: self.aspect_ratio,
            num_images: self.num_images,
            seed: self.seed,
            status: self.status,
            progress: self.progress,
            cost: self.cost,
            error: self.error,
            blocked_images: self.blocked_images,
            queue_position: self.queue_position,
            template_id: self.template_id,
            original_prompt: self.original_prompt,
            source_image_id: self.source_image_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            completed_at: self.completed_at,
            images,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> generations::Model {
        generations::Model {
            id: 1,
            user_id: 2,
            model: "fal-ai/imagen4/preview".into(),
            prompt: "a fox".into(),
            aspect_ratio: "16:9".into(),
            num_images: 2,
            seed: None,
            avatar_id: None,
            status: "QUEUED".into(),
            progress: 10,
            cost: 10,
            reservation_id: Some(3),
            idempotency_key: None,
            provider: "fal".into(),
            provider_request_id: Some("req-1".into()),
            status_url: Some("https://queue.fal.run/x/requests/req-1/status".into()),
            response_url: None,
            cancel_url: None,
            error: None,
            attempts: 0,
            claimed_until: None,
            deadline_at: 100,
            created_at: 1,
            updated_at: 1,
            completed_at: None,
            purpose: "IMAGE".into(),
            claimed_by: None,
            next_step_at: 0,
            blocked_images: 0,
            queue_position: None,
            template_id: None,
            original_prompt: None,
            source_image_id: None,
        }
    }

    #[test]
    fn a_row_decodes_once_into_types_and_bad_rows_are_errors() {
        let job = Job::try_from(row()).expect("valid row");
        assert_eq!(job.purpose, Purpose::Image { avatar_id: None });
        assert_eq!(job.aspect_ratio, AspectRatio::Landscape16x9);
        assert_eq!(job.handle.as_ref().map(|h| h.request_id.as_str()), Some("req-1"));
        assert!(Job::try_from(generations::Model { aspect_ratio: "2:1".into(), ..row() }).is_err());
        assert!(
            Job::try_from(generations::Model { purpose: "TRAINING".into(), ..row() }).is_err(),
            "a training needs its avatar"
        );
        assert!(Job::try_from(generations::Model { status: "LOST".into(), ..row() }).is_err());
    }
}
