//! `callback_data` of inline buttons: short, ≤ 64 bytes (Telegram's limit), and untrusted —
//! anything a button names is checked again by the API (ownership, existence).

use super::operations::ImageType;

/// Telegram refuses longer callback data with `BUTTON_DATA_INVALID`.
pub const MAX_LEN: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Callback {
    Menu,
    Back,
    Create,
    Ratio(String),
    Count(u8),
    ConfirmGeneration,
    Again(String),
    /// The same picture again: a generation's seed and parameters.
    SameSeed(String),
    /// New seeds of an image.
    Variations(String),
    /// Asks for a new prompt for a generation, then makes it with the same seed.
    EditPrompt(String),
    /// A clip of an image.
    Animate(String),
    /// The video path of Create: how to make a clip.
    Video,
    /// Asks for an enhanced prompt for the draft.
    Enhance,
    /// Creates with the enhancement on display.
    UseEnhanced,
    /// The style categories.
    Styles,
    /// The templates of a category.
    StyleCategory(String),
    /// The user's favourite templates.
    FavoriteStyles,
    /// One template's card.
    StyleTemplate(String),
    /// Creates with a template: asks for the subject.
    UseStyle(String),
    /// Marks or unmarks a template as a favourite.
    StyleFavorite(String),
    ShowPrompt(String),
    Favorite(String),
    OpenInGallery(String),
    Gallery,
    Previous(String),
    Next(String),
    ToggleFavorite(String),
    AskDelete(String),
    Delete(String),
    Filters,
    FilterType(Option<ImageType>),
    FilterFavorites,
    FilterPeriod(Option<Period>),
    SavedFilter(u8),
    Stats,
    Balance,
    TopUp,
    Buy(String),
    PaySupport,
    /// Asks for a promo code.
    Promo,
    /// The full list of recent transactions.
    History,
    /// The referral link and what it brought.
    Invite,
    /// Spending over a period (None: all time).
    Spending(Option<Period>),
    Settings,
    /// Changes one setting (the next format or count, or a switch).
    Setting(Setting),
    /// Sends the archive of the user's data.
    ExportData,
    /// Asks whether to erase the account, then erases it.
    AskDeleteAccount,
    DeleteAccount,
    Refund(String),
    ConfirmRefund(String),
    Language(String),
    Help,
    Avatars,
    NewAvatar,
    AvatarKind(bool),
    OpenAvatar(String),
    AvatarPhotos(String),
    TrainAvatar(String),
    CancelTraining(String),
    UseAvatar(String),
    AskDeleteAvatar(String),
    /// Asks for an avatar's new name.
    RenameAvatar(String),
    MainAvatar(String),
    DeleteAvatar(String),
    Noop,
}

/// A setting a button of the settings screen changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    Ratio,
    Count,
    Quick,
    Details,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub fn days(self) -> i64 {
        match self {
            Period::Day => 1,
            Period::Week => 7,
            Period::Month => 30,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Period::Day => "d",
            Period::Week => "w",
            Period::Month => "m",
        }
    }
}

