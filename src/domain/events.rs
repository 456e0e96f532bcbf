//! Events that cross the event bus: subscriptions and bot notifications listen to them, and with
//! Redis they travel between instances, so they are plain serialisable data.

use serde::{Deserialize, Serialize};

use super::avatars::Avatar;
use super::generations::Generation;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    BalanceChanged {
        user_id: i64,
        balance: i64,
        entry_id: i64,
    },
    /// A generation's new state, whole, so that subscribers need no database read.
    GenerationUpdated(Box<Generation>),
    /// An avatar's new state (photos, training progress, result).
    AvatarUpdated(Box<Avatar>),
    AvatarDeleted {
        user_id: i64,
        avatar_id: i64,
    },
    /// A bearer token was revoked: every instance forgets it.
    TokenRevoked {
        user_id: i64,
        token_hash: String,
    },
}
