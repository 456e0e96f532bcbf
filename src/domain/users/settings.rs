//! What a user chooses for themself: the defaults of a new picture, quick mode (no confirmation
//! for a price up to a limit) and technical details on results. The language is the user's
//! `language_code`, set here or by `setLanguage`.

use crate::domain::generations::AspectRatio;
use crate::domain::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub default_aspect_ratio: AspectRatio,
    pub default_num_images: u8,
    /// The bot creates a picture without asking when its price is at most `quick_mode_max_price`.
    pub quick_mode: bool,
    pub quick_mode_max_price: i64,
    /// Seed, model and timings on results.
    pub show_technical_details: bool,
    pub language_code: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_aspect_ratio: AspectRatio::Square,
            default_num_images: 1,
            quick_mode: false,
            quick_mode_max_price: 10,
            show_technical_details: false,
            language_code: None,
        }
    }
}

impl Settings {
    /// Whether a client asks before a paid action of this price: always, unless quick mode is
    /// on and the price is within its limit.
    pub fn asks_before(&self, price: i64) -> bool {
        !(self.quick_mode && price <= self.quick_mode_max_price)
    }
}

/// A change to some settings; what is None stays as it is.
#[derive(Clone, Debug, Default)]
pub struct SettingsChange {
    pub default_aspect_ratio: Option<String>,
    pub default_num_images: Option<i64>,
    pub quick_mode: Option<bool>,
    pub quick_mode_max_price: Option<i64>,
    pub show_technical_details: Option<bool>,
    pub language_code: Option<String>,
}

/// A change checked whole before any of it is stored.
pub(super) struct ValidChange {
    pub default_aspect_ratio: Option<AspectRatio>,
    pub default_num_images: Option<u8>,
    pub quick_mode: Option<bool>,
    pub quick_mode_max_price: Option<i64>,
    pub show_technical_details: Option<bool>,
    pub language_code: Option<String>,
}

impl SettingsChange {
    pub(super) fn validate(self) -> Result<ValidChange> {
        let default_num_images = match self.default_num_images {
            Some(n @ 1..=4) => Some(n as u8),
            Some(_) => return Err(Error::invalid("defaultNumImages must be 1-4")),
            None => None,
        };
        if self.quick_mode_max_price.is_some_and(|p| !(1..=10_000).contains(&p)) {
            return Err(Error::invalid("quickModeMaxPrice must be 1-10000 credits"));
        }
        Ok(ValidChange {
            default_aspect_ratio: self.default_aspect_ratio.as_deref().map(AspectRatio::parse).transpose()?,
            default_num_images,
            quick_mode: self.quick_mode,
            quick_mode_max_price: self.quick_mode_max_price,
            show_technical_details: self.show_technical_details,
            language_code: self.language_code.as_deref().map(language_code).transpose()?,
        })
    }
}

/// An IETF language tag such as `en` or `ru`, lower case.
pub(super) fn language_code(raw: &str) -> Result<String> {
    let code = raw.trim().to_ascii_lowercase();
    let valid = (2..=8).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    if !valid {
        return Err(Error::invalid("languageCode must be an IETF language tag such as en or ru"));
    }
    Ok(code)
}