impl Callback {
    pub fn encode(&self) -> String {
        let data = match self {
            Callback::Menu => "m".to_owned(),
            Callback::Back => "bk".to_owned(),
            Callback::Create => "c".to_owned(),
            Callback::Ratio(r) => format!("ar:{r}"),
            Callback::Count(n) => format!("n:{n}"),
            Callback::ConfirmGeneration => "go".to_owned(),
            Callback::Again(id) => format!("ag:{id}"),
            Callback::SameSeed(id) => format!("rs:{id}"),
            Callback::Variations(id) => format!("vr:{id}"),
            Callback::EditPrompt(id) => format!("ep:{id}"),
            Callback::Animate(id) => format!("vi:{id}"),
            Callback::Video => "vd".to_owned(),
            Callback::Enhance => "pe".to_owned(),
            Callback::UseEnhanced => "pu".to_owned(),
            Callback::Styles => "sy".to_owned(),
            Callback::StyleCategory(id) => format!("sc:{id}"),
            Callback::FavoriteStyles => "sf".to_owned(),
            Callback::StyleTemplate(id) => format!("tp:{id}"),
            Callback::UseStyle(id) => format!("tu:{id}"),
            Callback::StyleFavorite(id) => format!("tf:{id}"),
            Callback::ShowPrompt(id) => format!("pr:{id}"),
            Callback::Favorite(id) => format!("fv:{id}"),
            Callback::OpenInGallery(id) => format!("og:{id}"),
            Callback::Gallery => "g".to_owned(),
            Callback::Previous(id) => format!("gp:{id}"),
            Callback::Next(id) => format!("gn:{id}"),
            Callback::ToggleFavorite(id) => format!("gf:{id}"),
            Callback::AskDelete(id) => format!("gd:{id}"),
            Callback::Delete(id) => format!("gy:{id}"),
            Callback::Filters => "fl".to_owned(),
            Callback::FilterType(t) => format!("ft:{}", t.map_or("*", ImageType::wire_name)),
            Callback::FilterFavorites => "ff".to_owned(),
            Callback::FilterPeriod(p) => format!("fp:{}", p.map_or("*", Period::code)),
            Callback::SavedFilter(i) => format!("fs:{i}"),
            Callback::Stats => "st".to_owned(),
            Callback::Balance => "b".to_owned(),
            Callback::TopUp => "t".to_owned(),
            Callback::Buy(id) => format!("buy:{id}"),
            Callback::PaySupport => "ps".to_owned(),
            Callback::Promo => "pc".to_owned(),
            Callback::History => "hi".to_owned(),
            Callback::Invite => "iv".to_owned(),
            Callback::Spending(p) => format!("sp:{}", p.map_or("*", Period::code)),
            Callback::Settings => "se".to_owned(),
            Callback::Setting(setting) => format!(
                "se:{}",
                match setting {
                    Setting::Ratio => "r",
                    Setting::Count => "n",
                    Setting::Quick => "q",
                    Setting::Details => "d",
                }
            ),
            Callback::ExportData => "xd".to_owned(),
            Callback::AskDeleteAccount => "xa".to_owned(),
            Callback::DeleteAccount => "xy".to_owned(),
            Callback::Refund(id) => format!("rf:{id}"),
            Callback::ConfirmRefund(id) => format!("ry:{id}"),
            Callback::Language(code) => format!("l:{code}"),
            Callback::Help => "h".to_owned(),
            Callback::Avatars => "av".to_owned(),
            Callback::NewAvatar => "an".to_owned(),
            Callback::AvatarKind(style) => format!("ak:{}", if *style { "s" } else { "p" }),
            Callback::OpenAvatar(id) => format!("ao:{id}"),
            Callback::AvatarPhotos(id) => format!("ap:{id}"),
            Callback::TrainAvatar(id) => format!("at:{id}"),
            Callback::CancelTraining(id) => format!("ac:{id}"),
            Callback::UseAvatar(id) => format!("au:{id}"),
            Callback::AskDeleteAvatar(id) => format!("ad:{id}"),
            Callback::RenameAvatar(id) => format!("ae:{id}"),
            Callback::MainAvatar(id) => format!("am:{id}"),
            Callback::DeleteAvatar(id) => format!("ax:{id}"),
            Callback::Noop => "-".to_owned(),
        };
        debug_assert!(data.len() <= MAX_LEN, "callback data too long: {data}");
        data
    }

