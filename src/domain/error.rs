//! The one error type of the domain layer. Ports (GraphQL, the bot) map each variant to a
//! stable client-facing code; `Database` and `Internal` are logged in full and shown masked.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input breaks a rule; the message says which, in words a client can show.
    #[error("{0}")]
    InvalidInput(String),
    /// The thing does not exist or belongs to somebody else (we never tell which).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("authentication required")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    /// The operator blocked this user; `FORBIDDEN`, with the reason.
    #[error("this account is blocked: {0}")]
    Blocked(String),
    #[error("insufficient credits: {needed} needed, {available} available")]
    InsufficientCredits { needed: i64, available: i64 },
    /// Over a rate budget; nothing was done.
    #[error("too many requests in a row: try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A feature that needs configuration this instance does not have.
    #[error("{0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// A bug or a failure below us (storage, a codec); it keeps its cause for the log.
    #[error("internal error: {0:#}")]
    Internal(#[source] anyhow::Error),
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput(message.into())
    }

    /// Something that must not happen, said in words.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Error::Internal(anyhow::Error::msg(message.to_string()))
    }

    /// A failure below us, with what we were doing: the cause stays in the chain.
    pub fn failed<E>(doing: impl std::fmt::Display + Send + Sync + 'static, cause: E) -> Self
    where
        E: Into<anyhow::Error>,
    {
        Error::Internal(cause.into().context(doing))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
