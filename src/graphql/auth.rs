//! Signing in and out.

use crate::domain::rate_limits::{Action, Caller};
use async_graphql::{Context, Object, SimpleObject};

use super::context::{Viewer, services};
use super::users::User;
use crate::domain::Result;

#[derive(Default)]
pub struct AuthMutation;

#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <token>`, or as `authorization` in the WebSocket
    /// `connection_init` payload.
    token: String,
    user: User,
}

#[Object]
impl AuthMutation {
    /// Signs in with Telegram Mini App `initData`, or the Login Widget's fields as a query
    /// string; creates the user on first sign-in. `utmSource` is the web client's `utm_source`,
    /// the source a new user is counted under when the Mini App's `start_param` names none.
    async fn sign_in_with_telegram(
        &self,
        ctx: &Context<'_>,
        init_data: String,
        utm_source: Option<String>,
    ) -> Result<AuthPayload> {
        if let Some(address) = ctx.data_opt::<Viewer>().and_then(Viewer::address) {
            services(ctx).rate_limits.check(Caller::Address(address), Action::SignIn).await?;
        }
        let utm_source = utm_source.filter(|s| !s.trim().is_empty() && s.len() <= 60);
        let (token, user) = services(ctx).auth.sign_in_with_telegram(&init_data, utm_source.as_deref()).await?;
        Ok(AuthPayload { token, user: User(user) })
    }

    /// Revokes the bearer token this request was made with; false when there was none.
    async fn sign_out(&self, ctx: &Context<'_>) -> Result<bool> {
        match ctx.data_opt::<Viewer>().and_then(Viewer::token) {
            Some(token) => services(ctx).auth.revoke(token).await,
            None => Ok(false),
        }
    }
}
