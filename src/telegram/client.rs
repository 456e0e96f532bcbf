//! The bot's GraphQL client: every read and write the bot does is one of the operations in
//! `operations/*.graphql`, executed in-process on the same schema as HTTP clients, as the
//! Telegram user. Documents are parsed once at start-up, one document per operation; the
//! types of their variables and answers are generated (`operations.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{
    Executor, Request, UploadValue, Variables,
    parser::{
        parse_query,
        types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet},
    },
};
use futures_util::{StreamExt, stream::BoxStream};
use graphql_client::GraphQLQuery;
use serde::Deserialize;

use crate::domain::{auth::Principal, users::TelegramProfile};
use crate::graphql::{ObservedSchema, Viewer};

/// The operation files, as compiled in (a test validates each against `schema.graphql`).
pub const OPERATION_FILES: [(&str, &str); 6] = [
    ("account.graphql", include_str!("operations/account.graphql")),
    ("payments.graphql", include_str!("operations/payments.graphql")),
    ("generations.graphql", include_str!("operations/generations.graphql")),
    ("gallery.graphql", include_str!("operations/gallery.graphql")),
    ("avatars.graphql", include_str!("operations/avatars.graphql")),
    ("styles.graphql", include_str!("operations/styles.graphql")),
];

/// On whose behalf an operation runs.
#[derive(Clone, Debug)]
pub enum Actor {
    /// The sender of an update (created on first contact, with a `/start` payload if any).
    Sender { profile: TelegramProfile, start_payload: Option<String> },
    /// A known user, for notifications that no update started.
    User(i64),
}

/// The API's `extensions.code` of a refusal, as an enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    BadUserInput,
    NotFound,
    Unauthenticated,
    Forbidden,
    InsufficientCredits,
    RateLimited,
    Unavailable,
    Internal,
    /// A document the schema refused (a bug of the bot, never the user's).
    ValidationFailed,
    /// A code this bot does not know.
    Other,
}

impl ErrorCode {
    fn from_wire(code: &str) -> Self {
        match code {
            "BAD_USER_INPUT" => ErrorCode::BadUserInput,
            "NOT_FOUND" => ErrorCode::NotFound,
            "UNAUTHENTICATED" => ErrorCode::Unauthenticated,
            "FORBIDDEN" => ErrorCode::Forbidden,
            "INSUFFICIENT_CREDITS" => ErrorCode::InsufficientCredits,
            "RATE_LIMITED" => ErrorCode::RateLimited,
            "UNAVAILABLE" => ErrorCode::Unavailable,
            "INTERNAL" => ErrorCode::Internal,
            "GRAPHQL_VALIDATION_FAILED" | "GRAPHQL_PARSE_FAILED" => ErrorCode::ValidationFailed,
            _ => ErrorCode::Other,
        }
    }
}

