//! Inline keyboards of every screen.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo};

use super::callback::{Callback, Period, Setting};
use super::operations::{AvatarStatus, ImageType};
use super::state::CardFilter;
use super::texts::{Texts, fill};

fn button(text: impl Into<String>, callback: Callback) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(text, callback.encode())
}

fn back(t: &Texts) -> Vec<InlineKeyboardButton> {
    vec![button(t.btn_back, Callback::Back)]
}

/// "✓ " before the chosen option.
fn mark(chosen: bool, label: &str) -> String {
    if chosen { format!("✓ {label}") } else { label.to_owned() }
}

/// The main menu; with a web app (an https public URL), its "Open the app" button first.
pub fn main_menu(t: &Texts, web_app: Option<&url::Url>) -> InlineKeyboardMarkup {
    let mut rows = Vec::with_capacity(5);
    if let Some(url) = web_app {
        rows.push(vec![InlineKeyboardButton::web_app(t.btn_open_app, WebAppInfo { url: url.clone() })]);
    }
    rows.extend([
        vec![button(t.btn_create, Callback::Create), button(t.btn_avatars, Callback::Avatars)],
        vec![button(t.btn_gallery, Callback::Gallery), button(t.btn_balance, Callback::Balance)],
        vec![button(t.btn_help, Callback::Help), button(t.btn_language, Callback::Language("pick".into()))],
        vec![button(t.btn_invite, Callback::Invite), button(t.btn_settings, Callback::Settings)],
    ]);
    InlineKeyboardMarkup::new(rows)
}

/// The settings screen: each button changes one setting (`labels` in the order of `Setting`).
pub fn settings(t: &Texts, labels: [String; 4]) -> InlineKeyboardMarkup {
    let [ratio, count, quick, details] = labels;
    InlineKeyboardMarkup::new([
        vec![button(ratio, Callback::Setting(Setting::Ratio)), button(count, Callback::Setting(Setting::Count))],
        vec![button(quick, Callback::Setting(Setting::Quick)), button(details, Callback::Setting(Setting::Details))],
        vec![button(t.btn_export_data, Callback::ExportData), button(t.btn_delete_account, Callback::AskDeleteAccount)],
        back(t),
    ])
}

/// Erasing the account: the one button that does it, and the way out.
pub fn confirm_delete_account(t: &Texts) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([
        vec![button(t.btn_confirm_delete_account, Callback::DeleteAccount)],
        vec![button(t.btn_keep_account, Callback::Settings)],
    ])
}

pub fn only_back(t: &Texts) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([back(t)])
}

/// The "Create" screen, waiting for a prompt: or a style to start from.
pub fn create(t: &Texts) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([
        vec![button(t.btn_styles, Callback::Styles), button(t.btn_video, Callback::Video)],
        back(t),
    ])
}

/// The video path: to the gallery, where each picture has 🎬.
pub fn video(t: &Texts) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([vec![button(t.btn_gallery, Callback::Gallery)], back(t)])
}

/// One button per entry (its label and what it opens), two a row, then favourites and back.
pub fn style_list(t: &Texts, entries: Vec<(String, Callback)>, favorites: bool) -> InlineKeyboardMarkup {
    let buttons: Vec<_> = entries.into_iter().map(|(label, callback)| button(label, callback)).collect();
    let mut rows: Vec<Vec<_>> = buttons.chunks(2).map(<[_]>::to_vec).collect();
    if favorites {
        rows.push(vec![button(t.btn_favorite_styles, Callback::FavoriteStyles)]);
    }
    rows.push(back(t));
    InlineKeyboardMarkup::new(rows)
}

/// Under a template's preview: use it, mark it, back to the categories.
pub fn style_card(t: &Texts, template_id: &str, favorite: bool) -> InlineKeyboardMarkup {
    let star = if favorite { t.btn_unfavorite_style } else { t.btn_favorite_style };
    InlineKeyboardMarkup::new([
        vec![button(t.btn_use_style, Callback::UseStyle(template_id.to_owned()))],
        vec![button(star, Callback::StyleFavorite(template_id.to_owned()))],
        vec![button(t.btn_back, Callback::Styles)],
    ])
}

pub fn languages() -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([vec![
        button("🇷🇺 Русский", Callback::Language("ru".into())),
        button("🇬🇧 English", Callback::Language("en".into())),
    ]])
}

/// The formats on offer; the user's default is marked.
pub fn ratios(t: &Texts, ratios: &[String], default: &str) -> InlineKeyboardMarkup {
    let buttons: Vec<_> = ratios.iter().map(|r| button(mark(r == default, r), Callback::Ratio(r.clone()))).collect();
    let mut rows: Vec<Vec<_>> = buttons.chunks(3).map(<[_]>::to_vec).collect();
    rows.push(back(t));
    InlineKeyboardMarkup::new(rows)
}

