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
