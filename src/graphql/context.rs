//! Who is asking: every operation carries a [`Viewer`] in its request data. HTTP puts the bearer
//! token there and it is resolved on first use (so `{ __typename }` costs no database query);
//! the bot and the WebSocket put a principal that is already known.

use std::{net::IpAddr, sync::Arc};

use async_graphql::Context;
use tokio::sync::OnceCell;

use crate::domain::{Error, Result, Services, auth::Principal, users::TelegramProfile};

pub struct Viewer {
    credentials: Credentials,
    /// Shared with [`Identity`], which outlives the request.
    resolved: Arc<OnceCell<Option<Principal>>>,
    /// Why the user asking is blocked (None: they are not), looked up once per request.
    blocked: OnceCell<Option<String>>,
    /// The client's address, when the request came over the network.
    address: Option<IpAddr>,
}

enum Credentials {
    Anonymous,
    Bearer(String),
    Known(Principal),
    /// The sender of a Telegram update, as our bot saw it.
    Telegram {
        profile: TelegramProfile,
        start_payload: Option<String>,
    },
}

impl Viewer {
    pub fn anonymous() -> Self {
        Self::with(Credentials::Anonymous)
    }

    pub fn bearer(token: String) -> Self {
        Self::with(Credentials::Bearer(token))
    }

    pub fn known(principal: Principal) -> Self {
        Self::with(Credentials::Known(principal))
    }

    /// The bot acting for the sender of an update (created on first contact).
    pub fn telegram(profile: TelegramProfile, start_payload: Option<String>) -> Self {
        Self::with(Credentials::Telegram { profile, start_payload })
    }

    fn with(credentials: Credentials) -> Self {
        let resolved = match &credentials {
            Credentials::Known(principal) => OnceCell::new_with(Some(Some(*principal))),
            Credentials::Anonymous => OnceCell::new_with(Some(None)),
            _ => OnceCell::new(),
        };
        Viewer { credentials, resolved: Arc::new(resolved), blocked: OnceCell::new(), address: None }
    }

    /// Who the request turns out to be for, readable after it ran (for its log line).
    pub fn identity(&self) -> Identity {
        Identity(self.resolved.clone())
    }

    /// The same viewer, asking from `address`.
    pub fn at(mut self, address: Option<IpAddr>) -> Self {
        self.address = address;
        self
    }

    pub fn address(&self) -> Option<IpAddr> {
        self.address
    }

    /// The bearer token this request came with, if any (for `signOut`).
    pub fn token(&self) -> Option<&str> {
        match &self.credentials {
            Credentials::Bearer(token) => Some(token),
            _ => None,
        }
    }

    /// The principal, or None for an anonymous request. A token that does not resolve is an
    /// error rather than anonymity, so a client learns its token went bad; a user the operator
    /// blocked is `FORBIDDEN` with the reason (the server's own actors, `Known`, never are).
    pub async fn principal(&self, services: &Services) -> Result<Option<Principal>> {
        let principal = self.resolve(services).await?;
        if let (Some(Principal::User(id) | Principal::BotUser(id)), false) =
            (principal, matches!(self.credentials, Credentials::Known(_)))
        {
            let blocked = self.blocked.get_or_try_init(|| services.users.blocked_reason(id)).await?;
            if let Some(reason) = blocked {
                return Err(Error::Blocked(reason.clone()));
            }
        }
        Ok(principal)
    }

    /// Who is asking, blocked or not.
    async fn resolve(&self, services: &Services) -> Result<Option<Principal>> {
        match &self.credentials {
            Credentials::Anonymous => Ok(None),
            Credentials::Known(principal) => Ok(Some(*principal)),
            Credentials::Bearer(token) => {
                let resolved = self
                    .resolved
                    .get_or_try_init(|| async { services.auth.authenticate(token).await.map(Some) })
                    .await?;
                Ok(*resolved)
            }
            Credentials::Telegram { profile, start_payload } => {
                let resolved = self
                    .resolved
                    .get_or_try_init(|| async {
                        services.auth.authenticate_bot_user(profile, start_payload.as_deref()).await.map(Some)
                    })
                    .await?;
                Ok(*resolved)
            }
        }
    }
}

/// See [`Viewer::identity`].
pub struct Identity(Arc<OnceCell<Option<Principal>>>);

impl Identity {
    /// `user:<id>`, `admin`, `anonymous`, or `unresolved` (nothing asked who it was).
    pub fn describe(&self) -> String {
        match self.0.get() {
            Some(Some(Principal::User(id) | Principal::BotUser(id))) => format!("user:{id}"),
            Some(Some(Principal::Admin)) => "admin".into(),
            Some(None) => "anonymous".into(),
            None => "unresolved".into(),
        }
    }
}

pub fn services<'a>(ctx: &Context<'a>) -> &'a Services {
    ctx.data_unchecked::<Services>()
}

/// The signed-in user's id; `UNAUTHENTICATED` without one.
pub async fn current_user(ctx: &Context<'_>) -> Result<i64> {
    match principal(ctx).await? {
        Some(Principal::User(id) | Principal::BotUser(id)) => Ok(id),
        Some(Principal::Admin) => Err(Error::Forbidden),
        None => Err(Error::Unauthenticated),
    }
}

/// The signed-in user, when the request comes from our bot (for what only Telegram can vouch
/// for); `FORBIDDEN` from anywhere else. A blocked user passes: what Telegram vouches for (a
/// payment it took) is recorded whoever made it, so no money is lost.
pub async fn current_bot_user(ctx: &Context<'_>) -> Result<i64> {
    let principal = match ctx.data_opt::<Viewer>() {
        Some(viewer) => viewer.resolve(services(ctx)).await?,
        None => None,
    };
    match principal {
        Some(Principal::BotUser(id)) => Ok(id),
        Some(_) => Err(Error::Forbidden),
        None => Err(Error::Unauthenticated),
    }
}

pub async fn require_admin(ctx: &Context<'_>) -> Result<()> {
    match principal(ctx).await? {
        Some(Principal::Admin) => Ok(()),
        Some(Principal::User(_) | Principal::BotUser(_)) => Err(Error::Forbidden),
        None => Err(Error::Unauthenticated),
    }
}

async fn principal(ctx: &Context<'_>) -> Result<Option<Principal>> {
    match ctx.data_opt::<Viewer>() {
        Some(viewer) => viewer.principal(services(ctx)).await,
        None => Ok(None),
    }
}