/// 1 to `max` images; the user's default is marked.
pub fn counts(t: &Texts, max: u8, default: u8) -> InlineKeyboardMarkup {
    let row = (1..=max.clamp(1, 4)).map(|n| button(mark(n == default, &n.to_string()), Callback::Count(n))).collect();
    InlineKeyboardMarkup::new([row, back(t)])
}

/// Create for the price; ✨ an enhanced prompt first, when the draft has a prompt of its own.
pub fn confirm(t: &Texts, price: i64, can_enhance: bool) -> InlineKeyboardMarkup {
    let mut rows = vec![vec![button(fill(t.btn_confirm, &[("price", &price)]), Callback::ConfirmGeneration)]];
    if can_enhance {
        rows.push(vec![button(t.btn_enhance, Callback::Enhance)]);
    }
    rows.push(back(t));
    InlineKeyboardMarkup::new(rows)
}

/// Under an enhanced prompt: use it, or back to the confirmation with one's own.
pub fn suggestion(t: &Texts) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([
        vec![button(t.btn_use_suggestion, Callback::UseEnhanced)],
        vec![button(t.btn_keep_mine, Callback::Back)],
    ])
}

pub fn not_enough(t: &Texts) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([vec![button(t.btn_top_up, Callback::TopUp), button(t.btn_menu, Callback::Menu)]])
}

/// Under delivered photos: again, the prompt, a ❤️ per image, open in the gallery.
/// Under a delivered result. A clip is made again from its picture; a picture can be animated.
pub fn result(t: &Texts, generation_id: &str, images: &[(String, bool)], is_video: bool) -> InlineKeyboardMarkup {
    if is_video {
        let mut rows = vec![
            vec![
                button(t.btn_animate_again, Callback::SameSeed(generation_id.to_owned())),
                button(t.btn_prompt, Callback::ShowPrompt(generation_id.to_owned())),
            ],
            vec![button(t.btn_edit_prompt, Callback::EditPrompt(generation_id.to_owned()))],
        ];
        if let Some((id, favorite)) = images.first() {
            rows.push(vec![button(heart(*favorite), Callback::Favorite(id.clone()))]);
            rows.push(vec![button(t.btn_open_gallery, Callback::OpenInGallery(id.clone()))]);
        }
        rows.push(vec![button(t.btn_menu, Callback::Menu)]);
        return InlineKeyboardMarkup::new(rows);
    }
    let mut rows = vec![
        vec![
            button(t.btn_again, Callback::Again(generation_id.to_owned())),
            button(t.btn_prompt, Callback::ShowPrompt(generation_id.to_owned())),
        ],
        vec![
            button(t.btn_same_seed, Callback::SameSeed(generation_id.to_owned())),
            button(t.btn_edit_prompt, Callback::EditPrompt(generation_id.to_owned())),
        ],
    ];
    if let Some((first, _)) = images.first() {
        rows[1].push(button(t.btn_variations, Callback::Variations(first.clone())));
    }
    if images.len() == 1 {
        let (id, favorite) = &images[0];
        rows.push(vec![button(heart(*favorite), Callback::Favorite(id.clone()))]);
    } else {
        let hearts = images.iter().enumerate().map(|(i, (id, favorite))| {
            button(format!("{} {}", heart(*favorite), i + 1), Callback::Favorite(id.clone()))
        });
        rows.push(hearts.collect());
    }
    if let Some((first, _)) = images.first() {
        rows.push(vec![
            button(t.btn_animate, Callback::Animate(first.clone())),
            button(t.btn_open_gallery, Callback::OpenInGallery(first.clone())),
        ]);
    }
    rows.push(vec![button(t.btn_menu, Callback::Menu)]);
    InlineKeyboardMarkup::new(rows)
}

pub fn heart(favorite: bool) -> &'static str {
    if favorite { "❤️" } else { "🤍" }
}

