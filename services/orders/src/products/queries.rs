//! Product SQL.

use rust_decimal::Decimal;
use sqlx::{MySqlConnection, MySqlExecutor, MySqlPool};

use super::types::ProductRow;
use crate::states::ProductStatus;

const COLUMNS: &str = "id, name, description, price, reward_use_times, sale, stock, status, \
                       sort_order, is_seckill, expires_days, create_time";

/// The shop's order: the admin's `sort_order` (lower first), then best sellers,
/// then oldest. `id` last makes it total, so a cursor never skips or repeats.
const ORDER_BY: &str = " ORDER BY sort_order ASC, sale DESC, id ASC";

/// Enabled products in the shop's order (`ORDER_BY`), the page after `after`
/// (the last product of the previous page) when given.
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
        // What sorts after `c` in ORDER_BY (sort_order up, sale down, id up).
        qb.push(" AND (sort_order > ")
            .push_bind(c.sort_order)
            .push(" OR (sort_order = ")
            .push_bind(c.sort_order)
            .push(" AND (sale < ")
            .push_bind(c.sale)
            .push(" OR (sale = ")
            .push_bind(c.sale)
            .push(" AND id > ")
            .push_bind(c.id)
            .push("))))");
    }
    qb.push(ORDER_BY).push(" LIMIT ").push_bind(limit);
    qb.build_query_as().fetch_all(db).await
}

/// Where a page of the listing ends: the last product's sort order, sales and
/// id, on the wire as `<sort_order>_<sale>_<id>`. A product whose sales or sort
/// order change between two pages may be listed twice or not at all; the client
/// drops repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCursor {
    pub sort_order: i32,
    pub sale: i32,
    pub id: i64,
}

impl ListCursor {
    pub fn after(row: &ProductRow) -> Self {
        Self {
            sort_order: row.sort_order,
            sale: row.sale,
            id: row.id,
        }
    }

    /// Exactly three numbers; a cursor from before the sort order (two) is
    /// refused rather than read as a wrong place.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('_');
        let cursor = Self {
            sort_order: parts.next()?.parse().ok()?,
            sale: parts.next()?.parse().ok()?,
            id: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(cursor)
    }
}

impl std::fmt::Display for ListCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}_{}", self.sort_order, self.sale, self.id)
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

/// Every live product, enabled or not, in the shop's order (admin).
pub async fn list_all(db: impl MySqlExecutor<'_>, limit: u32) -> sqlx::Result<Vec<ProductRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM chat_product WHERE is_deleted = 0{ORDER_BY} LIMIT ?"
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
    pub sort_order: i32,
}

/// A new product, enabled.
pub async fn insert(conn: &mut MySqlConnection, p: &NewProduct<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO chat_product (id, name, reward_use_times, price, description, stock, status, \
         is_seckill, expires_days, sort_order) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    .bind(p.sort_order)
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
    pub sort_order: i32,
}

pub async fn update(conn: &mut MySqlConnection, c: &ProductChange<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE chat_product SET name = ?, description = ?, price = ?, reward_use_times = ?, \
         status = ?, sort_order = ? WHERE id = ?",
    )
    .bind(c.name)
    .bind(c.description)
    .bind(c.price)
    .bind(c.reward_use_times)
    .bind(c.status)
    .bind(c.sort_order)
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

#[cfg(test)]
mod tests {
    use super::ListCursor;

    #[test]
    fn a_cursor_reads_back_what_it_writes() {
        let c = ListCursor {
            sort_order: 3,
            sale: 12,
            id: 987_654_321,
        };
        assert_eq!(c.to_string(), "3_12_987654321");
        assert_eq!(ListCursor::parse(&c.to_string()), Some(c));
    }

    #[test]
    fn only_three_numbers_make_a_cursor() {
        for bad in ["", "x", "1_2", "1_2_", "_1_2", "1__2", "1_2_3_4", "1_x_3"] {
            assert_eq!(ListCursor::parse(bad), None, "{bad}");
        }
    }
}
