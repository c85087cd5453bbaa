//! The Codes panel's SQL: pages of codes by state, the disable's locked read
//! and writes, and the export's pages in id order.

use sqlx::{MySqlConnection, MySqlExecutor, QueryBuilder};

use super::states::CodeState;
use super::types::CodeRow;
use crate::states::CodeStatus;

const COLUMNS: &str = "e.id, e.product_id, e.code, e.is_used, e.is_occupied, e.status, \
     e.activation_time, e.expires_days, e.order_id, e.owner_user_id, r.user_id AS redeemed_by";
const FROM: &str = " FROM chat_exchange e LEFT JOIN chat_user_exchange_record r ON r.exchange_id = e.id \
     WHERE e.is_deleted = 0";

/// A filter of the list and the export.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    pub product_id: Option<i64>,
    pub state: Option<CodeState>,
}

fn filtered(f: Filter) -> QueryBuilder<sqlx::MySql> {
    let mut qb = QueryBuilder::new(format!("SELECT {COLUMNS}{FROM}"));
    if let Some(p) = f.product_id {
        qb.push(" AND e.product_id = ").push_bind(p);
    }
    if let Some(s) = f.state {
        s.push_condition(&mut qb);
    }
    qb
}

/// Up to `limit` codes with ids below `before`, newest first.
pub async fn page_desc(
    db: impl MySqlExecutor<'_>,
    f: Filter,
    before: i64,
    limit: u32,
) -> sqlx::Result<Vec<CodeRow>> {
    let mut qb = filtered(f);
    qb.push(" AND e.id < ").push_bind(before);
    qb.push(" ORDER BY e.id DESC LIMIT ").push_bind(limit);
    qb.build_query_as().fetch_all(db).await
}

/// Up to `limit` codes with ids above `after`, oldest first (the export).
pub async fn page_asc(
    db: impl MySqlExecutor<'_>,
    f: Filter,
    after: i64,
    limit: u32,
) -> sqlx::Result<Vec<CodeRow>> {
    let mut qb = filtered(f);
    qb.push(" AND e.id > ").push_bind(after);
    qb.push(" ORDER BY e.id LIMIT ").push_bind(limit);
    qb.build_query_as().fetch_all(db).await
}

/// One code, locked for the transaction.
pub async fn lock(conn: &mut MySqlConnection, id: i64) -> sqlx::Result<Option<CodeRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}{FROM} AND e.id = ? FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn one(db: impl MySqlExecutor<'_>, id: i64) -> sqlx::Result<Option<CodeRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}{FROM} AND e.id = ?"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn set_disabled(conn: &mut MySqlConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE chat_exchange SET status = ? WHERE id = ?")
        .bind(CodeStatus::Disabled)
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// One unit less to sell: an unsold code was the unit.
pub async fn take_stock(conn: &mut MySqlConnection, product_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE chat_product SET stock = stock - 1 WHERE id = ? AND stock > 0")
        .bind(product_id)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn product_exists(db: impl MySqlExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM chat_product WHERE id = ? AND is_deleted = 0")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}
