//! The GraphQL port: one schema for every client (web, mobile, GraphiQL and the bot). Resolvers
//! are thin: they check who is asking, call a domain service and shape the answer.

mod admin;
mod analytics;
mod auth;
mod avatars;
mod console;
pub mod context;
mod credits;
mod dashboard;
mod documents;
mod executor;
mod gallery;
mod generations;
mod ids;
mod images;
mod loaders;
mod node;
mod pagination;
mod payments;
mod privacy;
mod promos;
mod referrals;
mod settings;
mod spending;
mod styles;
mod uploads;
mod users;

use std::sync::Arc;

use async_graphql::{MergedObject, MergedSubscription, Schema, ValidationMode, dataloader::DataLoader};

pub use context::Viewer;
pub use documents::{DocumentCache, operation_label};
pub use executor::{ObservedSchema, classify};
pub use uploads::check_uploads;

use crate::adapters::bus::EventBus;
use crate::config::Limits;
use crate::domain::Services;
use crate::metrics::Metrics;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    users::UserQuery,
    generations::GenerationQuery,
    gallery::GalleryQuery,
    payments::PaymentQuery,
    promos::PromoQuery,
    avatars::AvatarQuery,
    node::NodeQuery,
    admin::AdminQuery,
    console::ConsoleQuery,
    analytics::AnalyticsQuery,
    dashboard::DashboardQuery,
    styles::StyleQuery,
);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    auth::AuthMutation,
    credits::CreditMutation,
    generations::GenerationMutation,
    gallery::GalleryMutation,
    users::UserMutation,
    settings::SettingsMutation,
    payments::PaymentMutation,
    promos::PromoMutation,
    privacy::PrivacyMutation,
    avatars::AvatarMutation,
    admin::AdminMutation,
    console::ConsoleMutation,
    styles::StyleMutation,
);

#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(
    credits::CreditSubscription,
    generations::GenerationSubscription,
    avatars::AvatarSubscription,
);

pub type AishaSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// What the resolvers need at run time.
pub struct SchemaDeps {
    pub services: Services,
    pub bus: Arc<dyn EventBus>,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    pub introspection: bool,
}

pub fn build(deps: SchemaDeps) -> ObservedSchema {
    let schema = |mode: ValidationMode, costing: bool| {
        let mut builder = Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot::default())
            .data(DataLoader::new(loaders::GenerationLoader(deps.services.clone()), tokio::spawn))
            .data(DataLoader::new(loaders::AvatarPhotoLoader(deps.services.clone()), tokio::spawn))
            .data(DataLoader::new(loaders::TransactionLoader(deps.services.clone()), tokio::spawn))
            .data(deps.services.clone())
            .data(deps.bus.clone())
            .data(deps.limits)
            .limit_depth(deps.limits.max_query_depth)
            .validation_mode(mode);
        builder = if costing {
            builder.extension(executor::Costing)
        } else {
            builder.limit_complexity(deps.limits.max_query_complexity)
        };
        if !deps.introspection {
            builder = builder.disable_introspection();
        }
        builder.finish()
    };
    // The same schema three times: the second skips the validation rules, for documents that
    // passed them already with the same (no) variables (see `DocumentCache`); the third
    // measures what a request costs.
    let schemas = [
        schema(ValidationMode::Strict, false),
        schema(ValidationMode::Fast, false),
        schema(ValidationMode::Strict, true),
    ];
    ObservedSchema::new(schemas, deps.limits.max_query_complexity, deps.metrics)
}

/// The global id of a generation, as the API shows it (the bot uses it to follow events).
pub fn generation_global_id(id: i64) -> String {
    ids::encode(ids::Kind::Generation, id).to_string()
}

/// The global id of an avatar, as the API shows it.
pub fn avatar_global_id(id: i64) -> String {
    ids::encode(ids::Kind::Avatar, id).to_string()
}

/// The global id of a ledger entry.
pub fn transaction_global_id(id: i64) -> String {
    ids::encode(ids::Kind::Transaction, id).to_string()
}

/// The global id of a Stars payment.
pub fn star_payment_global_id(id: i64) -> String {
    ids::encode(ids::Kind::StarPayment, id).to_string()
}

/// The schema in SDL, as `aisha schema` prints it and `schema.graphql` stores it.
pub fn sdl() -> String {
    Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot::default()).finish().sdl()
}
