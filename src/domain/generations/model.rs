use serde::{Deserialize, Serialize};

use crate::domain::{Error, Result, gallery::Image, time::Micros};

/// Where a generation is in its life; the last three are terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GenerationStatus {
    Pending,
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl GenerationStatus {
    pub const ACTIVE: [GenerationStatus; 3] =
        [GenerationStatus::Pending, GenerationStatus::Queued, GenerationStatus::Running];

    pub fn as_str(self) -> &'static str {
        match self {
            GenerationStatus::Pending => "PENDING",
            GenerationStatus::Queued => "QUEUED",
            GenerationStatus::Running => "RUNNING",
            GenerationStatus::Completed => "COMPLETED",
            GenerationStatus::Failed => "FAILED",
            GenerationStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "PENDING" => GenerationStatus::Pending,
            "QUEUED" => GenerationStatus::Queued,
            "RUNNING" => GenerationStatus::Running,
            "COMPLETED" => GenerationStatus::Completed,
            "FAILED" => GenerationStatus::Failed,
            "CANCELLED" => GenerationStatus::Cancelled,
            other => return Err(Error::internal(format!("unknown generation status {other:?}"))),
        })
    }

    pub fn is_terminal(self) -> bool {
        !Self::ACTIVE.contains(&self)
    }
}

/// The aspect ratios our models accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AspectRatio {
    Square,
    Landscape16x9,
    Portrait9x16,
    Portrait3x4,
    Landscape4x3,
}

impl AspectRatio {
    pub const ALL: [AspectRatio; 5] = [
        AspectRatio::Square,
        AspectRatio::Landscape16x9,
        AspectRatio::Portrait9x16,
        AspectRatio::Portrait3x4,
        AspectRatio::Landscape4x3,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AspectRatio::Square => "1:1",
            AspectRatio::Landscape16x9 => "16:9",
            AspectRatio::Portrait9x16 => "9:16",
            AspectRatio::Portrait3x4 => "3:4",
            AspectRatio::Landscape4x3 => "4:3",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| Error::invalid(format!("aspect ratio {s:?} is not one of 1:1, 16:9, 9:16, 3:4, 4:3")))
    }

    /// Width and height for a long side of `long` pixels.
    pub fn size(self, long: u32) -> (u32, u32) {
        let (w, h) = match self {
            AspectRatio::Square => (1, 1),
            AspectRatio::Landscape16x9 => (16, 9),
            AspectRatio::Portrait9x16 => (9, 16),
            AspectRatio::Portrait3x4 => (3, 4),
            AspectRatio::Landscape4x3 => (4, 3),
        };
        let scale = long as f64 / w.max(h) as f64;
        (((w as f64 * scale).round() as u32).max(1), ((h as f64 * scale).round() as u32).max(1))
    }
}

/// A prompt: trimmed, 1–2000 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt(String);

impl Prompt {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self> {
        let prompt = raw.trim();
        let chars = prompt.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS {
            return Err(Error::invalid(format!("prompt must be 1-{} characters", Self::MAX_CHARS)));
        }
        Ok(Prompt(prompt.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A generation as clients see it, with its images once completed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub id: i64,
    pub user_id: i64,
    pub model: String,
    pub prompt: String,
    pub aspect_ratio: AspectRatio,
    pub num_images: u8,
    pub seed: Option<i64>,
    pub avatar_id: Option<i64>,
    pub status: GenerationStatus,
    pub progress: u8,
    pub cost: i64,
    pub error: Option<String>,
    /// Pictures the model's safety filter blocked: not stored, their share refunded.
    /// (`default`: events from an instance that predates the field still decode.)
    #[serde(default)]
    pub blocked_images: u8,
    /// Where the provider last said the job waits in its queue (while queued).
    #[serde(default)]
    pub queue_position: Option<u32>,
    /// The style template it was made from.
    #[serde(default)]
    pub template_id: Option<i64>,
    /// What the user wrote, when the prompt sent differs (a template's subject, say).
    #[serde(default)]
    pub original_prompt: Option<String>,
    /// The image a video animates.
    #[serde(default)]
    pub source_image_id: Option<i64>,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub completed_at: Option<Micros>,
    pub images: Vec<Image>,
}

/// A seed for a generation that was given none: stored with it and sent to the provider, so
/// the same picture can be asked for again. FAL's models take 32-bit seeds.
pub fn new_seed() -> i64 {
    i64::from(rand::random::<u32>() >> 1)
}

/// A price as the user would pay it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    /// The catalogue's.
    pub price: i64,
    /// The waiting promo discount the action would consume.
    pub discount_percent: Option<i64>,
    pub to_pay: i64,
    /// Negative when the balance is not enough.
    pub balance_after: i64,
    /// False when the user's quick mode covers `to_pay`.
    pub needs_confirmation: bool,
}

/// What `createGeneration` asks for, parsed.
#[derive(Clone, Debug)]
pub struct NewGeneration {
    pub model: String,
    pub prompt: Prompt,
    pub aspect_ratio: AspectRatio,
    pub num_images: u8,
    pub seed: Option<i64>,
    pub avatar_id: Option<i64>,
    pub idempotency_key: Option<crate::domain::credits::IdempotencyKey>,
    /// The style template the prompt was filled from.
    pub template_id: Option<i64>,
    /// What the user wrote, when `prompt` is made from it (a template's subject, say).
    pub original_prompt: Option<String>,
    /// The user's image a video model animates (`animateImage`).
    pub source_image_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_and_ratios_parse_at_the_edge() {
        assert_eq!(Prompt::parse("  a cat  ").expect("valid").as_str(), "a cat");
        assert!(Prompt::parse("   ").is_err());
        assert!(Prompt::parse(&"я".repeat(2001)).is_err());
        assert!(Prompt::parse(&"я".repeat(2000)).is_ok());
        assert_eq!(AspectRatio::parse("16:9").expect("valid").size(1024), (1024, 576));
        assert_eq!(AspectRatio::parse("3:4").expect("valid").size(64), (48, 64));
        assert!(AspectRatio::parse("2:1").is_err());
    }
}
