use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use super::model::{CreditPackage, StarsPayment};
use crate::adapters::db::statement;
use crate::domain::credits::{BalanceChange, CreditService, EntryKind, IdempotencyKey, LedgerEntry, apply_in_tx};
use crate::domain::{Error, Result, time::now_micros};

/// Telegram's currency code for Stars.
pub const STARS: &str = "XTR";

#[derive(Clone)]
pub struct PaymentService {
    db: DatabaseConnection,
    credits: CreditService,
    packages: Arc<Vec<CreditPackage>>,
}

impl PaymentService {
    pub fn new(db: DatabaseConnection, credits: CreditService, packages: Vec<CreditPackage>) -> Self {
        PaymentService { db, credits, packages: Arc::new(packages) }
    }

    pub fn packages(&self) -> &[CreditPackage] {
        &self.packages
    }

    pub fn package(&self, id: &str) -> Result<&CreditPackage> {
        self.packages.iter().find(|p| p.id == id).ok_or(Error::NotFound("credit package"))
    }

    /// The check before Telegram takes the Stars (`pre_checkout_query`): the payload names a
    /// package on offer at exactly this price, in Stars.
    pub fn check(&self, invoice_payload: &str, currency: &str, total_amount: i64) -> Result<&CreditPackage> {
        if currency != STARS {
            return Err(Error::invalid(format!("payments are in {STARS}, not {currency}")));
        }
        self.packages
            .iter()
            .find(|p| p.invoice_payload() == invoice_payload && p.stars == total_amount)
            .ok_or_else(|| Error::invalid("this offer has changed; open the top-up menu again"))
    }

    /// Credits a successful payment once per charge id: a redelivery returns the first entry.
    pub async fn record_stars(&self, user_id: i64, payment: &StarsPayment) -> Result<LedgerEntry> {
        let charge_id = payment.telegram_payment_charge_id.trim();
        if charge_id.is_empty() || charge_id.len() > 256 {
            return Err(Error::invalid("telegramPaymentChargeId must be 1-256 characters"));
        }
        let package = self.check(&payment.invoice_payload, &payment.currency, payment.total_amount)?.clone();
        let tx = self.db.begin().await?;
        let insert = "INSERT INTO payments (user_id, provider, telegram_payment_charge_id, provider_payment_charge_id, \
                      package_id, currency, total_amount, credits, invoice_payload, created_at) \
                      VALUES ($1, 'telegram_stars', $2, $3, $4, $5, $6, $7, $8, $9) \
                      ON CONFLICT (telegram_payment_charge_id) DO NOTHING RETURNING id";
        let values = [
            user_id.into(),
            charge_id.into(),
            payment.provider_payment_charge_id.clone().into(),
            package.id.clone().into(),
            payment.currency.clone().into(),
            payment.total_amount.into(),
            package.credits.into(),
            payment.invoice_payload.clone().into(),
            now_micros().into(),
        ];
        let Some(row) = tx.query_one_raw(statement(&tx, insert, values)).await? else {
            tx.rollback().await?;
            return self.recorded(user_id, charge_id).await;
        };
        let payment_id: i64 = row.try_get_by_index(0)?;
        let change = BalanceChange {
            kind: EntryKind::TopUp,
            amount: package.credits,
            reason: format!("{} stars: {} credits", package.stars, package.credits),
            key: IdempotencyKey::internal(format!("stars:{charge_id}")),
        };
        let entry = apply_in_tx(&tx, user_id, &change, None)
            .await?
            .map_err(|_| Error::internal("a top-up was refused by the ledger"))?;
        let link = "UPDATE payments SET ledger_entry_id = $1 WHERE id = $2";
        tx.execute_raw(statement(&tx, link, [entry.id.into(), payment_id.into()])).await?;
        tx.commit().await?;
        self.credits.announce(&entry).await;
        Ok(entry)
    }

    /// The entry of a payment already recorded: only its payer learns of it.
    async fn recorded(&self, user_id: i64, charge_id: &str) -> Result<LedgerEntry> {
        let sql = "SELECT user_id, ledger_entry_id FROM payments WHERE telegram_payment_charge_id = $1";
        let row = self.db.query_one_raw(statement(&self.db, sql, [charge_id.into()])).await?;
        let row = row.ok_or_else(|| Error::internal("a recorded payment vanished"))?;
        let (payer, entry_id): (i64, Option<i64>) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        match entry_id {
            Some(entry_id) if payer == user_id => self.credits.entry(user_id, entry_id).await,
            _ => Err(Error::invalid("this payment was recorded for someone else")),
        }
    }
}
