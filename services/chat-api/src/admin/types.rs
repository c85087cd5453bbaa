//! Bodies of the console's Users panel and audit log (API.md's shapes).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::queries::{AdjustmentRow, AdminUserRow, AuditRow, BindingRow, LoginRow, OrderRow};
use crate::accounts::queries::UserRow;
use crate::accounts::types::User;
use crate::pagination::rfc3339;

/// API.md's `admin_user`: `user` and the console's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUser {
    #[serde(flatten)]
    pub user: User,
    /// Disabled accounts cannot sign in and have no sessions.
    pub disabled: bool,
    /// Orders placed (any state).
    pub orders: i64,
    /// The money of completed orders, a string with two decimals.
    pub paid_total: String,
}

impl From<AdminUserRow> for AdminUser {
    fn from(row: AdminUserRow) -> Self {
        Self {
            user: User::from(UserRow {
                id: row.id,
                email: row.email,
                nickname: row.nickname,
                description: row.description,
                role: row.role,
                can_conversation_times: row.can_conversation_times,
                last_login_ip: row.last_login_ip,
                create_time: row.create_time,
                locale: row.locale,
                avatar_version: row.avatar_version,
            }),
            disabled: row.disabled,
            orders: row.orders,
            paid_total: row.paid_total,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUserPage {
    pub items: Vec<AdminUser>,
    pub next_cursor: Option<String>,
}

/// A way the user signs in.
#[derive(Debug, Serialize, ToSchema)]
pub struct Binding {
    /// `email` or `oauth`.
    pub kind: String,
    /// The provider of an `oauth` binding.
    pub provider: Option<String>,
    pub email: Option<String>,
    /// Whether an `email` binding's address is verified.
    pub verified: Option<bool>,
    pub created_at: String,
}

impl From<BindingRow> for Binding {
    fn from(row: BindingRow) -> Self {
        Self {
            kind: row.kind,
            provider: row.provider,
            email: row.email,
            verified: row.verified,
            created_at: rfc3339(row.create_time),
        }
    }
}

/// One sign-in attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct Login {
    /// `email` or `oauth`.
    pub kind: String,
    pub ip: String,
    pub success: bool,
    pub message: String,
    pub created_at: String,
}

impl From<LoginRow> for Login {
    fn from(row: LoginRow) -> Self {
        Self {
            kind: row.login_type,
            ip: row.login_ip,
            success: row.success,
            message: row.message,
            created_at: rfc3339(row.create_time),
        }
    }
}

/// An order of the user, as `chat_order` has it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecentOrder {
    pub id: String,
    pub total_amount: String,
    pub pay_amount: String,
    /// `awaiting_payment`, `awaiting_confirmation`, `completed`, `invalid`, `closed` or `refunded`.
    pub status: &'static str,
    pub paid_at: Option<String>,
    pub created_at: String,
}

fn order_status(code: i8) -> &'static str {
    match code {
        0 => "awaiting_payment",
        1 => "awaiting_confirmation",
        2 => "completed",
        4 => "closed",
        // Refunded by an operator (orders' `OrderStatus::Refunded`).
        5 => "refunded",
        _ => "invalid",
    }
}

impl From<OrderRow> for RecentOrder {
    fn from(row: OrderRow) -> Self {
        Self {
            id: row.id.to_string(),
            total_amount: row.total_amount,
            pay_amount: row.pay_amount,
            status: order_status(row.status),
            paid_at: row.pay_time.map(rfc3339),
            created_at: rfc3339(row.create_time),
        }
    }
}

/// An admin's change of the user's chat times.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntry {
    pub id: String,
    pub delta: i32,
    pub reason: String,
    pub actor_id: String,
    pub created_at: String,
}

impl From<AdjustmentRow> for LedgerEntry {
    fn from(row: AdjustmentRow) -> Self {
        Self {
            id: row.id.to_string(),
            delta: row.delta,
            reason: row.reason,
            actor_id: row.actor_id.to_string(),
            created_at: rfc3339(row.create_time),
        }
    }
}

/// `admin_user` with what the console's detail drawer shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUserDetail {
    #[serde(flatten)]
    pub user: AdminUser,
    pub bindings: Vec<Binding>,
    /// The last sign-in attempts, newest first.
    pub recent_logins: Vec<Login>,
    /// The last orders, newest first.
    pub recent_orders: Vec<RecentOrder>,
    /// The last chat-times adjustments, newest first.
    pub times_ledger: Vec<LedgerEntry>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AdjustTimes {
    /// Not 0; at most 100000 either way.
    pub delta: i64,
    /// 1 to 200 characters.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustedTimes {
    pub can_conversation_times: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonBody {
    /// 1 to 200 characters.
    pub reason: String,
}

/// One admin action.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub actor_id: String,
    /// `user.chat_times`, `user.disable`, `user.enable`.
    pub action: String,
    /// `user:<id>`.
    pub target: String,
    /// The state before, as JSON.
    #[schema(value_type = Object)]
    pub before: serde_json::Value,
    /// The state after, as JSON.
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
    pub ip: Option<String>,
    pub created_at: String,
}

fn json_of(text: Option<String>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null)
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> Self {
        Self {
            id: row.id.to_string(),
            actor_id: row.actor_id.to_string(),
            action: row.action,
            target: row.target,
            before: json_of(row.before_json),
            after: json_of(row.after_json),
            ip: row.ip,
            created_at: rfc3339(row.create_time),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::order_status;

    #[test]
    fn order_statuses_are_named_as_orders_names_them() {
        let names: Vec<&str> = (0..=6).map(order_status).collect();
        assert_eq!(
            names,
            [
                "awaiting_payment",
                "awaiting_confirmation",
                "completed",
                "invalid",
                "closed",
                "refunded",
                "invalid"
            ]
        );
    }
}
