//! The bot's GraphQL client: every read and write the bot does is one of the operations in
//! `operations/*.graphql`, executed in-process on the same schema as HTTP clients, as the
//! Telegram user. Documents are parsed once at start-up, one document per operation.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{
    Executor, Request, UploadValue, Variables,
    parser::{
        parse_query,
        types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet},
    },
};
use serde::de::DeserializeOwned;

use crate::domain::{auth::Principal, users::TelegramProfile};
use crate::graphql::{ObservedSchema, Viewer};

/// The operation files, as compiled in (a test validates each against `schema.graphql`).
pub const OPERATION_FILES: [(&str, &str); 5] = [
    ("account.graphql", include_str!("operations/account.graphql")),
    ("payments.graphql", include_str!("operations/payments.graphql")),
    ("generations.graphql", include_str!("operations/generations.graphql")),
    ("gallery.graphql", include_str!("operations/gallery.graphql")),
    ("avatars.graphql", include_str!("operations/avatars.graphql")),
];

/// On whose behalf an operation runs.
#[derive(Clone, Debug)]
pub enum Actor {
    /// The sender of an update (created on first contact, with a `/start` payload if any).
    Sender { profile: TelegramProfile, start_payload: Option<String> },
    /// A known user, for notifications that no update started.
    User(i64),
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API said no: `code` is the error's `extensions.code`; `extensions` holds the rest
    /// (e.g. `needed` and `available` of `INSUFFICIENT_CREDITS`).
    #[error("{code}: {message}")]
    Refused { code: String, message: String, extensions: serde_json::Value },
    #[error("the answer to {0} did not have the expected shape: {1}")]
    Shape(&'static str, serde_json::Error),
    #[error("no operation named {0}")]
    UnknownOperation(&'static str),
}

impl ApiError {
    pub fn code(&self) -> &str {
        match self {
            ApiError::Refused { code, .. } => code,
            _ => "INTERNAL_SERVER_ERROR",
        }
    }

    /// What the API said, in words a person can read.
    pub fn message(&self) -> String {
        match self {
            ApiError::Refused { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// A number the API put in the error's extensions (0 when absent).
    pub fn extension(&self, key: &str) -> i64 {
        match self {
            ApiError::Refused { extensions, .. } => extensions[key].as_i64().unwrap_or_default(),
            _ => 0,
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

    /// Runs the named operation and decodes its `data`.
    pub async fn run<T: DeserializeOwned>(
        &self,
        actor: &Actor,
        name: &'static str,
        variables: serde_json::Value,
    ) -> Result<T, ApiError> {
        self.run_with_files(actor, name, variables, Vec::new()).await
    }

    /// Runs an operation with files for its `Upload` variables (paths like `variables.photos.0`),
    /// as a multipart request would bring them.
    pub async fn run_with_files<T: DeserializeOwned>(
        &self,
        actor: &Actor,
        name: &'static str,
        variables: serde_json::Value,
        files: Vec<(String, UploadValue)>,
    ) -> Result<T, ApiError> {
        let document = self.operations.get(name).ok_or(ApiError::UnknownOperation(name))?;
        let viewer = match actor {
            Actor::Sender { profile, start_payload } => Viewer::telegram(profile.clone(), start_payload.clone()),
            Actor::User(id) => Viewer::known(Principal::BotUser(*id)),
        };
        let mut request = Request::new("").variables(Variables::from_json(variables)).data(viewer);
        for (path, file) in files {
            request.set_upload(&path, file);
        }
        request.set_parsed_query(document.clone());
        let response = self.schema.execute(request).await;
        if let Some(error) = response.errors.into_iter().next() {
            let extensions = serde_json::to_value(&error.extensions).unwrap_or_default();
            let code = extensions["code"].as_str().unwrap_or("INTERNAL_SERVER_ERROR").to_owned();
            return Err(ApiError::Refused { code, message: error.message, extensions });
        }
        let data = response.data.into_json().map_err(|e| ApiError::Shape(name, e))?;
        serde_json::from_value(data).map_err(|e| ApiError::Shape(name, e))
    }
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
