//! Product SQL.

use sqlx::{MySqlExecutor, MySqlPool};

use super::types::ProductRow;

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
        "SELECT {COLUMNS} FROM chat_product WHERE is_deleted = 0 AND status = 1"
    ));
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
        "SELECT {COLUMNS} FROM chat_product WHERE is_deleted = 0 AND status = 1 AND id IN ("
    ));
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    qb.build_query_as().fetch_all(db).await
}
