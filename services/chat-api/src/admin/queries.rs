//! The console's SQL: small functions over any MySQL executor. Order figures
//! are read from `chat_order` in the same database.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, MySqlExecutor};

/// `chat_order.status` of a completed (paid) order.
const ORDER_COMPLETED: i8 = 2;

/// A user with their email identity, the disabled flag and order figures.
#[derive(Debug, FromRow)]
pub struct AdminUserRow {
    pub id: i64,
    pub email: String,
    pub nickname: String,
    pub description: Option<String>,
    pub role: String,
    pub can_conversation_times: i32,
    pub last_login_ip: Option<String>,
    pub create_time: DateTime<Utc>,
    pub locale: String,
    pub avatar_version: i32,
    pub disabled: bool,
    pub orders: i64,
    /// A money string with two decimals.
    pub paid_total: String,
}

macro_rules! admin_user_sql {
    ($where:literal) => {
        concat!(
            "SELECT u.id, e.username AS email, u.nickname, u.description, u.role, \
             u.can_conversation_times, u.last_login_ip, u.create_time, u.locale, u.avatar_version, u.disabled, \
             (SELECT COUNT(*) FROM chat_order o WHERE o.user_id = u.id AND o.is_deleted = 0) AS orders, \
             CAST((SELECT COALESCE(SUM(o.pay_amount), 0.00) FROM chat_order o \
                   WHERE o.user_id = u.id AND o.is_deleted = 0 AND o.status = ?) AS CHAR) AS paid_total \
             FROM chat_user u \
             JOIN chat_user_binding b ON b.user_id = u.id AND b.binding_type = 'email' \
             JOIN chat_user_binding_email e ON e.id = b.user_binding_email_id ",
            $where
        )
    };
}

