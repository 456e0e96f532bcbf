//! The schema as every port runs it — HTTP, WebSocket and the bot's in-process calls: every
//! error gets a stable `extensions.code`, internal errors are logged in full and shown masked,
//! operations and errors are counted for `/metrics`, and each operation runs in a `graphql`
//! span (kind, name) that ends with a line of who asked, how it went and how long it took. (A wrapper rather than a schema
//! extension: an extension would sit in the path of every field of every response.)

use std::{any::TypeId, sync::Arc, time::Instant};

use async_graphql::{
    Data, Executor, Request, Response, ServerError, ValidationResult, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation},
};
use futures_util::{StreamExt, stream::BoxStream};
use tracing::{Instrument, Span};

use super::AishaSchema;
use super::context::{Identity, Viewer};
use crate::domain::Error;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct ObservedSchema {
    pub schema: AishaSchema,
    /// The same schema without the validation rules, for documents known to pass them.
    prevalidated: AishaSchema,
    /// The same schema with no cost limit, stopped after validation by [`Costing`]: it tells
    /// what a request costs, for the message of one that costs too much.
    costing: AishaSchema,
    cost_limit: usize,
    metrics: Arc<Metrics>,
}

/// async-graphql's own message for a request over the cost limit (it names no numbers).
const TOO_COMPLEX: &str = "Query is too complex.";

impl ObservedSchema {
    pub fn new(schemas: [AishaSchema; 3], cost_limit: usize, metrics: Arc<Metrics>) -> Self {
        let [schema, prevalidated, costing] = schemas;
        ObservedSchema { schema, prevalidated, costing, cost_limit, metrics }
    }

    /// What a request costs against `AISHA_MAX_QUERY_COMPLEXITY`, without running it; its
    /// validation errors if it has any.
    pub async fn cost(&self, request: Request) -> Result<usize, Vec<ServerError>> {
        let response = self.costing.execute(request).await;
        let measured = response.errors.iter().find_map(|e| match e.extensions.as_ref()?.get("cost")? {
            Value::Number(n) => n.as_u64(),
            _ => None,
        });
        match measured {
            Some(cost) => Ok(cost as usize),
            None => Err(response.errors),
        }
    }

    /// Replaces async-graphql's "too complex" with the cost and the limit.
    async fn explain_cost(&self, response: &mut Response, again: Request) {
        let Some(error) = response.errors.iter_mut().find(|e| e.message == TOO_COMPLEX && e.path.is_empty()) else {
            return;
        };
        if let Ok(cost) = self.cost(again).await {
            error.message =
                format!("the query costs {cost}, over the limit of {}: ask for fewer items or fields", self.cost_limit);
            let extensions = error.extensions.get_or_insert_with(Default::default);
            extensions.set("code", "GRAPHQL_VALIDATION_FAILED");
            extensions.set("cost", cost as u64);
            extensions.set("limit", self.cost_limit as u64);
        }
    }

    /// Runs a request whose document already passed validation with the same (no) variables:
    /// the rules would find nothing again, so they are skipped.
    pub async fn execute_prevalidated(&self, request: Request) -> Response {
        let trace = Trace::start(&request);
        let span = trace.span.clone();
        async {
            let mut response = self.prevalidated.execute(request).await;
            Self::observe(&self.metrics, &mut response);
            trace.finish(&response);
            response
        }
        .instrument(span)
        .await
    }

    fn observe(metrics: &Metrics, response: &mut Response) {
        for error in &mut response.errors {
            metrics.record_error(classify(error));
        }
    }
}

impl Executor for ObservedSchema {
    async fn execute(&self, request: Request) -> Response {
        // Kept to measure the request if it turns out too costly (a copy of a few hundred bytes).
        let mut again = Request::new(request.query.clone()).variables(request.variables.clone());
        if let Some(name) = &request.operation_name {
            again = again.operation_name(name.clone());
        }
        let trace = Trace::start(&request);
        let span = trace.span.clone();
        async {
            let mut response = self.schema.execute(request).await;
            if !response.errors.is_empty() {
                self.explain_cost(&mut response, again).await;
            }
            Self::observe(&self.metrics, &mut response);
            trace.finish(&response);
            response
        }
        .instrument(span)
        .await
    }

    fn execute_stream(&self, request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        self.metrics.record_operation("subscription");
        let metrics = self.metrics.clone();
        // Counted in `aisha_subscriptions` until the stream is dropped.
        let running = self.metrics.subscription_started();
        Executor::execute_stream(&self.schema, request, session_data)
            .map(move |mut response| {
                let _running = &running;
                Self::observe(&metrics, &mut response);
                response
            })
            .boxed()
    }
}

/// The `graphql` span of one operation (its kind and name: the context of anything logged while
/// it runs), and the line that ends it (who asked, how it went, how long it took). The line is
/// `debug`, or `info` when the operation had errors. What is known only at the end goes in the
/// line, not the span: recording fields into an enabled span on every request cost a quarter of
/// the throughput of `{ __typename }` (bench/graphql.sh at `RUST_LOG=info`).
struct Trace {
    span: Span,
    identity: Option<Identity>,
    started: Instant,
}

impl Trace {
    fn start(request: &Request) -> Trace {
        let (kind, named) = operation_of(&request.query);
        let name = request.operation_name.as_deref().or(named).unwrap_or("anonymous");
        let span = tracing::info_span!("graphql", kind, operation = name);
        let identity = request
            .data
            .get(&TypeId::of::<Viewer>())
            .and_then(|viewer| viewer.downcast_ref::<Viewer>())
            .map(Viewer::identity);
        Trace { span, identity, started: Instant::now() }
    }

