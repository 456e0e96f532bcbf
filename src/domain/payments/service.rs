use std::sync::Arc;

use base64::Engine;
use rand::RngCore;
use sea_orm::{DatabaseConnection, TransactionTrait};

use super::model::{
    CreditPackage, Direction, Offer, Payment, Reconciliation, RefundStatus, Refunder, STARS, StarTransaction,
    StarsInvoice, StarsPayment,
};
use super::repository as repo;
use super::{GatewayError, StarsGateway};
use crate::domain::credits::{BalanceChange, CreditService, EntryKind, IdempotencyKey, LedgerEntry, apply_in_tx};
use crate::domain::notifications::{NotificationKind, NotificationService};
use crate::domain::referrals::ReferralService;
use crate::domain::users::{TelegramProfile, UserService};
use crate::domain::{Error, Result, time::now_micros};
use crate::domain::{analytics, promos};

#[derive(Clone)]
pub struct PaymentService {
    db: DatabaseConnection,
    credits: CreditService,
    users: UserService,
    notifications: NotificationService,
    packages: Arc<Vec<CreditPackage>>,
    referrals: ReferralService,
    /// Telegram's payments API, when the bot is configured.
    gateway: Option<Arc<dyn StarsGateway>>,
}

impl PaymentService {
    pub fn new(
        db: DatabaseConnection,
        credits: CreditService,
        users: UserService,
        notifications: NotificationService,
        packages: Vec<CreditPackage>,
        referrals: ReferralService,
        gateway: Option<Arc<dyn StarsGateway>>,
    ) -> Self {
        PaymentService { db, credits, users, notifications, packages: Arc::new(packages), referrals, gateway }
    }

    pub fn packages(&self) -> &[CreditPackage] {
        &self.packages
    }

    pub fn package(&self, id: &str) -> Result<&CreditPackage> {
        self.packages.iter().find(|p| p.id == id).ok_or(Error::NotFound("credit package"))
    }

