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
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput(message.into())
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        Error::Internal(message.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
