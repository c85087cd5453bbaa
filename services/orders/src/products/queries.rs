//! Product SQL.

use rust_decimal::Decimal;
use sqlx::{MySqlConnection, MySqlExecutor, MySqlPool};

use super::types::ProductRow;
use crate::states::ProductStatus;

const COLUMNS: &str = "id, name, description, price, reward_use_times, sale, stock, status, \
                       is_seckill, expires_days, create_time";

/// Enabled products, best sellers first (ties: oldest first), the page after
/// `after` (the last product of the previous page) when given.
pub async fn list_enabled(
    db: &MySqlPool,
    after: Option<ListCursor>,
    limit: u32,
) -> sqlx::Result<Vec<ProductRow>> {
    let mut qb = sqlx::QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM chat_product WHERE is_deleted = 0 AND status = "
    ));
    qb.push_bind(ProductStatus::Enabled);
    if let Some(c) = after {
        qb.push(" AND (sale < ")
            .push_bind(c.sale)
            .push(" OR (sale = ")
            .push_bind(c.sale)
            .push(" AND id > ")
            .push_bind(c.id)
            .push("))");
    }
    qb.push(" ORDER BY sale DESC, id ASC LIMIT ")
        .push_bind(limit);
    qb.build_query_as().fetch_all(db).await
}

/// Where a page of the listing ends: the last product's sales and id, on the
/// wire as `<sale>_<id>`. A product whose sales change between two pages may
/// be listed twice or not at all; the client drops repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    pub sale: i32,
    pub id: i64,
}

impl ListCursor {
    pub fn after(row: &ProductRow) -> Self {
        Self {
            sale: row.sale,
            id: row.id,
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (sale, id) = text.split_once('_')?;
        Some(Self {
            sale: sale.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

impl std::fmt::Display for ListCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}", self.sale, self.id)
    }
}

/// A live (not deleted) product, enabled or not.
pub async fn find(db: impl MySqlExecutor<'_>, id: i64) -> sqlx::Result<Option<ProductRow>> {
    find_live(db, id, "").await
}

/// The same, locked for an update in the caller's transaction.
pub async fn find_for_update(
    db: impl MySqlExecutor<'_>,
    id: i64,
) -> sqlx::Result<Option<ProductRow>> {
    find_live(db, id, " FOR UPDATE").await
}

/// `lock` is appended to the query: empty, or a locking clause.
async fn find_live(
    db: impl MySqlExecutor<'_>,
    id: i64,
    lock: &'static str,
) -> sqlx::Result<Option<ProductRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM chat_product WHERE id = ? AND is_deleted = 0{lock}"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Enabled, live products among `ids`.
pub async fn find_orderable(
    db: impl MySqlExecutor<'_>,
    ids: &[i64],
) -> sqlx::Result<Vec<ProductRow>> {
    let mut qb = sqlx::QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM chat_product WHERE is_deleted = 0 AND status = "
    ));
    qb.push_bind(ProductStatus::Enabled).push(" AND id IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    qb.build_query_as().fetch_all(db).await
}

/// Every live product, enabled or not, newest first (admin).
pub async fn list_all(db: impl MySqlExecutor<'_>, limit: u32) -> sqlx::Result<Vec<ProductRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM chat_product WHERE is_deleted = 0 ORDER BY id DESC LIMIT ?"
    )))
    .bind(limit)
    .fetch_all(db)
    .await
}

pub struct NewProduct<'a> {
    pub id: i64,
    pub name: &'a str,
    pub description: &'a str,
    pub price: Decimal,
    pub reward_use_times: i32,
    pub stock: i32,
    pub seckill: bool,
    pub expires_days: i32,
}

/// A new product, enabled.
pub async fn insert(conn: &mut MySqlConnection, p: &NewProduct<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO chat_product (id, name, reward_use_times, price, description, stock, status, \
         is_seckill, expires_days) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(p.id)
    .bind(p.name)
    .bind(p.reward_use_times)
    .bind(p.price)
    .bind(p.description)
    .bind(p.stock)
    .bind(ProductStatus::Enabled)
    .bind(p.seckill)
    .bind(p.expires_days)
    .execute(conn)
    .await
    .map(|_| ())
}

/// What an admin may change of a product.
pub struct ProductChange<'a> {
    pub id: i64,
    pub name: &'a str,
    pub description: &'a str,
    pub price: Decimal,
    pub reward_use_times: i32,
    pub status: ProductStatus,
}

pub async fn update(conn: &mut MySqlConnection, c: &ProductChange<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE chat_product SET name = ?, description = ?, price = ?, reward_use_times = ?, \
         status = ? WHERE id = ?",
    )
    .bind(c.name)
    .bind(c.description)
    .bind(c.price)
    .bind(c.reward_use_times)
    .bind(c.status)
    .bind(c.id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The codes nobody holds yet follow the product's name, price and reward.
pub async fn update_unsold_codes(
    conn: &mut MySqlConnection,
    c: &ProductChange<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE chat_exchange SET name = ?, price = ?, reward_use_times = ? \
         WHERE product_id = ? AND owner_user_id IS NULL AND is_used = 0 AND is_occupied = 0",
    )
    .bind(c.name)
    .bind(c.price)
    .bind(c.reward_use_times)
    .bind(c.id)
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn add_stock(conn: &mut MySqlConnection, id: i64, units: i32) -> sqlx::Result<()> {
    sqlx::query("UPDATE chat_product SET stock = stock + ? WHERE id = ?")
        .bind(units)
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}