    /// Records what an invoice for this package offers and returns the payload that names it:
    /// the payment is later credited by this record, whatever is on offer then.
    pub async fn create_invoice(&self, user_id: i64, package_id: &str) -> Result<StarsInvoice> {
        let offer = self.package(package_id)?.offer();
        let mut nonce = [0u8; 18];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = format!("inv:{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(nonce));
        repo::insert_invoice(&self.db, &payload, user_id, &offer, now_micros()).await?;
        Ok(StarsInvoice { payload, offer })
    }

    /// An invoice as a link (Telegram's `createInvoiceLink`), for a Mini App to open: the same
    /// recorded offer the bot's invoices carry, so the payment arrives and is credited as theirs.
    pub async fn create_invoice_link(&self, user_id: i64, package_id: &str) -> Result<(StarsInvoice, String)> {
        let gateway =
            self.gateway.as_ref().ok_or_else(|| Error::Unavailable("Stars payments need the Telegram bot".into()))?;
        let payer = self.users.get(user_id).await?;
        if payer.telegram_id.is_none() {
            return Err(Error::invalid("paying with Stars needs a Telegram account: open the app in Telegram"));
        }
        let invoice = self.create_invoice(user_id, package_id).await?;
        match gateway.invoice_link(&invoice, payer.language_code.as_deref()).await {
            Ok(link) => Ok((invoice, link)),
            Err(GatewayError::Unavailable(reason)) | Err(GatewayError::Refused(reason)) => {
                tracing::warn!(%reason, "Telegram made no invoice link");
                Err(Error::Unavailable("Telegram did not answer; try the top-up again in a moment".into()))
            }
            Err(GatewayError::AlreadyRefunded) => Err(Error::internal("an invoice link answered as a refund")),
        }
    }

    /// The check before Telegram takes the Stars (`pre_checkout_query`): the payload names an
    /// offer we made, at exactly this price, in Stars.
    pub async fn check(&self, invoice_payload: &str, currency: &str, total_amount: i64) -> Result<Offer> {
        if currency != STARS {
            return Err(Error::invalid(format!("payments are in {STARS}, not {currency}")));
        }
        let offer = match repo::invoice_offer(&self.db, invoice_payload).await? {
            Some(offer) => Some(offer),
            None => Offer::from_legacy_payload(invoice_payload),
        };
        offer
            .filter(|offer| offer.stars == total_amount)
            .ok_or_else(|| Error::invalid("this offer is not valid; open the top-up menu again"))
    }

    /// Credits a successful payment once per charge id, as its invoice offered: a redelivery
    /// returns the first entry. The user is told in the same transaction (a notification).
    pub async fn record_stars(&self, user_id: i64, payment: &StarsPayment) -> Result<LedgerEntry> {
        let charge_id = payment.telegram_payment_charge_id.trim();
        if charge_id.is_empty() || charge_id.len() > 256 {
            return Err(Error::invalid("telegramPaymentChargeId must be 1-256 characters"));
        }
        let offer = self.check(&payment.invoice_payload, &payment.currency, payment.total_amount).await?;
        let tx = self.db.begin().await?;
        let Some(payment_id) = repo::insert_payment(&tx, user_id, payment, &offer, now_micros()).await? else {
            tx.rollback().await?;
            return self.recorded(user_id, charge_id).await;
        };
        let change = BalanceChange {
            kind: EntryKind::TopUp,
            amount: offer.credits,
            reason: format!("{} stars: {} credits", offer.stars, offer.credits),
            key: IdempotencyKey::internal(top_up_key(charge_id)),
        };
        let entry = apply_in_tx(&tx, user_id, &change, None)
            .await?
            .map_err(|_| Error::internal("a top-up was refused by the ledger"))?;
        repo::link_ledger_entry(&tx, payment_id, entry.id).await?;
        let bonus = promos::bonus_in_tx(&tx, user_id, &entry).await?;
        let reward = self.referrals.reward_in_tx(&tx, user_id, &entry).await?;
        analytics::record_in_tx(&tx, user_id, analytics::EventKind::TopUp, Some("stars")).await?;
        self.notifications.record(&tx, user_id, NotificationKind::PaymentCredited, entry.id, entry.id).await?;
        tx.commit().await?;
        self.credits.announce(&entry).await;
        for extra in bonus.iter().chain(&reward) {
            self.credits.announce(extra).await;
        }
        Ok(entry)
    }

    /// The entry of a payment already recorded: only its payer learns of it.
    async fn recorded(&self, user_id: i64, charge_id: &str) -> Result<LedgerEntry> {
        let (payer, entry_id) =
            repo::recorded(&self.db, charge_id).await?.ok_or_else(|| Error::internal("a recorded payment vanished"))?;
        match entry_id {
            Some(entry_id) if payer == user_id => self.credits.entry(user_id, entry_id).await,
            _ => Err(Error::invalid("this payment was recorded for someone else")),
        }
    }

    /// The user's payments, newest first; and whether more follow.
    pub async fn payments(&self, user_id: i64, before_id: Option<i64>, limit: usize) -> Result<(Vec<Payment>, bool)> {
        let mut payments = repo::list(&self.db, user_id, before_id, limit as u64 + 1).await?;
        let more = payments.len() > limit;
        payments.truncate(limit);
        Ok((payments, more))
    }

    /// One of the user's payments.
    pub async fn payment(&self, user_id: i64, id: i64) -> Result<Payment> {
        match repo::find(&self.db, id).await? {
            Some(payment) if payment.user_id == user_id => Ok(payment),
            _ => Err(Error::NotFound("payment")),
        }
    }

    pub async fn payment_count(&self, user_id: i64) -> Result<u64> {
        repo::count(&self.db, user_id).await
    }

    /// Whether a refund of this payment would be accepted now: not refunded, and its credits
    /// still unspent.
    pub async fn is_refundable(&self, payment: &Payment) -> Result<bool> {
        if payment.refund.is_some() {
            return Ok(false);
        }
        let credits = payment.credits + self.bonus_of(payment).await?;
        Ok(self.credits.balance(payment.user_id).await? >= credits)
    }

    /// The credits a refund of the payment takes back (or took): those it bought and the promo
    /// bonus its top-up earned.
    pub async fn refund_credits(&self, payment: &Payment) -> Result<i64> {
        Ok(payment.credits + self.bonus_of(payment).await?)
    }

    /// The promo bonus the payment's top-up earned: a refund takes it back with the credits.
    async fn bonus_of(&self, payment: &Payment) -> Result<i64> {
        let key = promos::bonus_key(&top_up_key(&payment.telegram_payment_charge_id));
        Ok(self.credits.entry_by_key(payment.user_id, key.as_str()).await?.map_or(0, |e| e.amount))
    }

    /// Refunds a payment whose credits are unspent: the credits are taken back (a ledger row, in
    /// the transaction that records the refund), then Telegram returns the Stars. If Telegram
    /// refuses, the credits come back; if it cannot be reached, asking again retries.
    pub async fn refund(&self, by: Refunder, payment_id: i64) -> Result<Payment> {
        let gateway =
            self.gateway.as_ref().ok_or_else(|| Error::Unavailable("Stars refunds need the Telegram bot".into()))?;
        let payment = repo::find(&self.db, payment_id).await?.ok_or(Error::NotFound("payment"))?;
        if let Refunder::User(user_id) = by
            && payment.user_id != user_id
        {
            return Err(Error::NotFound("payment"));
        }
        match payment.refund {
            Some(RefundStatus::Refunded) => return Err(Error::invalid("this payment was refunded already")),
            Some(RefundStatus::Requested) => {}
            None => self.take_back(&payment).await?,
        }
        let payer = self.users.get(payment.user_id).await?;
        let telegram_id =
            payer.telegram_id.ok_or_else(|| Error::internal("a Stars payment without a Telegram payer"))?;
        match gateway.refund(telegram_id, &payment.telegram_payment_charge_id).await {
            Ok(()) | Err(GatewayError::AlreadyRefunded) => self.confirm_refund(&payment).await?,
            Err(GatewayError::Refused(reason)) => {
                self.undo_take_back(&payment, &reason).await?;
                return Err(Error::invalid(format!("Telegram refused the refund: {reason}")));
            }
            Err(GatewayError::Unavailable(reason)) => {
                tracing::warn!(payment = payment.id, %reason, "Telegram did not confirm a refund");
                return Err(Error::Unavailable("Telegram did not answer; ask for the refund again in a while".into()));
            }
        }
        repo::find(&self.db, payment_id).await?.ok_or(Error::NotFound("payment"))
    }

    /// Takes the payment's credits back and marks the refund requested, in one transaction.
    async fn take_back(&self, payment: &Payment) -> Result<()> {
        let bonus = self.bonus_of(payment).await?;
        let tx = self.db.begin().await?;
        if !repo::request_refund(&tx, payment.id).await? {
            tx.rollback().await?;
            return Err(Error::invalid("a refund of this payment is under way already"));
        }
        let change = BalanceChange {
            kind: EntryKind::PaymentRefund,
            amount: -(payment.credits + bonus),
            reason: match bonus {
                0 => format!("refund of {} stars", payment.stars),
                bonus => format!("refund of {} stars (with the {bonus} bonus credits)", payment.stars),
            },
            key: IdempotencyKey::internal(format!("stars-refund:{}:{:016x}", payment.id, rand::random::<u64>())),
        };
        let Ok(entry) = apply_in_tx(&tx, payment.user_id, &change, None).await? else {
            tx.rollback().await?;
            return Err(Error::invalid("the credits of this payment were spent already, so it cannot be refunded"));
        };
        repo::set_refund_entry(&tx, payment.id, entry.id).await?;
        tx.commit().await?;
        self.credits.announce(&entry).await;
        Ok(())
    }

    async fn confirm_refund(&self, payment: &Payment) -> Result<()> {
        let tx = self.db.begin().await?;
        if repo::refunded(&tx, payment.id, now_micros()).await? {
            self.notifications
                .record(&tx, payment.user_id, NotificationKind::PaymentRefunded, payment.id, payment.id)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Telegram refused: the credits come back (an `ADJUSTMENT` saying why).
    async fn undo_take_back(&self, payment: &Payment, reason: &str) -> Result<()> {
        let bonus = self.bonus_of(payment).await?;
        let tx = self.db.begin().await?;
        if !repo::refund_refused(&tx, payment.id, reason).await? {
            tx.rollback().await?;
            return Ok(());
        }
        let change = BalanceChange {
            kind: EntryKind::Adjustment,
            amount: payment.credits + bonus,
            reason: format!("refund refused by Telegram: {}", reason.chars().take(150).collect::<String>()),
            key: IdempotencyKey::internal(format!("stars-refund-undone:{}:{:016x}", payment.id, rand::random::<u64>())),
        };
        let entry = apply_in_tx(&tx, payment.user_id, &change, None)
            .await?
            .map_err(|_| Error::internal("giving back the credits of a refused refund failed"))?;
        tx.commit().await?;
        self.credits.announce(&entry).await;
        Ok(())
    }

    /// Credits every paid charge in Telegram's list that we never recorded (the payer is
    /// created if need be), and reports refunds made outside AISHA.
    pub async fn reconcile(&self, transactions: &[StarTransaction]) -> Result<Reconciliation> {
        let mut report = Reconciliation::default();
        for transaction in transactions {
            match &transaction.direction {
                Direction::Payment { telegram_user_id, username, invoice_payload } => {
                    if repo::recorded(&self.db, &transaction.id).await?.is_some() {
                        report.already_recorded += 1;
                        continue;
                    }
                    let Some(payload) = invoice_payload else {
                        report.skipped.push((transaction.id.clone(), "no invoice payload".into()));
                        continue;
                    };
                    let profile = TelegramProfile {
                        telegram_id: *telegram_user_id,
                        username: username.clone(),
                        ..TelegramProfile::default()
                    };
                    let user = self.users.sign_up_or_refresh(&profile, None).await?;
                    let payment = StarsPayment {
                        telegram_payment_charge_id: transaction.id.clone(),
                        provider_payment_charge_id: None,
                        invoice_payload: payload.clone(),
                        currency: STARS.into(),
                        total_amount: transaction.amount,
                    };
                    match self.record_stars(user.id, &payment).await {
                        Ok(entry) => report.credited.push((transaction.id.clone(), entry.amount)),
                        Err(Error::InvalidInput(reason)) => report.skipped.push((transaction.id.clone(), reason)),
                        Err(error) => return Err(error),
                    }
                }
                Direction::Refund { .. } => match repo::find_by_charge(&self.db, &transaction.id).await? {
                    Some(payment) if payment.refund == Some(RefundStatus::Refunded) => {}
                    Some(_) | None => report.refunded_elsewhere.push(transaction.id.clone()),
                },
                Direction::Other => {}
            }
        }
        Ok(report)
    }
}

/// The ledger key of the top-up of a Stars charge.
fn top_up_key(charge_id: &str) -> String {
    format!("stars:{charge_id}")
}
