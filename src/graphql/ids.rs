//! Opaque global IDs: base64url of `Kind:number`. `node(id)` and every by-id field accept them.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::domain::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    User,
    Transaction,
    Generation,
    Image,
    Avatar,
    AvatarPhoto,
    SavedFilter,
    StarPayment,
    /// A job of any kind (for the operator).
    Job,
    PromoCode,
    PromoRedemption,
    AuditEntry,
    StyleCategory,
    StyleTemplate,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Transaction => "Transaction",
            Kind::Generation => "Generation",
            Kind::Image => "Image",
            Kind::Avatar => "Avatar",
            Kind::AvatarPhoto => "AvatarPhoto",
            Kind::SavedFilter => "SavedFilter",
            Kind::StarPayment => "StarPayment",
            Kind::Job => "Job",
            Kind::PromoCode => "PromoCode",
            Kind::PromoRedemption => "PromoRedemption",
            Kind::AuditEntry => "AuditEntry",
            Kind::StyleCategory => "StyleCategory",
            Kind::StyleTemplate => "StyleTemplate",
        }
    }

    fn parse(name: &str) -> Option<Kind> {
        [
            Kind::User,
            Kind::Transaction,
            Kind::Generation,
            Kind::Image,
            Kind::Avatar,
            Kind::AvatarPhoto,
            Kind::SavedFilter,
            Kind::StarPayment,
            Kind::Job,
            Kind::PromoCode,
            Kind::PromoRedemption,
            Kind::AuditEntry,
            Kind::StyleCategory,
            Kind::StyleTemplate,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

pub fn encode(kind: Kind, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name())))
}

/// Decodes any global ID; a malformed one is `BAD_USER_INPUT`.
pub fn decode(id: &ID) -> Result<(Kind, i64)> {
    let malformed = || Error::invalid(format!("{:?} is not a valid ID", id.as_str()));
    let raw = URL_SAFE_NO_PAD.decode(id.as_bytes()).map_err(|_| malformed())?;
    let text = std::str::from_utf8(&raw).map_err(|_| malformed())?;
    let (kind, number) = text.split_once(':').ok_or_else(malformed)?;
    Ok((Kind::parse(kind).ok_or_else(malformed)?, number.parse().map_err(|_| malformed())?))
}

/// Decodes an ID that must name a `kind`; an ID of another kind is simply not found.
pub fn decode_as(id: &ID, kind: Kind, what: &'static str) -> Result<i64> {
    match decode(id)? {
        (k, number) if k == kind => Ok(number),
        _ => Err(Error::NotFound(what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_garbage() {
        let id = encode(Kind::User, 42);
        assert_eq!(decode(&id).expect("valid"), (Kind::User, 42));
        assert!(matches!(decode_as(&id, Kind::Transaction, "transaction"), Err(Error::NotFound(_))));
        assert!(matches!(decode(&ID("nope".into())), Err(Error::InvalidInput(_))));
    }
}
