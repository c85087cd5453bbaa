//! Product SQL.

use sqlx::{MySqlExecutor, MySqlPool};

use super::types::ProductRow;

const COLUMNS: &str = "id, name, description, price, reward_use_times, sale, stock, status, \
                       is_seckill, expires_days, create_time";

pub async fn list_enabled(db: &MySqlPool, limit: u32) -> sqlx::Result<Vec<ProductRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM chat_product WHERE is_deleted = 0 AND status = 1 \
         ORDER BY sale DESC, id ASC LIMIT ?"
    )))
    .bind(limit)
    .fetch_all(db)
    .await
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
