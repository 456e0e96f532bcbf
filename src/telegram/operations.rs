//! The bot's operations, typed: each document in `operations/*.graphql` gets a module of Rust
//! types generated from `schema.graphql` at build time (graphql_client's derive). The `.graphql`
//! files stay what runs: the client executes them in-process by operation name. A field renamed
//! or removed in the schema breaks the build of the bot, not its behaviour at run time.
//!
//! graphql_client rather than cynic: the checked-in documents are the source of truth and are
//! exactly what async-graphql executes (cynic rebuilds each document from Rust structs), and
//! there is no schema DSL module to compile. Field arguments are not compile-checked by it;
//! `every_bot_operation_is_valid_against_schema_graphql` validates every document instead.

use graphql_client::GraphQLQuery;
use serde::{Deserialize, Serialize};

/// The derive does not track the schema file (graphql_client issue #215): this does, so that a
/// changed `schema.graphql` rebuilds the bot's types.
const _SCHEMA: &str = include_str!("../../schema.graphql");

/// `DateTime` of the schema (RFC 3339).
pub type DateTime = chrono::DateTime<chrono::Utc>;
/// `ID` of the schema (normalised to `Id` by the derive).
pub type Id = String;
/// An `Upload` variable is `null` in the variables; the file itself is set on the request.
pub type Upload = ();

/// The schema's enums, one Rust enum each for every operation (the derive would make a copy per
/// operation). `enum_values_match_schema_graphql` keeps their values true to the schema.
macro_rules! wire_enums {
    ($($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? })+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// The value as the schema spells it.
            pub fn wire_name(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            pub fn from_wire_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.wire_name() == name)
            }
        }
    )+};
}

wire_enums! {
    GenerationStatus { Pending = "PENDING", Queued = "QUEUED", Running = "RUNNING", Completed = "COMPLETED",
        Failed = "FAILED", Cancelled = "CANCELLED" }
    AvatarStatus { Draft = "DRAFT", Training = "TRAINING", Ready = "READY", Failed = "FAILED", Cancelled = "CANCELLED" }
    ImageType { Imagen4 = "IMAGEN4", Flux = "FLUX", Ideogram = "IDEOGRAM", Avatar = "AVATAR", Local = "LOCAL",
        Video = "VIDEO" }
    PhotoStatus { Accepted = "ACCEPTED", Rejected = "REJECTED" }
    RefundStatus { Requested = "REQUESTED", Refunded = "REFUNDED" }
    TrainingType { Portrait = "PORTRAIT", Style = "STYLE" }
    SpendingPeriod { Day = "DAY", Week = "WEEK", Month = "MONTH", Year = "YEAR", AllTime = "ALL_TIME" }
    PromoKind { Credits = "CREDITS", BonusPercent = "BONUS_PERCENT", DiscountPercent = "DISCOUNT_PERCENT" }
    TransactionKind { TopUp = "TOP_UP", Charge = "CHARGE", Refund = "REFUND", Bonus = "BONUS",
        Adjustment = "ADJUSTMENT", PaymentRefund = "PAYMENT_REFUND", Promo = "PROMO",
        Referral = "REFERRAL" }
}

impl GenerationStatus {
    /// Completed, failed or cancelled: nothing more will happen to it.
    pub fn is_terminal(self) -> bool {
        matches!(self, GenerationStatus::Completed | GenerationStatus::Failed | GenerationStatus::Cancelled)
    }
}

/// Derives the types of the named operations of one file.
macro_rules! operations {
    ($file:tt: $($name:ident),+ $(,)?) => {$(
        #[derive(GraphQLQuery)]
        #[graphql(
            schema_path = "schema.graphql",
            query_path = $file,
            response_derives = "Debug, Clone",
            variables_derives = "Debug, Clone",
            normalization = "rust",
            extern_enums("GenerationStatus", "AvatarStatus", "ImageType", "PhotoStatus", "RefundStatus",
                "TrainingType", "TransactionKind", "PromoKind", "SpendingPeriod"),
        )]
        pub struct $name;
    )+};
}

operations!("src/telegram/operations/account.graphql": Me, SetLanguage, Balance, RedeemPromoCode, Settings,
    UpdateSettings, History, Spending, Referrals, ExportMyData, DeleteMyAccount);
operations!("src/telegram/operations/generations.graphql":
    Models, Quote, CreateGeneration, GenerationForRepeat, GenerationDelivery,
    GenerationProgressUpdates, Regenerate, Variations, EnhancePrompt, AnimateImage);
operations!("src/telegram/operations/gallery.graphql":
    GalleryFirst, GalleryImage, GalleryNeighbours, SetFavorite, DeleteImage, RememberTelegramFileId, GalleryStats,
    SavedFilters);
operations!("src/telegram/operations/avatars.graphql":
    Avatars, Avatar, CreateAvatar, AddAvatarPhotos, StartAvatarTraining, CancelAvatarTraining, DeleteAvatar,
    AvatarDelivery, TrainingProgressUpdates, RenameAvatar, SetMainAvatar);
operations!("src/telegram/operations/styles.graphql":
    StyleCategories, StyleTemplates, FavoriteStyleTemplates, StyleTemplate, SetStyleTemplateFavorite);
operations!("src/telegram/operations/payments.graphql":
    CreditPackages, CreateStarsInvoice, CheckStarsCheckout, RecordStarsPayment, StarPayments, StarPayment,
    RefundStarPayment, PaymentDelivery, RefundDelivery);

/// A gallery filter as the bot keeps it between updates; each operation that takes a
/// `GalleryFilter` gets it through `From` (its generated input type is its own).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GalleryFilter {
    pub types: Vec<ImageType>,
    pub models: Vec<String>,
    pub favorites_only: bool,
    pub created_after: Option<DateTime>,
    pub created_before: Option<DateTime>,
    pub aspect_ratios: Vec<String>,
    pub avatar_ids: Vec<String>,
    pub prompt_contains: Option<String>,
}

/// `From<GalleryFilter>` for each generated `GalleryFilter` input, and from the saved filters'
/// value: struct literals, so that a field changed in the schema is a compile error here.
macro_rules! gallery_filter_conversions {
    (@fields $to:ident, $f:ident) => {
        $to {
            types: $f.types,
            models: $f.models,
            favorites_only: $f.favorites_only,
            created_after: $f.created_after,
            created_before: $f.created_before,
            aspect_ratios: $f.aspect_ratios,
            avatar_ids: $f.avatar_ids,
            prompt_contains: $f.prompt_contains,
        }
    };
    ($($input:path),+ ; $value:path) => {
        $(impl From<GalleryFilter> for $input {
            fn from(f: GalleryFilter) -> Self {
                gallery_filter_conversions!(@fields Self, f)
            }
        })+

        impl From<$value> for GalleryFilter {
            fn from(f: $value) -> Self {
                gallery_filter_conversions!(@fields GalleryFilter, f)
            }
        }
    };
}

gallery_filter_conversions!(
    gallery_first::GalleryFilter, gallery_image::GalleryFilter, gallery_neighbours::GalleryFilter,
    set_favorite::GalleryFilter, gallery_stats::GalleryFilter;
    saved_filters::SavedFiltersSavedFiltersFilter
);