/// The gallery card's buttons; a picture (not a clip) can be animated.
pub fn card(
    t: &Texts,
    image_id: &str,
    generation_id: Option<&str>,
    favorite: bool,
    (index, total): (i64, i64),
    is_video: bool,
) -> InlineKeyboardMarkup {
    let same_seed = if is_video { t.btn_animate_again } else { t.btn_same_seed };
    let mut again: Vec<_> =
        generation_id.map(|id| button(same_seed, Callback::SameSeed(id.to_owned()))).into_iter().collect();
    again.push(button(t.btn_variations, Callback::Variations(image_id.to_owned())));
    if !is_video {
        again.push(button(t.btn_animate, Callback::Animate(image_id.to_owned())));
    }
    InlineKeyboardMarkup::new([
        vec![
            button("◀️", Callback::Previous(image_id.to_owned())),
            button(format!("{index}/{total}"), Callback::Noop),
            button("▶️", Callback::Next(image_id.to_owned())),
        ],
        vec![
            button(heart(favorite), Callback::ToggleFavorite(image_id.to_owned())),
            button("🗑", Callback::AskDelete(image_id.to_owned())),
        ],
        again,
        vec![button(t.btn_filters, Callback::Filters), button(t.btn_stats, Callback::Stats)],
        back(t),
    ])
}

pub fn confirm_delete(t: &Texts, image_id: &str) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([vec![
        button(t.btn_delete, Callback::Delete(image_id.to_owned())),
        button(t.btn_cancel, Callback::Back),
    ]])
}

pub fn empty_gallery(t: &Texts) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([
        vec![button(t.btn_create, Callback::Create), button(t.btn_filters, Callback::Filters)],
        back(t),
    ])
}

pub fn filters(t: &Texts, filter: &CardFilter, saved: &[String]) -> InlineKeyboardMarkup {
    let kind = filter.kind;
    let period = filter.period;
    let mut rows = vec![
        vec![
            button(mark(kind.is_none(), t.all_types), Callback::FilterType(None)),
            button(mark(kind == Some(ImageType::Imagen4), "Imagen 4"), Callback::FilterType(Some(ImageType::Imagen4))),
            button(mark(kind == Some(ImageType::Avatar), "Avatar"), Callback::FilterType(Some(ImageType::Avatar))),
        ],
        vec![
            button(mark(kind == Some(ImageType::Flux), "FLUX"), Callback::FilterType(Some(ImageType::Flux))),
            button(
                mark(kind == Some(ImageType::Ideogram), "Ideogram"),
                Callback::FilterType(Some(ImageType::Ideogram)),
            ),
            button(mark(kind == Some(ImageType::Video), t.video_type), Callback::FilterType(Some(ImageType::Video))),
        ],
        vec![button(mark(filter.favorites, &format!("❤️ {}", t.favorites_only)), Callback::FilterFavorites)],
        vec![
            button(mark(period == Some(Period::Day), t.today), Callback::FilterPeriod(Some(Period::Day))),
            button(mark(period == Some(Period::Week), t.week), Callback::FilterPeriod(Some(Period::Week))),
            button(mark(period == Some(Period::Month), t.month), Callback::FilterPeriod(Some(Period::Month))),
            button(mark(period.is_none(), t.all_time), Callback::FilterPeriod(None)),
        ],
    ];
    for (i, name) in saved.iter().enumerate().take(5) {
        rows.push(vec![button(format!("💾 {name}"), Callback::SavedFilter(i as u8))]);
    }
    rows.push(back(t));
    InlineKeyboardMarkup::new(rows)
}

pub fn balance(t: &Texts) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([
        vec![button(t.btn_top_up, Callback::TopUp), button(t.btn_promo, Callback::Promo)],
        vec![button(t.btn_history, Callback::History), button(t.btn_spending, Callback::Spending(Some(Period::Month)))],
        back(t),
    ])
}

/// The periods of the spending screen, the one shown marked.
pub fn spending(t: &Texts, period: Option<Period>) -> InlineKeyboardMarkup {
    let choice = |p: Option<Period>, label: &str| button(mark(period == p, label), Callback::Spending(p));
    InlineKeyboardMarkup::new([
        vec![choice(Some(Period::Week), t.week), choice(Some(Period::Month), t.month), choice(None, t.all_time)],
        back(t),
    ])
}

/// One button per refundable payment (id, label), then Back.
pub fn refundable(t: &Texts, payments: &[(String, String)]) -> InlineKeyboardMarkup {
    let mut rows: Vec<Vec<_>> =
        payments.iter().map(|(id, label)| vec![button(label.as_str(), Callback::Refund(id.clone()))]).collect();
    rows.push(back(t));
    InlineKeyboardMarkup::new(rows)
}

pub fn confirm_refund(t: &Texts, payment_id: &str, label: &str) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([vec![
        button(label, Callback::ConfirmRefund(payment_id.to_owned())),
        button(t.btn_cancel, Callback::PaySupport),
    ]])
}

pub fn packages(t: &Texts, packages: &[(String, String)]) -> InlineKeyboardMarkup {
    let mut rows: Vec<Vec<_>> =
        packages.iter().map(|(id, label)| vec![button(label.as_str(), Callback::Buy(id.clone()))]).collect();
    rows.push(back(t));
    InlineKeyboardMarkup::new(rows)
}

