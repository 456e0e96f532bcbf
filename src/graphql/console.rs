//! The operator's console: find users, block and unblock them, and read the audit log that
//! every admin mutation writes to. Admin only.

use async_graphql::{
    Context, ID, Object,
    connection::{Connection, Edge, EmptyFields},
};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::context::{require_admin, services};
use super::ids::{Kind, decode_as, encode};
use super::pagination::{decode_id_cursor, id_cursor, page_cost, page_size};
use super::users::User;
use crate::domain::{Result, audit::AuditEntry, time::to_datetime};

/// Writes an admin action to the audit log (after it succeeded).
pub async fn audit(
    ctx: &Context<'_>,
    action: &str,
    target: &str,
    reason: Option<&str>,
    details: serde_json::Value,
) -> Result<()> {
    services(ctx).audit.record(action, target, reason, details).await
}

#[derive(Default)]
pub struct ConsoleQuery;

#[Object]
impl ConsoleQuery {
    /// Admin only: users by Telegram id, or whose username starts with `search` (no `@`
    /// needed), newest first; at most 50.
    async fn admin_users(&self, ctx: &Context<'_>, search: String) -> Result<Vec<User>> {
        require_admin(ctx).await?;
        Ok(services(ctx).users.search(&search, 50).await?.into_iter().map(User).collect())
    }

    /// Admin only: one user, with their balance, ledger and payments (the `User` fields).
    async fn admin_user(&self, ctx: &Context<'_>, id: ID) -> Result<User> {
        require_admin(ctx).await?;
        let id = decode_as(&id, Kind::User, "user")?;
        Ok(User(services(ctx).users.get(id).await?))
    }

    /// Admin only: what the operator did, newest first.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn admin_audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, AuditLogEntry, EmptyFields, EmptyFields>> {
        require_admin(ctx).await?;
        let limit = page_size(ctx, first, 20)?;
        let before_id = after.as_deref().map(|c| decode_id_cursor("audit", c)).transpose()?;
        let (entries, more) = services(ctx).audit.list(before_id, limit).await?;
        let mut connection = Connection::new(before_id.is_some(), more);
        connection.edges.extend(entries.into_iter().map(|e| Edge::new(id_cursor("audit", e.id), AuditLogEntry(e))));
        Ok(connection)
    }
}

#[derive(Default)]
pub struct ConsoleMutation;

#[Object]
impl ConsoleMutation {
    /// Admin only: every request of the user is `FORBIDDEN` from now on (the bot tells them
    /// why); what the server does for them on its own (running jobs, notifications) goes on.
    async fn block_user(&self, ctx: &Context<'_>, user_id: ID, reason: String) -> Result<User> {
        require_admin(ctx).await?;
        let id = decode_as(&user_id, Kind::User, "user")?;
        let user = services(ctx).users.block(id, &reason).await?;
        audit(ctx, "blockUser", user_id.as_str(), Some(reason.trim()), json!({})).await?;
        Ok(User(user))
    }

    /// Admin only: lifts a block.
    async fn unblock_user(&self, ctx: &Context<'_>, user_id: ID) -> Result<User> {
        require_admin(ctx).await?;
        let id = decode_as(&user_id, Kind::User, "user")?;
        let user = services(ctx).users.unblock(id).await?;
        audit(ctx, "unblockUser", user_id.as_str(), None, json!({})).await?;
        Ok(User(user))
    }
}

/// One action of the operator.
pub struct AuditLogEntry(AuditEntry);

#[Object]
impl AuditLogEntry {
    async fn id(&self) -> ID {
        encode(Kind::AuditEntry, self.0.id)
    }
    /// The admin mutation, e.g. `blockUser`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// What it acted on: a global ID, or a promo code.
    async fn target(&self) -> &str {
        &self.0.target
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// The action's arguments and outcome (JSON).
    async fn details(&self) -> &str {
        &self.0.details
    }
    /// Always the admin role: AISHA has one operator credential, `AISHA_ADMIN_TOKEN`.
    async fn actor(&self) -> &str {
        "admin"
    }
    async fn created_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.created_at)
    }
}
