use sea_orm::{DatabaseConnection, TransactionTrait};

use super::model::Spending;
use super::repository as repo;
use crate::domain::credits::EntryKind;
use crate::domain::{Result, time::Micros};

#[derive(Clone)]
pub struct SpendingService {
    db: DatabaseConnection,
}

impl SpendingService {
    pub fn new(db: DatabaseConnection) -> Self {
        SpendingService { db }
    }

    /// The user's spending since `since` (all time when None). The figures are read in one
    /// transaction, so they agree with each other even while the ledger grows.
    pub async fn of_user(&self, user_id: i64, since: Option<Micros>) -> Result<Spending> {
        let from = since.unwrap_or(i64::MIN);
        let tx = self.db.begin().await?;
        let by_kind = repo::by_kind(&tx, user_id, from).await?;
        let by_job = repo::by_job(&tx, user_id, from).await?;
        let stars = repo::stars(&tx, user_id, from).await?;
        let by_day = repo::by_day(&tx, user_id, from).await?;
        tx.commit().await?;
        let total = |kind: EntryKind| by_kind.iter().find(|t| t.kind == kind).map_or(0, |t| t.credits);
        Ok(Spending {
            since,
            charged: -total(EntryKind::Charge),
            refunded: total(EntryKind::Refund),
            by_kind,
            by_job,
            stars,
            by_day,
        })
    }
}
