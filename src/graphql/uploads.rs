//! What an upload may carry, decided before its files are read: a multipart request names its
//! operation and counts its files first, so the avatar it is for can be checked (the user's,
//! still editable, with room) while nothing but a little JSON has arrived.

use async_graphql::{ID, Request, ServerError, Value, parser::types::Selection};

use super::ids::{Kind, decode_as};
use crate::domain::rate_limits::{Action, Caller};
use crate::domain::{Error, Services, auth::Principal};

/// Refuses an upload the operation would refuse anyway, before its bytes are read. Operations
/// that do not take photos are left to execution.
pub async fn check_uploads(
    services: &Services,
    principal: Principal,
    request: &Request,
    files: usize,
) -> Result<(), ServerError> {
    let document = async_graphql::parser::parse_query(&request.query).map_err(|e| {
        let mut error = ServerError::new(e.to_string(), None);
        error.extensions.get_or_insert_with(Default::default).set("code", "GRAPHQL_PARSE_FAILED");
        error
    })?;
    let operation = match (&document.operations, request.operation_name.as_deref()) {
        (async_graphql::parser::types::DocumentOperations::Single(op), _) => Some(op),
        (async_graphql::parser::types::DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (async_graphql::parser::types::DocumentOperations::Multiple(_), None) => None,
    };
    let Some(operation) = operation else { return Ok(()) };
    for selection in &operation.node.selection_set.node.items {
        let Selection::Field(field) = &selection.node else { continue };
        if field.node.name.node != "addAvatarPhotos" {
            continue;
        }
        let argument = field.node.get_argument("avatarId").map(|a| a.node.clone());
        let value = argument.map(|a| a.into_const_with(|name| request.variables.get(&name).cloned().ok_or(())));
        // A missing or mistyped id is for execution to explain.
        let Some(Ok(Value::String(avatar_id))) = value else { continue };
        let response_key = field.node.response_key().node.to_string();
        let refuse = |domain: Error| {
            let mut error = async_graphql::Error::from(domain).into_server_error(field.pos);
            error.path = vec![async_graphql::PathSegment::Field(response_key.clone())];
            super::classify(&mut error);
            error
        };
        let user = match principal {
            Principal::User(id) | Principal::BotUser(id) => id,
            Principal::Admin => return Err(refuse(Error::Forbidden)),
        };
        let avatar_id = decode_as(&ID(avatar_id), Kind::Avatar, "avatar").map_err(refuse)?;
        services.avatars.check_upload(user, avatar_id, files).await.map_err(refuse)?;
        // An upload request spends the paid budget (the bot's photos, one message each, are
        // bounded by the avatar's 20 and by Telegram).
        services.rate_limits.check(Caller::User(user), Action::Paid).await.map_err(refuse)?;
    }
    Ok(())
}
