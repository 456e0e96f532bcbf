//! GraphQL over real HTTP: POST with an optional bearer token.

use serde_json::{Value, json};

use super::TestApp;

#[derive(Debug)]
pub struct GqlResponse {
    pub status: u16,
    pub body: Value,
}

impl GqlResponse {
    /// The field under `data`, after checking that there were no errors.
    pub fn data(&self, field: &str) -> &Value {
        assert!(self.body.get("errors").is_none(), "unexpected errors: {}", self.body);
        &self.body["data"][field]
    }

    /// The `extensions.code` of the first error.
    pub fn error_code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error with a code, got {}", self.body))
    }
}

impl TestApp {
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> GqlResponse {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.url))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        GqlResponse { status, body: response.json().await.expect("JSON body") }
    }
}

impl TestApp {
    /// Adds credits to a user as the admin (`adjustBalance`).
    pub async fn give_credits(&self, user_id: &str, amount: i64) {
        let adjust = "mutation($u: ID!, $a: Int!, $k: String!) { adjustBalance(userId: $u, amount: $a, reason: \"test credits\", idempotencyKey: $k) { id } }";
        let variables = json!({ "u": user_id, "a": amount, "k": format!("credits-{amount}") });
        self.gql(Some(super::ADMIN_TOKEN), adjust, variables).await.data("adjustBalance");
    }

    pub async fn balance(&self, token: &str) -> i64 {
        self.gql(Some(token), "{ me { balance } }", json!({})).await.data("me")["balance"]
            .as_i64()
            .expect("an integer balance")
    }
}

const CREATE_GENERATION: &str = "mutation($input: CreateGenerationInput!) { createGeneration(input: $input) { id } }";
/// `generation(id)` with every field the tests read.
pub const GENERATION: &str = "query($id: ID!) { generation(id: $id) { id status progress cost error images { url width height contentType type byteSize sha256 } } }";

impl TestApp {
    /// Creates a generation as the holder of `token`; its id.
    pub async fn create_generation(&self, token: &str, input: Value) -> String {
        let created = self.gql(Some(token), CREATE_GENERATION, json!({ "input": input })).await;
        created.data("createGeneration")["id"].as_str().expect("a generation id").to_owned()
    }

    /// The generation once its status is one of `statuses` (polled with `eventually`, 10 s).
    pub async fn wait_for_status(&self, token: &str, id: &str, statuses: &[&str]) -> Value {
        let seen = std::sync::Mutex::new(Value::Null);
        let reached = super::eventually(|| async {
            let generation = self.gql(Some(token), GENERATION, json!({ "id": id })).await.data("generation").clone();
            let done = statuses.contains(&generation["status"].as_str().unwrap_or_default());
            *seen.lock().expect("not poisoned") = generation;
            done
        })
        .await;
        let last = seen.into_inner().expect("not poisoned");
        assert!(reached, "generation {id} never reached {statuses:?}; last seen {last}");
        last
    }

    /// Fails the test if a generation or training is still pending, queued or running after a
    /// few seconds' wait (a job may be finishing as the test ends).
    pub async fn assert_no_job_running(&self) {
        let sql = "SELECT COUNT(*) FROM generations WHERE status IN ('PENDING', 'QUEUED', 'RUNNING')";
        let finished = super::eventually(|| async { self.scalar_i64(sql).await == 0 }).await;
        assert!(finished, "{} job(s) left running as the test ended", self.scalar_i64(sql).await);
    }
}

/// Which way [`TestApp::walk_connection`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Walk {
    /// `first`/`after`, from the newest.
    Forwards,
    /// `last`/`before`, from the oldest back to the newest.
    Backwards,
}

impl TestApp {
    /// Every node of a connection, newest first, read page by page either way. `query` takes
    /// `$n: Int, $cursor: String` and gives the connection (with `pageInfo { hasNextPage
    /// hasPreviousPage }` and `edges { cursor node }`) at `path` under `data`.
    pub async fn walk_connection(&self, token: &str, query: &str, path: &[&str], walk: Walk) -> Vec<Value> {
        let mut pages: Vec<Vec<Value>> = Vec::new();
        let mut cursor = Value::Null;
        for _ in 0..100 {
            let response = self.gql(Some(token), query, json!({ "n": 3, "cursor": cursor })).await;
            let connection = path[1..].iter().fold(response.data(path[0]), |value, key| &value[key]);
            let edges = connection["edges"].as_array().expect("edges").clone();
            let more = match walk {
                Walk::Forwards => connection["pageInfo"]["hasNextPage"].as_bool(),
                Walk::Backwards => connection["pageInfo"]["hasPreviousPage"].as_bool(),
            };
            cursor = match walk {
                Walk::Forwards => edges.last().map(|e| e["cursor"].clone()).unwrap_or(Value::Null),
                Walk::Backwards => edges.first().map(|e| e["cursor"].clone()).unwrap_or(Value::Null),
            };
            pages.push(edges.into_iter().map(|e| e["node"].clone()).collect());
            if !more.expect("pageInfo says whether there is more") {
                if walk == Walk::Backwards {
                    pages.reverse();
                }
                return pages.concat();
            }
        }
        panic!("the connection at {path:?} did not end within 100 pages");
    }
}