pub async fn find_admin_user<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
) -> Result<Option<AdminUserRow>, sqlx::Error> {
    sqlx::query_as::<_, AdminUserRow>(admin_user_sql!("WHERE u.id = ?"))
        .bind(ORDER_COMPLETED)
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// `%`, `_` and `\` of a search term, escaped for `LIKE`.
fn like_pattern(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Users with id below `before`, newest first; `q` (when not empty) is an
/// email substring or an exact id.
pub async fn search_users<'c>(
    db: impl MySqlExecutor<'c>,
    q: &str,
    before: i64,
    limit: u32,
) -> Result<Vec<AdminUserRow>, sqlx::Error> {
    let exact_id = q.parse::<i64>().unwrap_or(-1);
    sqlx::query_as::<_, AdminUserRow>(admin_user_sql!(
        "WHERE u.id < ? AND (? = '' OR e.username LIKE ? OR u.id = ?) \
         ORDER BY u.id DESC LIMIT ?"
    ))
    .bind(ORDER_COMPLETED)
    .bind(before)
    .bind(q)
    .bind(like_pattern(q))
    .bind(exact_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

#[derive(Debug, FromRow)]
pub struct BindingRow {
    pub kind: String,
    pub email: Option<String>,
    pub verified: Option<bool>,
    pub provider: Option<String>,
    pub create_time: DateTime<Utc>,
}

pub async fn bindings<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
) -> Result<Vec<BindingRow>, sqlx::Error> {
    sqlx::query_as::<_, BindingRow>(
        "SELECT b.binding_type AS kind, COALESCE(e.username, o.email) AS email, \
         e.verified, o.provider, b.create_time \
         FROM chat_user_binding b \
         LEFT JOIN chat_user_binding_email e ON e.id = b.user_binding_email_id \
         LEFT JOIN chat_user_binding_oauth o ON o.id = b.user_binding_oauth_id \
         WHERE b.user_id = ? ORDER BY b.id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

#[derive(Debug, FromRow)]
pub struct LoginRow {
    pub login_type: String,
    pub login_ip: String,
    pub success: bool,
    pub message: String,
    pub create_time: DateTime<Utc>,
}

pub async fn recent_logins<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
    limit: u32,
) -> Result<Vec<LoginRow>, sqlx::Error> {
    sqlx::query_as::<_, LoginRow>(
        "SELECT login_type, login_ip, login_status AS success, message, create_time \
         FROM chat_user_login_log WHERE user_id = ? \
         ORDER BY create_time DESC, id DESC LIMIT ?",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

#[derive(Debug, FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub total_amount: String,
    pub pay_amount: String,
    pub status: i8,
    pub pay_time: Option<DateTime<Utc>>,
    pub create_time: DateTime<Utc>,
}

pub async fn recent_orders<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
    limit: u32,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    sqlx::query_as::<_, OrderRow>(
        "SELECT id, CAST(total_amount AS CHAR) AS total_amount, \
         CAST(pay_amount AS CHAR) AS pay_amount, status, pay_time, create_time \
         FROM chat_order WHERE user_id = ? AND is_deleted = 0 \
         ORDER BY create_time DESC, id DESC LIMIT ?",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

#[derive(Debug, FromRow)]
pub struct AdjustmentRow {
    pub id: i64,
    pub delta: i32,
    pub reason: String,
    pub actor_id: i64,
    pub create_time: DateTime<Utc>,
}

pub async fn times_ledger<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
    limit: u32,
) -> Result<Vec<AdjustmentRow>, sqlx::Error> {
    sqlx::query_as::<_, AdjustmentRow>(
        "SELECT id, delta, reason, actor_id, create_time FROM chat_times_adjustment \
         WHERE user_id = ? ORDER BY create_time DESC, id DESC LIMIT ?",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The user's chat times, locking the row until the transaction ends.
pub async fn lock_times<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar("SELECT can_conversation_times FROM chat_user WHERE id = ? FOR UPDATE")
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Adds `delta` to the user's chat times unless that would go below 0;
/// answers whether it did.
pub async fn add_times<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
    delta: i32,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE chat_user SET can_conversation_times = can_conversation_times + ? \
         WHERE id = ? AND can_conversation_times + ? >= 0",
    )
    .bind(delta)
    .bind(user_id)
    .bind(delta)
    .execute(db)
    .await
    .map(|done| done.rows_affected() == 1)
}

pub struct NewAdjustment<'a> {
    pub id: i64,
    pub user_id: i64,
    pub delta: i32,
    pub reason: &'a str,
    pub actor_id: i64,
}

pub async fn insert_adjustment<'c>(
    db: impl MySqlExecutor<'c>,
    row: &NewAdjustment<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chat_times_adjustment (id, user_id, delta, reason, actor_id) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(row.id)
    .bind(row.user_id)
    .bind(row.delta)
    .bind(row.reason)
    .bind(row.actor_id)
    .execute(db)
    .await
    .map(|_| ())
}

/// The user's disabled flag, locking the row until the transaction ends.
pub async fn lock_disabled<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar("SELECT disabled FROM chat_user WHERE id = ? FOR UPDATE")
        .bind(user_id)
        .fetch_optional(db)
        .await
}

pub async fn set_disabled<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
    disabled: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_user SET disabled = ? WHERE id = ?")
        .bind(disabled)
        .bind(user_id)
        .execute(db)
        .await
        .map(|_| ())
}

#[derive(Debug, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub actor_id: i64,
    pub action: String,
    pub target: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub ip: Option<String>,
    pub create_time: DateTime<Utc>,
}

/// Audit rows with id below `before`, newest first, of `actor` and `action` when given.
pub async fn audit_rows<'c>(
    db: impl MySqlExecutor<'c>,
    actor: Option<i64>,
    action: Option<&str>,
    before: i64,
    limit: u32,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as::<_, AuditRow>(
        "SELECT id, actor_id, action, target, before_json, after_json, ip, create_time \
         FROM sys_audit_log \
         WHERE id < ? AND (? IS NULL OR actor_id = ?) AND (? IS NULL OR action = ?) \
         ORDER BY id DESC LIMIT ?",
    )
    .bind(before)
    .bind(actor)
    .bind(actor)
    .bind(action)
    .bind(action)
    .bind(limit)
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_wildcards_in_a_search_are_literal() {
        assert_eq!(like_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
