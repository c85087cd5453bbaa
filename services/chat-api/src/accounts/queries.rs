//! The accounts SQL: small functions over any MySQL executor (the pool, a
//! connection or a transaction). Parameters are always bound, never formatted in.

use chrono::{DateTime, Utc};
use paychat_common::locale::Locale;
use sqlx::{FromRow, MySqlExecutor};

use super::codes::BizType;

/// A user with their email identity.
#[derive(Debug, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub nickname: String,
    pub description: Option<String>,
    pub role: String,
    pub can_conversation_times: i32,
    pub last_login_ip: Option<String>,
    pub create_time: DateTime<Utc>,
    pub locale: String,
    /// 0 before the first avatar upload.
    pub avatar_version: i32,
}

pub async fn find_user<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(
        "SELECT u.id, e.username AS email, u.nickname, u.description, u.role, \
         u.can_conversation_times, u.last_login_ip, u.create_time, u.locale, u.avatar_version \
         FROM chat_user u \
         JOIN chat_user_binding b ON b.user_id = u.id AND b.binding_type = 'email' \
         JOIN chat_user_binding_email e ON e.id = b.user_binding_email_id \
         WHERE u.id = ?",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// An email identity and the user it belongs to.
#[derive(Debug, FromRow)]
pub struct Account {
    pub binding_email_id: i64,
    pub user_id: i64,
    pub password: String,
    pub verified: bool,
    pub role: String,
    /// Set by an admin: the account may not sign in.
    pub disabled: bool,
    /// The user's language (`Locale`), for the mail sent to this address.
    pub locale: String,
}

macro_rules! account_sql {
    () => {
        "SELECT e.id AS binding_email_id, b.user_id, e.password, e.verified, u.role, u.disabled, \
         u.locale \
         FROM chat_user_binding_email e \
         JOIN chat_user_binding b ON b.user_binding_email_id = e.id AND b.binding_type = 'email' \
         JOIN chat_user u ON u.id = b.user_id \
         WHERE e.username = ?"
    };
}

pub async fn find_account<'c>(
    db: impl MySqlExecutor<'c>,
    email: &str,
) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query_as::<_, Account>(account_sql!())
        .bind(email)
        .fetch_optional(db)
        .await
}

/// As [`find_account`], locking the rows until the transaction ends.
pub async fn lock_account<'c>(
    db: impl MySqlExecutor<'c>,
    email: &str,
) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query_as::<_, Account>(concat!(account_sql!(), " FOR UPDATE"))
        .bind(email)
        .fetch_optional(db)
        .await
}

/// Whether an admin has disabled the user (false for no such user).
pub async fn is_disabled<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar::<_, bool>("SELECT disabled FROM chat_user WHERE id = ?")
        .bind(user_id)
        .fetch_optional(db)
        .await
        .map(|d| d.unwrap_or(false))
}

pub async fn insert_user<'c>(
    db: impl MySqlExecutor<'c>,
    id: i64,
    nickname: &str,
    role: &str,
    locale: Locale,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO chat_user (id, nickname, role, locale) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(nickname)
        .bind(role)
        .bind(locale.as_str())
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn insert_binding_email<'c>(
    db: impl MySqlExecutor<'c>,
    id: i64,
    email: &str,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chat_user_binding_email (id, username, password, verified) VALUES (?, ?, ?, 0)",
    )
    .bind(id)
    .bind(email)
    .bind(password_hash)
    .execute(db)
    .await
    .map(|_| ())
}

/// What a `chat_user_binding` row binds a user to: their email identity or an
/// account at a sign-in provider (`chat_user_binding_oauth`).
#[derive(Debug, Clone, Copy)]
pub enum BoundIdentity {
    Email(i64),
    Oauth(i64),
}

