//! The model catalogue: what `models` lists and `createGeneration` accepts, with prices in
//! credits per image. Model ids are the provider's (`fal-ai/imagen4/preview`).

use super::model::AspectRatio;
use crate::domain::gallery::ImageKind;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    pub id: String,
    pub name: String,
    /// `FAL` or `LOCAL`.
    pub provider: &'static str,
    pub price_per_image: i64,
    pub aspect_ratios: Vec<AspectRatio>,
    pub max_images: u8,
    /// What images of this model are, in the gallery.
    pub kind: ImageKind,
    /// Needs an avatar (a trained LoRA) to run.
    pub needs_avatar: bool,
    pub description: String,
    /// A video model: it animates one of the user's pictures into a clip of this many
    /// seconds, priced per clip (`price_per_image`, one clip a generation).
    pub clip_seconds: Option<u32>,
}

impl ModelSpec {
    pub fn is_video(&self) -> bool {
        self.clip_seconds.is_some()
    }

    /// What `num_images` images cost, in credits.
    pub fn price(&self, num_images: u8) -> i64 {
        self.price_per_image * i64::from(num_images)
    }

    /// A number of images this model makes, checked.
    pub fn image_count(&self, num_images: i64) -> crate::domain::Result<u8> {
        u8::try_from(num_images).ok().filter(|n| (1..=self.max_images).contains(n)).ok_or_else(|| {
            crate::domain::Error::invalid(format!("numImages must be 1-{} for {}", self.max_images, self.id))
        })
    }
}

pub const LOCAL_MODEL: &str = "local/sketch";
/// The image-to-video model `animateImage` uses unless told otherwise.
pub const VIDEO_MODEL: &str = "fal-ai/kling-video/v2.1/standard/image-to-video";

/// The default catalogue. Prices can be changed with `AISHA_MODEL_PRICES`.
pub fn default_catalog() -> Vec<ModelSpec> {
    let fal = |id: &str, name: &str, price: i64, kind: ImageKind, needs_avatar: bool, description: &str| ModelSpec {
        id: id.into(),
        name: name.into(),
        provider: "FAL",
        price_per_image: price,
        aspect_ratios: AspectRatio::ALL.to_vec(),
        max_images: 4,
        kind,
        needs_avatar,
        description: description.into(),
        clip_seconds: None,
    };
    vec![
        fal(
            "fal-ai/imagen4/preview",
            "Imagen 4",
            5,
            ImageKind::Imagen4,
            false,
            "Google Imagen 4: balanced quality and speed",
        ),
        fal(
            "fal-ai/imagen4/preview/fast",
            "Imagen 4 Fast",
            3,
            ImageKind::Imagen4,
            false,
            "Google Imagen 4, fastest and cheapest",
        ),
        fal(
            "fal-ai/imagen4/preview/ultra",
            "Imagen 4 Ultra",
            8,
            ImageKind::Imagen4,
            false,
            "Google Imagen 4, highest quality",
        ),
        fal(
            "fal-ai/flux-pro/v1.1-ultra",
            "FLUX 1.1 [pro] ultra",
            8,
            ImageKind::Flux,
            false,
            "Black Forest Labs' FLUX 1.1 [pro] ultra: photorealism up to 4 megapixels",
        ),
        fal(
            "fal-ai/ideogram/v3",
            "Ideogram 3",
            8,
            ImageKind::Ideogram,
            false,
            "Ideogram 3: the best at text in pictures (posters, logos, lettering)",
        ),
        fal(
            "fal-ai/flux-lora",
            "FLUX with your avatar",
            6,
            ImageKind::Avatar,
            true,
            "FLUX.1 [dev] with your trained avatar (LoRA)",
        ),
        ModelSpec {
            id: VIDEO_MODEL.into(),
            name: "Kling 2.1 video".into(),
            provider: "FAL",
            // FAL asks $0.28 for 5 s; at Imagen 4's rate (5 credits for $0.04) that is 35.
            price_per_image: 35,
            // The clip keeps the picture's shape.
            aspect_ratios: AspectRatio::ALL.to_vec(),
            max_images: 1,
            kind: ImageKind::Video,
            needs_avatar: false,
            description: "Kling 2.1 (standard): animates one of your pictures into a 5-second clip".into(),
            clip_seconds: Some(5),
        },
        ModelSpec {
            id: LOCAL_MODEL.into(),
            name: "Local sketch (not AI)".into(),
            provider: "LOCAL",
            price_per_image: 1,
            aspect_ratios: AspectRatio::ALL.to_vec(),
            max_images: 4,
            kind: ImageKind::Local,
            needs_avatar: false,
            description: "Drawn on this server from the prompt's text: a placeholder renderer, not an AI model".into(),
            clip_seconds: None,
        },
    ]
}

/// Applies `model=price,model=price` overrides; an unknown model or a bad price is an error.
pub fn apply_prices(catalog: &mut [ModelSpec], overrides: &str) -> Result<(), String> {
    for pair in overrides.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, price) = pair.split_once('=').ok_or_else(|| format!("{pair:?} is not model=price"))?;
        let price: i64 = price.trim().parse().map_err(|_| format!("{pair:?}: the price is not a whole number"))?;
        if price < 0 {
            return Err(format!("{pair:?}: the price must not be negative"));
        }
        let model = catalog.iter_mut().find(|m| m.id == id.trim()).ok_or_else(|| format!("unknown model {id:?}"))?;
        model.price_per_image = price;
    }
    Ok(())
}
