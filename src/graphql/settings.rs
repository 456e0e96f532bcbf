//! `me.settings` and `updateSettings`: what the user chose, read by the bot and the web client.

use async_graphql::{Context, InputObject, Object, SimpleObject};

use super::context::{current_user, services};
use crate::domain::{
    Result,
    users::{Settings, SettingsChange},
};

#[derive(Default)]
pub struct SettingsMutation;

#[Object]
impl SettingsMutation {
    /// Changes the signed-in user's settings named in `input` (the rest stay); a bad value is
    /// `BAD_USER_INPUT` and changes nothing.
    async fn update_settings(&self, ctx: &Context<'_>, input: SettingsInput) -> Result<UserSettings> {
        let id = current_user(ctx).await?;
        let change = SettingsChange {
            default_aspect_ratio: input.default_aspect_ratio,
            default_num_images: input.default_num_images.map(i64::from),
            quick_mode: input.quick_mode,
            quick_mode_max_price: input.quick_mode_max_price,
            show_technical_details: input.show_technical_details,
            language_code: input.language_code,
        };
        Ok(services(ctx).users.update_settings(id, change).await?.into())
    }
}

#[derive(InputObject, Default)]
pub struct SettingsInput {
    /// One of `1:1`, `16:9`, `9:16`, `3:4`, `4:3`.
    default_aspect_ratio: Option<String>,
    /// 1-4.
    default_num_images: Option<i32>,
    quick_mode: Option<bool>,
    /// 1-10000 credits.
    quick_mode_max_price: Option<i64>,
    show_technical_details: Option<bool>,
    /// Overrides the language Telegram reports (`en`, `ru`, …).
    language_code: Option<String>,
}

/// What the user chose.
#[derive(SimpleObject)]
pub struct UserSettings {
    /// What a new picture is, unless chosen otherwise.
    default_aspect_ratio: String,
    default_num_images: i32,
    /// Create without a confirmation when the price is at most `quickModeMaxPrice`.
    quick_mode: bool,
    quick_mode_max_price: i64,
    /// Show seed, model and timings on results.
    show_technical_details: bool,
    /// The language the user chose, else Telegram's; null when neither is known.
    language_code: Option<String>,
}

impl From<Settings> for UserSettings {
    fn from(s: Settings) -> Self {
        UserSettings {
            default_aspect_ratio: s.default_aspect_ratio.as_str().to_owned(),
            default_num_images: i32::from(s.default_num_images),
            quick_mode: s.quick_mode,
            quick_mode_max_price: s.quick_mode_max_price,
            show_technical_details: s.show_technical_details,
            language_code: s.language_code,
        }
    }
}
