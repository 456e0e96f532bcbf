//! Parsed GraphQL documents, cached by their text. Clients send the same few documents over and
//! over (the bot's operations, the web client's queries), and parsing is the largest single cost
//! of a small request; a cached document is cloned instead (about a third of the work). Each
//! entry also remembers which of its operations passed validation without variables: the rules'
//! verdict depends only on the schema, the document, the operation and the variables, so those
//! requests skip them next time (`ObservedSchema::execute_prevalidated`).

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
    documents: Mutex<HashMap<String, Entry>>,
    capacity: usize,
}

#[derive(Clone)]
struct Entry {
    document: ExecutableDocument,
    /// Operations of this document that passed validation without variables: the rules depend
    /// only on the schema, the document, the operation and the variables, so they would pass
    /// again and can be skipped.
    validated: Vec<Option<String>>,
}

/// What `prepare` found out about a request.
pub struct Prepared {
    pub kind: Option<OperationType>,
    pub validated: bool,
}

impl DocumentCache {
    pub fn new(capacity: usize) -> Self {
        DocumentCache { documents: Mutex::default(), capacity }
    }

    /// Parses the request's document (from the cache when possible), attaches it to the request
    /// and returns the type of the operation that will run (None if it cannot be told yet).
    pub fn prepare(&self, request: &mut Request) -> Result<Prepared, ServerError> {
        let (document, validated) = match self.lookup(&request.query) {
            Some(entry) => {
                let validated = request.variables.is_empty() && entry.validated.contains(&request.operation_name);
                (entry.document, validated)
            }
            None => {
                let document = parse_query(&request.query)?;
                self.remember(&request.query, &document);
                (document, false)
            }
        };
        let kind = operation_type(&document, request.operation_name.as_deref());
        request.set_parsed_query(document);
        Ok(Prepared { kind, validated })
    }

    /// Notes that this document's operation passed validation (with no variables).
    pub fn mark_validated(&self, query: &str, operation_name: Option<&str>) {
        let mut documents = self.documents.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = documents.get_mut(query) {
            let name = operation_name.map(str::to_owned);
            if !entry.validated.contains(&name) {
                entry.validated.push(name);
            }
        }
    }

    fn lookup(&self, query: &str) -> Option<Entry> {
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
        documents.insert(query.to_owned(), Entry { document: document.clone(), validated: Vec::new() });
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