/// One button per avatar, then "new avatar" and Back.
pub fn avatars(t: &Texts, avatars: &[(String, String)]) -> InlineKeyboardMarkup {
    let mut rows: Vec<Vec<_>> =
        avatars.iter().map(|(id, label)| vec![button(label.as_str(), Callback::OpenAvatar(id.clone()))]).collect();
    rows.push(vec![button(t.btn_new_avatar, Callback::NewAvatar)]);
    rows.push(back(t));
    InlineKeyboardMarkup::new(rows)
}

pub fn avatar_kinds(t: &Texts) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([
        vec![button(t.btn_portrait, Callback::AvatarKind(false)), button(t.btn_style, Callback::AvatarKind(true))],
        back(t),
    ])
}

/// Under the photo count: train (with its price) once the API says it can.
pub fn photos(t: &Texts, avatar_id: &str, train: Option<i64>) -> InlineKeyboardMarkup {
    let mut rows = Vec::new();
    if let Some(price) = train {
        rows.push(vec![button(fill(t.btn_train, &[("price", &price)]), Callback::TrainAvatar(avatar_id.to_owned()))]);
    }
    rows.push(back(t));
    InlineKeyboardMarkup::new(rows)
}

/// What can be done with an avatar in its status; `train` is the training price when the API
/// says it can start.
pub fn avatar(
    t: &Texts,
    avatar_id: &str,
    (status, retraining): (AvatarStatus, bool),
    train: Option<i64>,
    is_main: bool,
) -> InlineKeyboardMarkup {
    let id = avatar_id.to_owned();
    let mut rows = Vec::new();
    match status {
        AvatarStatus::Ready => {
            rows.push(vec![button(t.btn_use_avatar, Callback::UseAvatar(id.clone()))]);
            if retraining {
                rows.push(vec![button(t.btn_cancel_training, Callback::CancelTraining(id.clone()))]);
            } else {
                let mut again = vec![button(t.btn_add_photos, Callback::AvatarPhotos(id.clone()))];
                if let Some(price) = train {
                    again.push(button(fill(t.btn_retrain, &[("price", &price)]), Callback::TrainAvatar(id.clone())));
                }
                rows.push(again);
            }
        }
        AvatarStatus::Training => rows.push(vec![button(t.btn_cancel_training, Callback::CancelTraining(id.clone()))]),
        AvatarStatus::Draft | AvatarStatus::Failed | AvatarStatus::Cancelled => {
            rows.push(vec![button(t.btn_add_photos, Callback::AvatarPhotos(id.clone()))]);
            if let Some(price) = train {
                rows.push(vec![button(fill(t.btn_train, &[("price", &price)]), Callback::TrainAvatar(id.clone()))]);
            }
        }
    }
    let mut care = vec![button(t.btn_rename_avatar, Callback::RenameAvatar(id.clone()))];
    if !is_main {
        care.push(button(t.btn_main_avatar, Callback::MainAvatar(id.clone())));
    }
    care.push(button("🗑", Callback::AskDeleteAvatar(id)));
    rows.push(care);
    rows.push(back(t));
    InlineKeyboardMarkup::new(rows)
}

pub fn use_avatar(t: &Texts, avatar_id: &str) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([
        vec![button(t.btn_use_avatar, Callback::UseAvatar(avatar_id.to_owned()))],
        vec![button(t.btn_menu, Callback::Menu)],
    ])
}

pub fn confirm_delete_avatar(t: &Texts, avatar_id: &str) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([vec![
        button(t.btn_delete, Callback::DeleteAvatar(avatar_id.to_owned())),
        button(t.btn_cancel, Callback::Back),
    ]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::texts::Lang;
    use teloxide::types::InlineKeyboardButtonKind;

    #[test]
    fn the_main_menu_opens_the_web_app_only_over_https() {
        let t = Lang::En.texts();
        let https = crate::telegram::web_app_url(&url::Url::parse("https://aisha.example/api").expect("url"));
        assert_eq!(https.as_ref().map(url::Url::as_str), Some("https://aisha.example/"));
        assert_eq!(crate::telegram::web_app_url(&url::Url::parse("http://127.0.0.1:8080").expect("url")), None);
        let menu = main_menu(t, https.as_ref());
        let first = &menu.inline_keyboard[0][0];
        assert_eq!(first.text, t.btn_open_app);
        assert!(
            matches!(&first.kind, InlineKeyboardButtonKind::WebApp(info) if info.url.as_str() == "https://aisha.example/")
        );
        assert_eq!(main_menu(t, None).inline_keyboard.len(), menu.inline_keyboard.len() - 1);
    }
}