/// The numbers some refusals carry in their extensions.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Details {
    /// `INSUFFICIENT_CREDITS`: the price, and the balance.
    pub needed: Option<i64>,
    pub available: Option<i64>,
    /// `RATE_LIMITED`: seconds until the next try may pass.
    pub retry_after: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API said no.
    #[error("{code:?}: {message}")]
    Refused { code: ErrorCode, message: String, details: Details },
    #[error("the variables of {0} could not be written: {1}")]
    Variables(&'static str, serde_json::Error),
    #[error("the answer to {0} did not have the expected shape: {1}")]
    Shape(&'static str, serde_json::Error),
    #[error("no operation named {0}")]
    UnknownOperation(&'static str),
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Refused { code, .. } => *code,
            _ => ErrorCode::Internal,
        }
    }

    /// What the API said, in words a person can read.
    pub fn message(&self) -> String {
        match self {
            ApiError::Refused { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    pub fn details(&self) -> Details {
        match self {
            ApiError::Refused { details, .. } => *details,
            _ => Details::default(),
        }
    }
}

#[derive(Clone)]
pub struct GraphqlClient {
    schema: ObservedSchema,
    operations: Arc<HashMap<String, ExecutableDocument>>,
}

impl GraphqlClient {
    pub fn new(schema: ObservedSchema) -> anyhow::Result<Self> {
        let mut operations = HashMap::new();
        for (file, text) in OPERATION_FILES {
            let document = parse_query(text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
            for (name, document) in split(document) {
                operations.insert(name, document);
            }
        }
        Ok(GraphqlClient { schema, operations: Arc::new(operations) })
    }

    /// Runs the operation and decodes its `data`.
    pub async fn execute<Op: GraphQLQuery>(
        &self,
        actor: &Actor,
        variables: Op::Variables,
    ) -> Result<Op::ResponseData, ApiError> {
        self.execute_with_files::<Op>(actor, variables, Vec::new()).await
    }

    /// Runs an operation with files for its `Upload` variables (paths like `variables.photos.0`),
    /// as a multipart request would bring them.
    pub async fn execute_with_files<Op: GraphQLQuery>(
        &self,
        actor: &Actor,
        variables: Op::Variables,
        files: Vec<(String, UploadValue)>,
    ) -> Result<Op::ResponseData, ApiError> {
        let (name, mut request) = self.request::<Op>(actor, variables)?;
        for (path, file) in files {
            request.set_upload(&path, file);
        }
        decode::<Op>(name, self.schema.execute(request).await)
    }

    /// Runs a subscription: each event decoded, until the subscription ends (a refusal is its
    /// one and last item).
    pub fn subscribe<Op: GraphQLQuery>(
        &self,
        actor: &Actor,
        variables: Op::Variables,
    ) -> Result<BoxStream<'static, Result<Op::ResponseData, ApiError>>, ApiError>
    where
        Op::ResponseData: 'static,
    {
        let (name, request) = self.request::<Op>(actor, variables)?;
        Ok(self.schema.execute_stream(request, None).map(move |response| decode::<Op>(name, response)).boxed())
    }

    /// The operation's parsed document with its variables, run as `actor`.
    fn request<Op: GraphQLQuery>(
        &self,
        actor: &Actor,
        variables: Op::Variables,
    ) -> Result<(&'static str, Request), ApiError> {
        let body = Op::build_query(variables);
        let name = body.operation_name;
        let document = self.operations.get(name).ok_or(ApiError::UnknownOperation(name))?;
        let variables = serde_json::to_value(&body.variables).map_err(|e| ApiError::Variables(name, e))?;
        let viewer = match actor {
            Actor::Sender { profile, start_payload } => Viewer::telegram(profile.clone(), start_payload.clone()),
            Actor::User(id) => Viewer::known(Principal::BotUser(*id)),
        };
        let mut request = Request::new("").variables(Variables::from_json(variables)).data(viewer);
        request.set_parsed_query(document.clone());
        Ok((name, request))
    }
}

/// The answer's `data`, decoded, or its first error as a refusal.
fn decode<Op: GraphQLQuery>(
    name: &'static str,
    response: async_graphql::Response,
) -> Result<Op::ResponseData, ApiError> {
    if let Some(error) = response.errors.into_iter().next() {
        return Err(refusal(error));
    }
    let data = response.data.into_json().map_err(|e| ApiError::Shape(name, e))?;
    serde_json::from_value(data).map_err(|e| ApiError::Shape(name, e))
}

fn refusal(error: async_graphql::ServerError) -> ApiError {
    let extensions = error.extensions.as_ref();
    let code = match extensions.and_then(|e| e.get("code")) {
        Some(async_graphql::Value::String(code)) => ErrorCode::from_wire(code),
        _ => ErrorCode::ValidationFailed, // parse and validation errors carry no code
    };
    let details = match extensions.map(serde_json::to_value) {
        Some(Ok(json)) => serde_json::from_value(json).unwrap_or_else(|error| {
            tracing::warn!(%error, ?code, "a refusal's details could not be read");
            Details::default()
        }),
        _ => Details::default(),
    };
    ApiError::Refused { code, message: error.message, details }
}

/// One document per operation, each with only the fragments it uses (GraphQL refuses a
/// document with an unused fragment).
fn split(document: ExecutableDocument) -> Vec<(String, ExecutableDocument)> {
    let operations: Vec<_> = match document.operations {
        DocumentOperations::Single(op) => vec![(String::new(), op)],
        DocumentOperations::Multiple(ops) => ops.into_iter().map(|(name, op)| (name.to_string(), op)).collect(),
    };
    operations
        .into_iter()
        .map(|(name, op)| {
            let mut used = Vec::new();
            collect_spreads(&op.node.selection_set.node, &document.fragments, &mut used);
            let fragments = document.fragments.iter().filter(|(n, _)| used.contains(&n.to_string()));
            let fragments = fragments.map(|(n, f)| (n.clone(), f.clone())).collect();
            (name, ExecutableDocument { operations: DocumentOperations::Single(op), fragments })
        })
        .collect()
}

fn collect_spreads(
    set: &SelectionSet,
    fragments: &HashMap<
        async_graphql::Name,
        async_graphql::Positioned<async_graphql::parser::types::FragmentDefinition>,
    >,
    used: &mut Vec<String>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => collect_spreads(&field.node.selection_set.node, fragments, used),
            Selection::InlineFragment(inline) => collect_spreads(&inline.node.selection_set.node, fragments, used),
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.to_string();
                if !used.contains(&name) {
                    used.push(name);
                    if let Some(fragment) = fragments.get(&spread.node.fragment_name.node) {
                        collect_spreads(&fragment.node.selection_set.node, fragments, used);
                    }
                }
            }
        }
    }
}
