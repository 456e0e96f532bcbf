//! Parsed GraphQL documents, cached by their text. Clients send the same few documents over and
//! over (the bot's operations, the web client's queries), and parsing is the largest single cost
//! of a small request; a cached document is cloned instead (about a third of the work).

use std::{collections::HashMap, sync::Mutex};

use async_graphql::{
    Request, ServerError,
    parser::{
        parse_query,
        types::{DocumentOperations, ExecutableDocument, OperationType},
    },
};

/// Documents longer than this are parsed every time (they are rare and would crowd the cache).
const MAX_CACHED_LEN: usize = 8 * 1024;

pub struct DocumentCache {
    documents: Mutex<HashMap<String, ExecutableDocument>>,
    capacity: usize,
}

impl DocumentCache {
    pub fn new(capacity: usize) -> Self {
        DocumentCache { documents: Mutex::default(), capacity }
    }

    /// Parses the request's document (from the cache when possible), attaches it to the request
    /// and returns the type of the operation that will run (None if it cannot be told yet).
    pub fn prepare(&self, request: &mut Request) -> Result<Option<OperationType>, ServerError> {
        let document = match self.lookup(&request.query) {
            Some(document) => document,
            None => {
                let document = parse_query(&request.query)?;
                self.remember(&request.query, &document);
                document
            }
        };
        let kind = operation_type(&document, request.operation_name.as_deref());
        request.set_parsed_query(document);
        Ok(kind)
    }

    fn lookup(&self, query: &str) -> Option<ExecutableDocument> {
        self.documents.lock().unwrap_or_else(|p| p.into_inner()).get(query).cloned()
    }

    fn remember(&self, query: &str, document: &ExecutableDocument) {
        if query.len() > MAX_CACHED_LEN {
            return;
        }
        let mut documents = self.documents.lock().unwrap_or_else(|p| p.into_inner());
        if documents.len() >= self.capacity {
            // Crude but bounded: a client that sends ever-new documents only costs us parsing.
            documents.clear();
        }
        documents.insert(query.to_owned(), document.clone());
    }
}

fn operation_type(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The metrics label of an operation type.
pub fn operation_label(kind: OperationType) -> &'static str {
    match kind {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}