    /// None for data we never made (an old client, a forged button).
    pub fn decode(data: &str) -> Option<Callback> {
        if data.len() > MAX_LEN {
            return None;
        }
        let (head, arg) = data.split_once(':').map_or((data, None), |(h, a)| (h, Some(a)));
        let id = || arg.filter(|a| !a.is_empty() && a.len() <= 48).map(str::to_owned);
        Some(match (head, arg) {
            ("m", None) => Callback::Menu,
            ("bk", None) => Callback::Back,
            ("c", None) => Callback::Create,
            ("ar", Some(_)) => Callback::Ratio(id()?),
            ("n", Some(n)) => Callback::Count(n.parse().ok().filter(|n| (1..=4).contains(n))?),
            ("go", None) => Callback::ConfirmGeneration,
            ("ag", _) => Callback::Again(id()?),
            ("rs", _) => Callback::SameSeed(id()?),
            ("vr", _) => Callback::Variations(id()?),
            ("ep", _) => Callback::EditPrompt(id()?),
            ("vi", _) => Callback::Animate(id()?),
            ("vd", None) => Callback::Video,
            ("pe", None) => Callback::Enhance,
            ("pu", None) => Callback::UseEnhanced,
            ("sy", None) => Callback::Styles,
            ("sc", _) => Callback::StyleCategory(id()?),
            ("sf", None) => Callback::FavoriteStyles,
            ("tp", _) => Callback::StyleTemplate(id()?),
            ("tu", _) => Callback::UseStyle(id()?),
            ("tf", _) => Callback::StyleFavorite(id()?),
            ("pr", _) => Callback::ShowPrompt(id()?),
            ("fv", _) => Callback::Favorite(id()?),
            ("og", _) => Callback::OpenInGallery(id()?),
            ("g", None) => Callback::Gallery,
            ("gp", _) => Callback::Previous(id()?),
            ("gn", _) => Callback::Next(id()?),
            ("gf", _) => Callback::ToggleFavorite(id()?),
            ("gd", _) => Callback::AskDelete(id()?),
            ("gy", _) => Callback::Delete(id()?),
            ("fl", None) => Callback::Filters,
            ("ft", Some("*")) => Callback::FilterType(None),
            ("ft", Some(kind)) => Callback::FilterType(Some(ImageType::from_wire_name(kind)?)),
            ("ff", None) => Callback::FilterFavorites,
            ("fp", Some(p)) => Callback::FilterPeriod(match p {
                "d" => Some(Period::Day),
                "w" => Some(Period::Week),
                "m" => Some(Period::Month),
                "*" => None,
                _ => return None,
            }),
            ("fs", Some(i)) => Callback::SavedFilter(i.parse().ok()?),
            ("st", None) => Callback::Stats,
            ("b", None) => Callback::Balance,
            ("t", None) => Callback::TopUp,
            ("buy", _) => Callback::Buy(id()?),
            ("ps", None) => Callback::PaySupport,
            ("pc", None) => Callback::Promo,
            ("hi", None) => Callback::History,
            ("iv", None) => Callback::Invite,
            ("sp", Some(p)) => Callback::Spending(match p {
                "d" => Some(Period::Day),
                "w" => Some(Period::Week),
                "m" => Some(Period::Month),
                "*" => None,
                _ => return None,
            }),
            ("se", None) => Callback::Settings,
            ("se", Some(s)) => Callback::Setting(match s {
                "r" => Setting::Ratio,
                "n" => Setting::Count,
                "q" => Setting::Quick,
                "d" => Setting::Details,
                _ => return None,
            }),
            ("xd", None) => Callback::ExportData,
            ("xa", None) => Callback::AskDeleteAccount,
            ("xy", None) => Callback::DeleteAccount,
            ("rf", _) => Callback::Refund(id()?),
            ("ry", _) => Callback::ConfirmRefund(id()?),
            ("l", _) => Callback::Language(id()?),
            ("h", None) => Callback::Help,
            ("av", None) => Callback::Avatars,
            ("an", None) => Callback::NewAvatar,
            ("ak", Some("p")) => Callback::AvatarKind(false),
            ("ak", Some("s")) => Callback::AvatarKind(true),
            ("ao", _) => Callback::OpenAvatar(id()?),
            ("ap", _) => Callback::AvatarPhotos(id()?),
            ("at", _) => Callback::TrainAvatar(id()?),
            ("ac", _) => Callback::CancelTraining(id()?),
            ("au", _) => Callback::UseAvatar(id()?),
            ("ad", _) => Callback::AskDeleteAvatar(id()?),
            ("ae", _) => Callback::RenameAvatar(id()?),
            ("am", _) => Callback::MainAvatar(id()?),
            ("ax", _) => Callback::DeleteAvatar(id()?),
            ("-", None) => Callback::Noop,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_callback_round_trips_within_64_bytes() {
        let long_id = "SW1hZ2U6OTIyMzM3MjAzNjg1NDc3NTgwNw".to_owned(); // Image:9223372036854775807
        let all = [
            Callback::Menu,
            Callback::Back,
            Callback::Create,
            Callback::Ratio("16:9".into()),
            Callback::Count(4),
            Callback::ConfirmGeneration,
            Callback::Again(long_id.clone()),
            Callback::SameSeed(long_id.clone()),
            Callback::Variations(long_id.clone()),
            Callback::EditPrompt(long_id.clone()),
            Callback::Animate(long_id.clone()),
            Callback::Video,
            Callback::Enhance,
            Callback::UseEnhanced,
            Callback::Styles,
            Callback::StyleCategory(long_id.clone()),
            Callback::FavoriteStyles,
            Callback::StyleTemplate(long_id.clone()),
            Callback::UseStyle(long_id.clone()),
            Callback::StyleFavorite(long_id.clone()),
            Callback::ShowPrompt(long_id.clone()),
            Callback::Favorite(long_id.clone()),
            Callback::OpenInGallery(long_id.clone()),
            Callback::Gallery,
            Callback::Previous(long_id.clone()),
            Callback::Next(long_id.clone()),
            Callback::ToggleFavorite(long_id.clone()),
            Callback::AskDelete(long_id.clone()),
            Callback::Delete(long_id.clone()),
            Callback::Filters,
            Callback::FilterType(None),
            Callback::FilterType(Some(ImageType::Imagen4)),
            Callback::FilterFavorites,
            Callback::FilterPeriod(Some(Period::Week)),
            Callback::FilterPeriod(None),
            Callback::SavedFilter(19),
            Callback::Stats,
            Callback::Balance,
            Callback::TopUp,
            Callback::Buy("stars500".into()),
            Callback::PaySupport,
            Callback::Promo,
            Callback::History,
            Callback::Invite,
            Callback::Spending(Some(Period::Week)),
            Callback::Spending(None),
            Callback::Settings,
            Callback::Setting(Setting::Ratio),
            Callback::Setting(Setting::Count),
            Callback::Setting(Setting::Quick),
            Callback::Setting(Setting::Details),
            Callback::ExportData,
            Callback::AskDeleteAccount,
            Callback::DeleteAccount,
            Callback::Refund(long_id.clone()),
            Callback::ConfirmRefund(long_id.clone()),
            Callback::Language("ru".into()),
            Callback::Help,
            Callback::Avatars,
            Callback::NewAvatar,
            Callback::AvatarKind(true),
            Callback::AvatarKind(false),
            Callback::OpenAvatar(long_id.clone()),
            Callback::AvatarPhotos(long_id.clone()),
            Callback::TrainAvatar(long_id.clone()),
            Callback::CancelTraining(long_id.clone()),
            Callback::UseAvatar(long_id.clone()),
            Callback::RenameAvatar(long_id.clone()),
            Callback::MainAvatar(long_id.clone()),
            Callback::AskDeleteAvatar(long_id.clone()),
            Callback::DeleteAvatar(long_id.clone()),
            Callback::Noop,
        ];
        for callback in all {
            let data = callback.encode();
            assert!(data.len() <= MAX_LEN, "{data}");
            assert_eq!(Callback::decode(&data), Some(callback));
        }
        for forged in ["", "zz", "n:9", "fp:y", "gn:", &"x".repeat(65)] {
            assert_eq!(Callback::decode(forged), None, "{forged:?}");
        }
    }

    proptest::proptest! {
        /// Whatever a client puts in callback data, decoding answers without panicking.
        #[test]
        fn any_callback_data_is_decoded_or_refused(data in "\\PC{0,80}") {
            let _ = Callback::decode(&data);
        }

        /// What we encode fits Telegram's 64 bytes and decodes to itself, for any id we hand out.
        #[test]
        fn encoded_ids_round_trip(id in "[A-Za-z0-9_-]{1,48}") {
            for callback in [Callback::OpenAvatar(id.clone()), Callback::Refund(id.clone()), Callback::DeleteAvatar(id.clone())] {
                let data = callback.encode();
                proptest::prop_assert!(data.len() <= MAX_LEN);
                proptest::prop_assert_eq!(Callback::decode(&data), Some(callback));
            }
        }
    }
}
