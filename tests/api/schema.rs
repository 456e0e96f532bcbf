//! The exported schema is a contract: `schema.graphql` must equal `aisha schema`.

#[test]
fn schema_graphql_matches_the_code() {
    let exported = aisha::graphql::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read_to_string(path).expect("schema.graphql exists");
    assert!(committed == exported, "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`");
}

#[test]
fn the_schema_names_the_contract_types() {
    let sdl = aisha::graphql::sdl();
    for needle in [
        "type Query",
        "type Mutation",
        "type Subscription",
        "me: User!",
        // utmSource is optional: every call of the contract's form still works.
        "signInWithTelegram(initData: String!, utmSource: String): AuthPayload!",
        "interface Node",
        "balance: Int!",
    ] {
        assert!(sdl.contains(needle), "the schema lacks {needle:?}");
    }
}
