//! The operator console's audit log (`sys_audit_log`): every admin action of
//! every service writes one row, in the transaction of the change it records,
//! so a change and its record commit together or not at all.

use std::net::IpAddr;

use serde_json::Value;
use sqlx::{MySqlConnection, MySqlExecutor};

use crate::ids::IdGenerator;

/// One admin action: who did what to which target, from where, and the state
/// before and after (JSON).
pub struct NewAuditRow<'a> {
    pub id: i64,
    pub actor_id: i64,
    /// Like `order.refund` or `code.disable`.
    pub action: &'a str,
    /// Like `order:<id>` or `code:<id>`.
    pub target: &'a str,
    pub before: &'a Value,
    pub after: &'a Value,
    pub ip: &'a str,
}

/// Writes the row; pass the transaction of the change it records.
pub async fn insert<'c>(
    db: impl MySqlExecutor<'c>,
    row: &NewAuditRow<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sys_audit_log (id, actor_id, action, target, before_json, after_json, ip) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(row.id)
    .bind(row.actor_id)
    .bind(row.action)
    .bind(row.target)
    .bind(row.before.to_string())
    .bind(row.after.to_string())
    .bind(row.ip)
    .execute(db)
    .await
    .map(|_| ())
}

/// What an admin did to what, and from where.
pub struct Action<'a> {
    pub actor_id: i64,
    pub action: &'a str,
    pub target: String,
    pub ip: IpAddr,
}

/// Writes the audit row of `action`, inside the caller's transaction.
pub async fn record(
    conn: &mut MySqlConnection,
    ids: &IdGenerator,
    action: &Action<'_>,
    before: &Value,
    after: &Value,
) -> Result<(), sqlx::Error> {
    insert(
        conn,
        &NewAuditRow {
            id: ids.next(),
            actor_id: action.actor_id,
            action: action.action,
            target: &action.target,
            before,
            after,
            ip: &action.ip.to_string(),
        },
    )
    .await
}

/// The longest reason an admin may give.
pub const REASON_MAX: usize = 200;

/// A required reason for an admin action: 1..=200 characters once trimmed.
pub fn parse_reason(reason: &str) -> Result<String, crate::ApiError> {
    let reason = reason.trim();
    let len = reason.chars().count();
    if len == 0 || len > REASON_MAX {
        return Err(crate::ApiError::field(
            "invalid_request",
            "reason",
            "must be 1 to 200 characters",
        ));
    }
    Ok(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_trimmed_and_bounded() {
        assert_eq!(parse_reason("  refund  ").unwrap_or_default(), "refund");
        assert!(parse_reason("   ").is_err());
        assert!(parse_reason(&"é".repeat(200)).is_ok());
        assert!(parse_reason(&"é".repeat(201)).is_err());
    }
}
