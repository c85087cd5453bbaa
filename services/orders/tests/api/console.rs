//! The operator console's Payments and Codes panels over HTTP: who may call
//! them, refunds through the gateway to the sandbox Alipay, the payment
//! failure queue, "reconcile now", the notify log, code states, disabling and
//! the CSV export; every action leaves one audit row.

use serde_json::Value;

use crate::helpers::TestApp;

mod access;
mod codes;
mod payments;
mod refund;

/// How many audit rows of `action` on `target` there are.
pub async fn audit_rows(app: &TestApp, action: &str, target: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sys_audit_log WHERE action = ? AND target = ?")
        .bind(action)
        .bind(target)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// The newest audit row of `action` on `target`: (actor id, before, after, ip).
pub async fn audit_row(app: &TestApp, action: &str, target: &str) -> (i64, Value, Value, String) {
    let (actor, before, after, ip): (i64, String, String, Option<String>) = sqlx::query_as(
        "SELECT actor_id, before_json, after_json, ip FROM sys_audit_log \
         WHERE action = ? AND target = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(action)
    .bind(target)
    .fetch_one(&app.db)
    .await
    .unwrap();
    (
        actor,
        serde_json::from_str(&before).unwrap(),
        serde_json::from_str(&after).unwrap(),
        ip.unwrap_or_default(),
    )
}
