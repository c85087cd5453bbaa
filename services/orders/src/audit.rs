//! The audit row every admin action of this service writes (the shared
//! `sys_audit_log`, through `paychat_common::audit`), in the transaction of
//! the change it records.

use std::net::IpAddr;

use paychat_common::audit::{self, NewAuditRow};
use serde_json::Value;
use sqlx::MySqlConnection;

use crate::state::AppState;

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
    state: &AppState,
    action: &Action<'_>,
    before: &Value,
    after: &Value,
) -> Result<(), sqlx::Error> {
    audit::insert(
        conn,
        &NewAuditRow {
            id: state.ids.next(),
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