pub async fn insert_binding<'c>(
    db: impl MySqlExecutor<'c>,
    id: i64,
    identity: BoundIdentity,
    user_id: i64,
) -> Result<(), sqlx::Error> {
    let (sql, identity_id) = match identity {
        BoundIdentity::Email(id) => (
            "INSERT INTO chat_user_binding (id, binding_type, user_binding_email_id, user_id) \
             VALUES (?, 'email', ?, ?)",
            id,
        ),
        BoundIdentity::Oauth(id) => (
            "INSERT INTO chat_user_binding (id, binding_type, user_binding_oauth_id, user_id) \
             VALUES (?, 'oauth', ?, ?)",
            id,
        ),
    };
    sqlx::query(sql)
        .bind(id)
        .bind(identity_id)
        .bind(user_id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn set_password<'c>(
    db: impl MySqlExecutor<'c>,
    binding_email_id: i64,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_user_binding_email SET password = ? WHERE id = ?")
        .bind(password_hash)
        .bind(binding_email_id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn set_verified<'c>(db: impl MySqlExecutor<'c>, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_user_binding_email SET verified = 1 WHERE username = ?")
        .bind(email)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn set_nickname<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
    nickname: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_user SET nickname = ? WHERE id = ?")
        .bind(nickname)
        .bind(user_id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn set_description<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
    description: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_user SET description = ? WHERE id = ?")
        .bind(description)
        .bind(user_id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn set_locale<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
    locale: Locale,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_user SET locale = ? WHERE id = ?")
        .bind(locale.as_str())
        .bind(user_id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn set_role<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
    role: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_user SET role = ? WHERE id = ?")
        .bind(role)
        .bind(user_id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn set_last_login_ip<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
    ip: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_user SET last_login_ip = ? WHERE id = ?")
        .bind(ip)
        .bind(user_id)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn insert_code<'c>(
    db: impl MySqlExecutor<'c>,
    id: i64,
    email: &str,
    code_hash: &str,
    expire_at: DateTime<Utc>,
    biz: BizType,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sys_email_verify_code (id, to_email_address, verify_code, is_used, expire_at, biz_type) \
         VALUES (?, ?, ?, 0, ?, ?)",
    )
    .bind(id)
    .bind(email)
    .bind(code_hash)
    .bind(expire_at)
    .bind(biz.as_i8())
    .execute(db)
    .await
    .map(|_| ())
}

#[derive(Debug, FromRow)]
pub struct CodeRow {
    pub id: i64,
    pub to_email_address: String,
    pub is_used: bool,
    pub expire_at: DateTime<Utc>,
}

macro_rules! code_sql {
    () => {
        "SELECT id, to_email_address, is_used, expire_at FROM sys_email_verify_code \
         WHERE verify_code = ? AND biz_type = ?"
    };
}

/// The code with this hash and purpose.
pub async fn find_code<'c>(
    db: impl MySqlExecutor<'c>,
    code_hash: &str,
    biz: BizType,
) -> Result<Option<CodeRow>, sqlx::Error> {
    sqlx::query_as::<_, CodeRow>(code_sql!())
        .bind(code_hash)
        .bind(biz.as_i8())
        .fetch_optional(db)
        .await
}

/// As [`find_code`], locking the row until the transaction ends.
pub async fn lock_code<'c>(
    db: impl MySqlExecutor<'c>,
    code_hash: &str,
    biz: BizType,
) -> Result<Option<CodeRow>, sqlx::Error> {
    sqlx::query_as::<_, CodeRow>(concat!(code_sql!(), " FOR UPDATE"))
        .bind(code_hash)
        .bind(biz.as_i8())
        .fetch_optional(db)
        .await
}

/// Marks the code used unless it already is; false when another request won.
pub async fn use_code<'c>(
    db: impl MySqlExecutor<'c>,
    id: i64,
    ip: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE sys_email_verify_code SET is_used = 1, verify_ip = ? WHERE id = ? AND is_used = 0",
    )
    .bind(ip)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every other open code of this kind for the address.
pub async fn retire_codes<'c>(
    db: impl MySqlExecutor<'c>,
    email: &str,
    biz: BizType,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sys_email_verify_code SET is_used = 1 \
         WHERE to_email_address = ? AND biz_type = ? AND is_used = 0",
    )
    .bind(email)
    .bind(biz.as_i8())
    .execute(db)
    .await
    .map(|_| ())
}

/// Ends every open code of this kind for the address by expiring it, so a
/// link followed later says `expired` (ask for a new one), not `used`.
pub async fn expire_codes<'c>(
    db: impl MySqlExecutor<'c>,
    email: &str,
    biz: BizType,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sys_email_verify_code SET expire_at = UTC_TIMESTAMP(3) \
         WHERE to_email_address = ? AND biz_type = ? AND is_used = 0 AND expire_at > UTC_TIMESTAMP(3)",
    )
    .bind(email)
    .bind(biz.as_i8())
    .execute(db)
    .await
    .map(|_| ())
}

/// How a sign-in was made (`chat_user_login_log.login_type`).
#[derive(Debug, Clone, Copy)]
pub enum LoginType {
    Email,
    Oauth,
}

impl LoginType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Oauth => "oauth",
        }
    }
}

/// One row of `chat_user_login_log`.
pub struct LoginLog<'a> {
    pub id: i64,
    pub login_type: LoginType,
    pub user_id: Option<i64>,
    pub binding_email_id: Option<i64>,
    pub ip: &'a str,
    pub success: bool,
    pub message: &'a str,
}

pub async fn insert_login_log<'c>(
    db: impl MySqlExecutor<'c>,
    log: &LoginLog<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chat_user_login_log (id, user_id, login_type, user_binding_email_id, login_ip, \
         login_status, message) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(log.id)
    .bind(log.user_id)
    .bind(log.login_type.as_str())
    .bind(log.binding_email_id)
    .bind(log.ip)
    .bind(log.success)
    .bind(log.message)
    .execute(db)
    .await
    .map(|_| ())
}

/// The email identity of a user: what a password change checks and sets.
#[derive(Debug, FromRow)]
pub struct UserAccount {
    pub binding_email_id: i64,
    pub email: String,
    pub password: String,
}

pub async fn find_account_of_user<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
) -> Result<Option<UserAccount>, sqlx::Error> {
    sqlx::query_as::<_, UserAccount>(
        "SELECT e.id AS binding_email_id, e.username AS email, e.password \
         FROM chat_user_binding b \
         JOIN chat_user_binding_email e ON e.id = b.user_binding_email_id \
         WHERE b.user_id = ? AND b.binding_type = 'email'",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// Whether the user's email identity has a password (a way in of its own).
pub async fn has_password<'c>(
    db: impl MySqlExecutor<'c>,
    user_id: i64,
) -> Result<bool, sqlx::Error> {
    let account = find_account_of_user(db, user_id).await?;
    Ok(account.is_some_and(|a| !a.password.is_empty()))
}
