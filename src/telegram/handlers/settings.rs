//! The settings screen: each button changes one setting through `updateSettings` and redraws
//! the screen with what the API answered. What a setting can be (the formats, the counts) is the
//! catalogue's, as the API lists it.

use super::{Result, Turn};
use crate::telegram::callback::Setting;
use crate::telegram::keyboards;
use crate::telegram::operations::{Settings, UpdateSettings, settings, update_settings};
use crate::telegram::state::Screen;
use crate::telegram::texts::fill;

/// The settings as the screen shows them.
struct Values {
    ratio: String,
    count: i64,
    quick: bool,
    max: i64,
    details: bool,
}

/// The two operations answer with the same fields in types of their own.
macro_rules! values_from {
    ($($from:path),+) => {$(
        impl From<$from> for Values {
            fn from(s: $from) -> Self {
                Values {
                    ratio: s.default_aspect_ratio,
                    count: s.default_num_images,
                    quick: s.quick_mode,
                    max: s.quick_mode_max_price,
                    details: s.show_technical_details,
                }
            }
        }
    )+};
}

values_from!(settings::SettingsMeSettings, update_settings::UpdateSettingsUpdateSettings);

async fn load(turn: &Turn<'_>) -> Result<settings::ResponseData> {
    turn.execute::<Settings>(settings::Variables).await
}

pub async fn show(turn: &mut Turn<'_>) -> Result<()> {
    let data = load(turn).await?;
    render(turn, &data.me.settings.into()).await
}

async fn render(turn: &mut Turn<'_>, s: &Values) -> Result<()> {
    let t = turn.t();
    let switch = |on: bool| if on { t.on } else { t.off };
    let text = fill(
        t.settings,
        &[
            ("ratio", &s.ratio),
            ("count", &s.count),
            ("quick", &switch(s.quick)),
            ("max", &s.max),
            ("details", &switch(s.details)),
        ],
    );
    let labels = [
        fill(t.btn_setting_ratio, &[("value", &s.ratio)]),
        fill(t.btn_setting_count, &[("value", &s.count)]),
        fill(t.btn_setting_quick, &[("value", &switch(s.quick))]),
        fill(t.btn_setting_details, &[("value", &switch(s.details))]),
    ];
    turn.show(Screen::Settings, &text, Some(keyboards::settings(t, labels))).await
}

/// The next format or count on offer after the current one, or a switch flipped.
pub async fn change(turn: &mut Turn<'_>, setting: Setting) -> Result<()> {
    let data = load(turn).await?;
    let current = &data.me.settings;
    let model = data.models.iter().find(|m| !m.requires_avatar).or(data.models.first());
    let mut input = update_settings::SettingsInput {
        default_aspect_ratio: None,
        default_num_images: None,
        quick_mode: None,
        quick_mode_max_price: None,
        show_technical_details: None,
        language_code: None,
    };
    match setting {
        Setting::Ratio => {
            let ratios = model.map(|m| m.aspect_ratios.as_slice()).unwrap_or_default();
            input.default_aspect_ratio = next(ratios, &current.default_aspect_ratio);
        }
        Setting::Count => {
            let counts: Vec<i64> = (1..=model.map_or(1, |m| m.max_images.clamp(1, 4))).collect();
            input.default_num_images = next(&counts, &current.default_num_images);
        }
        Setting::Quick => input.quick_mode = Some(!current.quick_mode),
        Setting::Details => input.show_technical_details = Some(!current.show_technical_details),
    }
    let updated = turn.execute::<UpdateSettings>(update_settings::Variables { input }).await?.update_settings;
    render(turn, &updated.into()).await
}

/// The option after `current` (the first after the last, or when `current` is not offered).
fn next<T: PartialEq + Clone>(options: &[T], current: &T) -> Option<T> {
    let at = options.iter().position(|o| o == current).map_or(0, |i| i + 1);
    options.get(at % options.len().max(1)).cloned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_cycles_through_the_options() {
        let options = ["1:1", "16:9", "9:16"];
        assert_eq!(super::next(&options, &"1:1"), Some("16:9"));
        assert_eq!(super::next(&options, &"9:16"), Some("1:1"));
        assert_eq!(super::next(&options, &"4:3"), Some("1:1"));
        assert_eq!(super::next::<&str>(&[], &"1:1"), None);
    }
}
