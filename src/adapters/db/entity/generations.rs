use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "generations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub model: String,
    pub prompt: String,
    pub aspect_ratio: String,
    pub num_images: i32,
    pub seed: Option<i64>,
    pub avatar_id: Option<i64>,
    pub status: String,
    pub progress: i32,
    pub cost: i64,
    pub reservation_id: Option<i64>,
    pub idempotency_key: Option<String>,
    /// `fal` or `local`.
    pub provider: String,
    pub provider_request_id: Option<String>,
    pub status_url: Option<String>,
    pub response_url: Option<String>,
    pub cancel_url: Option<String>,
    pub error: Option<String>,
    pub attempts: i32,
    /// A worker's lease on the job; past it another worker may take the job over.
    pub claimed_until: Option<i64>,
    pub deadline_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
    /// `IMAGE` (a generation) or `TRAINING` (an avatar's LoRA training).
    pub purpose: String,
    /// The holder of the claim (`<instance>-<n>`): only it may release the claim or record a step.
    pub claimed_by: Option<String>,
    /// When the job's next step (submit, poll) is due.
    pub next_step_at: i64,
    /// Pictures the model's safety filter blocked (never stored; their share refunded).
    pub blocked_images: i32,
    /// The provider's last reported queue position, while queued.
    pub queue_position: Option<i32>,
    /// The style template it was made from.
    pub template_id: Option<i64>,
    /// What the user wrote, when the prompt sent differs (a template's subject, say).
    pub original_prompt: Option<String>,
    /// The user's image a video animates.
    pub source_image_id: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
