//! `node(id)`: any object by its global ID, for its owner only.

use super::pagination::ROW_COST;
use async_graphql::{Context, ID, Interface, Object};

use super::avatars::Avatar;
use super::context::{current_user, services};
use super::gallery::SavedFilter;
use super::generations::Generation;
use super::ids::{Kind, decode};
use super::images::Image;
use super::payments::StarPayment;
use super::users::{Transaction, User};
use crate::domain::{Error, Result};

#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    User(User),
    Transaction(Transaction),
    Generation(Generation),
    Image(Image),
    SavedFilter(SavedFilter),
    Avatar(Avatar),
    StarPayment(StarPayment),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetches an object by its global ID. Somebody else's object is `NOT_FOUND`.
    #[graphql(complexity = "ROW_COST + child_complexity")]
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Node> {
        let viewer = current_user(ctx).await?;
        let services = services(ctx);
        match decode(&id)? {
            (Kind::User, user_id) if user_id == viewer => Ok(Node::User(User(services.users.get(user_id).await?))),
            (Kind::User, _) => Err(Error::NotFound("user")),
            (Kind::Transaction, entry_id) => {
                Ok(Node::Transaction(Transaction(services.credits.entry(viewer, entry_id).await?)))
            }
            (Kind::Generation, id) => Ok(Node::Generation(Generation(services.generations.get(viewer, id).await?))),
            (Kind::Image, id) => Ok(Node::Image(Image::new(services.gallery.image(viewer, id).await?))),
            (Kind::SavedFilter, id) => {
                Ok(Node::SavedFilter(SavedFilter(services.gallery.saved_filter(viewer, id).await?)))
            }
            (Kind::Avatar, id) => Ok(Node::Avatar(Avatar(services.avatars.get(viewer, id).await?))),
            (Kind::StarPayment, id) => Ok(Node::StarPayment(StarPayment(services.payments.payment(viewer, id).await?))),
            (Kind::AvatarPhoto, _) => Err(Error::NotFound("photo")),
            (Kind::Job, _) => Err(Error::NotFound("job")),
            (Kind::PromoCode | Kind::PromoRedemption, _) => Err(Error::NotFound("promo code")),
            (Kind::AuditEntry, _) => Err(Error::NotFound("audit entry")),
            (Kind::StyleCategory | Kind::StyleTemplate, _) => Err(Error::NotFound("style")),
        }
    }
}