    fn finish(&self, response: &Response) {
        let enabled = if response.errors.is_empty() {
            tracing::enabled!(tracing::Level::DEBUG)
        } else {
            tracing::enabled!(tracing::Level::INFO)
        };
        if !enabled {
            return;
        }
        let user = self.identity.as_ref().map_or_else(|| "unknown".into(), Identity::describe);
        let duration_ms = self.started.elapsed().as_secs_f64() * 1e3;
        let errors = response.errors.len();
        if errors == 0 {
            tracing::debug!(user, errors, duration_ms, "graphql operation done");
        } else {
            let codes: Vec<&str> = response
                .errors
                .iter()
                .filter_map(|e| match e.extensions.as_ref()?.get("code")? {
                    Value::String(code) => Some(code.as_str()),
                    _ => None,
                })
                .collect();
            tracing::info!(user, errors, duration_ms, codes = ?codes, "graphql operation done with errors");
        }
    }
}

/// The operation type and name of a document's first operation, read from its first words
/// (for the span; the real parse happens in the schema).
fn operation_of(query: &str) -> (&'static str, Option<&str>) {
    let mut rest = query;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        match rest.strip_prefix('#') {
            Some(comment) => rest = comment.split_once('\n').map_or("", |(_, after)| after),
            None => break,
        }
    }
    let word_end = |text: &str| text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len());
    let keyword = &rest[..word_end(rest)];
    let kind = match keyword {
        "mutation" => "mutation",
        "subscription" => "subscription",
        "query" => "query",
        "fragment" => return ("unknown", None),
        _ => return ("query", None), // `{ … }`: an anonymous query
    };
    let after = rest[keyword.len()..].trim_start();
    let name = &after[..word_end(after)];
    (kind, (!name.is_empty()).then_some(name))
}

/// Stops every request after validation, reporting its cost (see [`ObservedSchema::cost`]).
pub struct Costing;

impl ExtensionFactory for Costing {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Costing)
    }
}

#[async_trait::async_trait]
impl Extension for Costing {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let validated = next.run(ctx).await?;
        let mut measured = ServerError::new("measured, not run", None);
        measured.extensions.get_or_insert_with(Default::default).set("cost", validated.complexity as u64);
        Err(vec![measured])
    }
}

/// Sets `extensions.code` (and masks internals); returns the code.
pub fn classify(error: &mut ServerError) -> &'static str {
    let (code, extra): (&'static str, Vec<(&str, Value)>) = match error.source::<Error>() {
        Some(domain) => match domain {
            Error::InvalidInput(_) => ("BAD_USER_INPUT", vec![]),
            Error::NotFound(_) => ("NOT_FOUND", vec![]),
            Error::Unauthenticated => ("UNAUTHENTICATED", vec![]),
            Error::Forbidden | Error::Blocked(_) => ("FORBIDDEN", vec![]),
            Error::InsufficientCredits { needed, available } => {
                ("INSUFFICIENT_CREDITS", vec![("needed", Value::from(*needed)), ("available", Value::from(*available))])
            }
            Error::RateLimited { retry_after_secs } => {
                ("RATE_LIMITED", vec![("retryAfter", Value::from(*retry_after_secs))])
            }
            Error::Unavailable(_) => ("UNAVAILABLE", vec![]),
            Error::Database(_) | Error::Internal(_) => {
                tracing::error!(error = %domain, path = ?error.path, "internal error in a GraphQL operation");
                error.message = "internal error".into();
                ("INTERNAL", vec![])
            }
        },
        None if has_code(error) => return "OTHER",
        // Errors of async-graphql itself: before execution (parse, validation, limits,
        // variables) they have no path; during execution they are bad argument values.
        None if error.path.is_empty() => ("GRAPHQL_VALIDATION_FAILED", vec![]),
        None => ("BAD_USER_INPUT", vec![]),
    };
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code);
    for (key, value) in extra {
        extensions.set(key, value);
    }
    code
}

fn has_code(error: &ServerError) -> bool {
    error.extensions.as_ref().is_some_and(|e| e.get("code").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_from(domain: Error) -> ServerError {
        async_graphql::Error::from(domain).into_server_error(async_graphql::Pos::default())
    }

    #[test]
    fn internal_errors_are_masked_and_coded() {
        let mut error = error_from(Error::Database(sea_orm::DbErr::Custom("password=hunter2 leaked".into())));
        assert_eq!(classify(&mut error), "INTERNAL");
        assert_eq!(error.message, "internal error");
        let json = serde_json::to_string(&error).expect("serialises");
        assert!(!json.contains("hunter2"), "{json}");
    }

    #[test]
    fn operations_are_named_from_their_first_words() {
        assert_eq!(operation_of("{ me { id } }"), ("query", None));
        assert_eq!(operation_of("  # a comment\n query Gallery($first: Int) { x }"), ("query", Some("Gallery")));
        assert_eq!(operation_of("mutation Create{ x }"), ("mutation", Some("Create")));
        assert_eq!(operation_of("subscription { x }"), ("subscription", None));
        assert_eq!(operation_of(""), ("query", None));
    }

    #[test]
    fn domain_errors_get_their_codes() {
        let mut error = error_from(Error::InsufficientCredits { needed: 5, available: 2 });
        assert_eq!(classify(&mut error), "INSUFFICIENT_CREDITS");
        let json = serde_json::to_value(&error).expect("serialises");
        assert_eq!(json["extensions"]["needed"], 5);
        let mut error = error_from(Error::NotFound("image"));
        assert_eq!(classify(&mut error), "NOT_FOUND");
    }
}
