//! Relay connection arguments: `first`/`last` bounded by the configured page size, and opaque
//! cursors (base64url of a seek key, never an offset).

use async_graphql::Context;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::config::Limits;
use crate::domain::paging::PageRequest;
use crate::domain::{Error, Result};

/// What fields cost against `AISHA_MAX_QUERY_COMPLEXITY`, beside the 1 of a plain field: the
/// price of the database work they do, so that a query is refused for the statements it would
/// run, not for its length. Aliases repeat a field, and its cost.
///
/// A field that runs statements of its own for every parent (an image's neighbours, its place).
pub const PER_ITEM_SQL_COST: usize = 10;
/// A field that reads a row or a short list once per request.
pub const ROW_COST: usize = 5;
/// Aggregates over the whole gallery.
pub const STATS_COST: usize = 10;
/// A field loaded for all its parents in one batch.
pub const BATCHED_COST: usize = 2;
/// The page size when `first`/`last` is not given.
pub const DEFAULT_PAGE: usize = 20;

/// A connection costs what each item asks for, times the items it may return, plus its query.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let items = first.or(last).map_or(DEFAULT_PAGE, |n| n.max(1) as usize);
    items.saturating_mul(child_complexity).saturating_add(ROW_COST)
}

/// Validates `first` against the configured maximum; `default` when absent.
pub fn page_size(ctx: &Context<'_>, first: Option<i32>, default: usize) -> Result<usize> {
    let max = ctx.data_opt::<Limits>().map_or(100, |l| l.max_page_size);
    match first {
        None => Ok(default.min(max)),
        Some(n) if n < 0 => Err(Error::invalid("first must not be negative")),
        Some(n) if n as usize > max => Err(Error::invalid(format!("first must be at most {max}"))),
        Some(n) => Ok(n as usize),
    }
}

/// A Relay connection's `first`/`after` (forwards) or `last`/`before` (backwards), checked and
/// with its cursor decoded; `first`/`after` when neither is given.
pub fn page_request<C>(
    ctx: &Context<'_>,
    (first, after): (Option<i32>, Option<String>),
    (last, before): (Option<i32>, Option<String>),
    decode: impl Fn(&str) -> Result<C>,
) -> Result<PageRequest<C>> {
    match (first, after, last, before) {
        (Some(_), _, Some(_), _) => Err(Error::invalid("give first or last, not both")),
        (_, Some(_), _, Some(_)) => Err(Error::invalid("give after or before, not both")),
        (first, after, None, None) => {
            Ok(PageRequest::First(page_size(ctx, first, DEFAULT_PAGE)?, after.as_deref().map(decode).transpose()?))
        }
        (None, None, last, before) => {
            Ok(PageRequest::Last(page_size(ctx, last, DEFAULT_PAGE)?, before.as_deref().map(decode).transpose()?))
        }
        _ => Err(Error::invalid("first/after and last/before cannot be mixed")),
    }
}

pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

pub fn decode_cursor(cursor: &str) -> Result<String> {
    let invalid = || Error::invalid("invalid cursor");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

/// A cursor over a single id (`<prefix>:<id>`).
pub fn id_cursor(prefix: &str, id: i64) -> String {
    encode_cursor(&format!("{prefix}:{id}"))
}

pub fn decode_id_cursor(prefix: &str, cursor: &str) -> Result<i64> {
    let key = decode_cursor(cursor)?;
    key.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| Error::invalid("invalid cursor"))
}
