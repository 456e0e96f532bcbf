//! The SQL of spending: sums over the ledger, joined to the jobs its reservations paid for and to
//! the Stars payments behind its top-ups.

use sea_orm::ConnectionTrait;

use super::model::{DAY_MICROS, DaySpending, JobSpending, KindTotal, StarsTopUps};
use crate::adapters::db::statement;
use crate::domain::credits::EntryKind;
use crate::domain::jobs::JobKind;
use crate::domain::{Error, Result, time::Micros};

pub async fn by_kind(db: &impl ConnectionTrait, user_id: i64, since: Micros) -> Result<Vec<KindTotal>> {
    let sql = "SELECT kind, COUNT(*), CAST(SUM(amount) AS BIGINT) FROM ledger_entries \
               WHERE user_id = $1 AND created_at >= $2 GROUP BY kind ORDER BY kind";
    let rows = db.query_all_raw(statement(db, sql, [user_id.into(), since.into()])).await?;
    rows.iter()
        .map(|r| {
            Ok(KindTotal {
                kind: EntryKind::parse(&r.try_get_by_index::<String>(0)?)?,
                count: r.try_get_by_index(1)?,
                credits: r.try_get_by_index(2)?,
            })
        })
        .collect()
}

pub async fn by_job(db: &impl ConnectionTrait, user_id: i64, since: Micros) -> Result<Vec<JobSpending>> {
    let sql = "SELECT g.purpose, g.model, \
               SUM(CASE WHEN l.kind = 'CHARGE' THEN 1 ELSE 0 END), \
               CAST(SUM(CASE WHEN l.kind = 'CHARGE' THEN -l.amount ELSE 0 END) AS BIGINT), \
               CAST(SUM(CASE WHEN l.kind = 'REFUND' THEN l.amount ELSE 0 END) AS BIGINT) \
               FROM ledger_entries l JOIN generations g ON g.reservation_id = l.reservation_id \
               WHERE l.user_id = $1 AND l.created_at >= $2 AND l.kind IN ('CHARGE', 'REFUND') \
               GROUP BY g.purpose, g.model";
    let rows = db.query_all_raw(statement(db, sql, [user_id.into(), since.into()])).await?;
    let mut jobs = rows
        .iter()
        .map(|r| {
            Ok(JobSpending {
                kind: JobKind::parse(&r.try_get_by_index::<String>(0)?)?,
                model: r.try_get_by_index(1)?,
                count: r.try_get_by_index(2)?,
                charged: r.try_get_by_index(3)?,
                refunded: r.try_get_by_index(4)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    jobs.sort_by(|a, b| (b.charged - b.refunded).cmp(&(a.charged - a.refunded)).then(a.model.cmp(&b.model)));
    Ok(jobs)
}

pub async fn stars(db: &impl ConnectionTrait, user_id: i64, since: Micros) -> Result<StarsTopUps> {
    let sql = "SELECT COUNT(*), CAST(COALESCE(SUM(total_amount), 0) AS BIGINT), \
               CAST(COALESCE(SUM(credits), 0) AS BIGINT) FROM payments WHERE user_id = $1 AND created_at >= $2";
    let row = db.query_one_raw(statement(db, sql, [user_id.into(), since.into()])).await?;
    let row = row.ok_or_else(|| Error::internal("an aggregate gave no row"))?;
    Ok(StarsTopUps {
        count: row.try_get_by_index(0)?,
        stars: row.try_get_by_index(1)?,
        credits: row.try_get_by_index(2)?,
    })
}

pub async fn by_day(db: &impl ConnectionTrait, user_id: i64, since: Micros) -> Result<Vec<DaySpending>> {
    let sql = format!(
        "SELECT created_at / {DAY_MICROS} AS day, \
         CAST(SUM(CASE WHEN kind = 'CHARGE' THEN -amount ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN kind = 'REFUND' THEN amount ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN kind NOT IN ('CHARGE', 'REFUND') AND amount > 0 THEN amount ELSE 0 END) AS BIGINT) \
         FROM ledger_entries WHERE user_id = $1 AND created_at >= $2 GROUP BY created_at / {DAY_MICROS} ORDER BY day"
    );
    let rows = db.query_all_raw(statement(db, &sql, [user_id.into(), since.into()])).await?;
    rows.iter()
        .map(|r| {
            Ok(DaySpending {
                day: r.try_get_by_index(0)?,
                charged: r.try_get_by_index(1)?,
                refunded: r.try_get_by_index(2)?,
                received: r.try_get_by_index(3)?,
            })
        })
        .collect()
}
