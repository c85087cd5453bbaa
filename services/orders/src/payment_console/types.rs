//! The Payments panel's answers and query strings.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::orders::types::OrderView;

#[derive(Debug, sqlx::FromRow)]
pub struct FailureRow {
    pub id: i64,
    pub order_id: i64,
    pub out_trade_no: String,
    pub event_payload: String,
    pub error_message: String,
    pub attempts: i32,
    pub resolved: bool,
    pub resolved_time: Option<NaiveDateTime>,
    pub create_time: NaiveDateTime,
    pub update_time: NaiveDateTime,
}

/// A payment event whose fulfilment kept failing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentFailure {
    pub id: String,
    pub order_id: String,
    pub out_trade_no: String,
    /// Why the last attempt failed, without internals.
    pub last_error: String,
    pub attempts: i32,
    pub resolved: bool,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A failure's reason as an operator may read it: a database error is named
/// as one, never quoted (it may carry SQL or internal names).
pub fn readable_error(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("database") || lower.contains("sql") || lower.contains("pool") {
        return "database error".into();
    }
    let first = message.lines().next().unwrap_or_default();
    first.chars().take(300).collect()
}

impl From<FailureRow> for PaymentFailure {
    fn from(r: FailureRow) -> Self {
        Self {
            id: r.id.to_string(),
            order_id: r.order_id.to_string(),
            out_trade_no: r.out_trade_no,
            last_error: readable_error(&r.error_message),
            attempts: r.attempts,
            resolved: r.resolved,
            resolved_at: r.resolved_time.map(|t| t.and_utc()),
            created_at: r.create_time.and_utc(),
            updated_at: r.update_time.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentFailureList {
    pub items: Vec<PaymentFailure>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FailuresQuery {
    /// `open` (default), `resolved` or `all`.
    pub state: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Which parked events to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureFilter {
    Open,
    Resolved,
    All,
}

impl FailureFilter {
    pub fn parse(text: Option<&str>) -> Option<Self> {
        match text.unwrap_or("open") {
            "" | "open" => Some(Self::Open),
            "resolved" => Some(Self::Resolved),
            "all" => Some(Self::All),
            _ => None,
        }
    }
}

/// What "reconcile now" found of one trade at Alipay.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TradeFinding {
    pub out_trade_no: String,
    /// Alipay's `trade_status`, or `TRADE_NOT_EXIST` (never scanned),
    /// `UNKNOWN` (Alipay could not say).
    pub trade_status: String,
    /// `fulfilled`, `already_fulfilled`, `refunded` for a paid trade; null otherwise.
    pub outcome: Option<String>,
}

/// The answer of "reconcile now".
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reconciled {
    pub order: OrderView,
    pub trades: Vec<TradeFinding>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct NotifyRow {
    pub id: i64,
    pub notify_id: Option<String>,
    pub out_trade_no: Option<String>,
    pub trade_no: Option<String>,
    pub trade_status: Option<String>,
    pub verified: bool,
    pub handed_over: bool,
    pub rejection_reason: Option<String>,
    pub raw_body: String,
    pub create_time: NaiveDateTime,
}

/// One notify as the gateway received it: the fields as sent (the signature
/// withheld) and what verification made of it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotifyEntry {
    pub id: String,
    pub notify_id: Option<String>,
    pub out_trade_no: Option<String>,
    pub trade_no: Option<String>,
    pub trade_status: Option<String>,
    /// The signature and the business checks passed.
    pub verified: bool,
    /// Handed to orders as a "payment succeeded" event.
    pub handed_over: bool,
    /// Why it was refused (or `received` while being handled).
    pub rejection_reason: Option<String>,
    /// Every field as received, URL-decoded; `sign` is withheld.
    pub fields: BTreeMap<String, String>,
    pub received_at: DateTime<Utc>,
}

/// Fields never shown as received.
pub const WITHHELD: &[&str] = &["sign"];

/// The raw form body as fields, secrets replaced by `[withheld]`.
pub fn notify_fields(raw: &str) -> BTreeMap<String, String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            let v = if WITHHELD.contains(&k.as_str()) {
                "[withheld]".to_owned()
            } else {
                v
            };
            (k, v)
        })
        .collect()
}

impl From<NotifyRow> for NotifyEntry {
    fn from(r: NotifyRow) -> Self {
        Self {
            id: r.id.to_string(),
            notify_id: r.notify_id,
            out_trade_no: r.out_trade_no,
            trade_no: r.trade_no,
            trade_status: r.trade_status,
            verified: r.verified,
            handed_over: r.handed_over,
            rejection_reason: r.rejection_reason,
            fields: notify_fields(&r.raw_body),
            received_at: r.create_time.and_utc(),
        }
    }
}

/// The order and its notify log: the panel shows both from one call.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotifyList {
    pub order: OrderView,
    pub items: Vec<NotifyEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_withheld_and_the_rest_decoded() {
        let f = notify_fields("sign=abc%2B%3D&trade_status=TRADE_SUCCESS&subject=%E5%85%85");
        assert_eq!(f.get("sign").map(String::as_str), Some("[withheld]"));
        assert_eq!(
            f.get("trade_status").map(String::as_str),
            Some("TRADE_SUCCESS")
        );
        assert_eq!(f.get("subject").map(String::as_str), Some("充"));
        assert!(notify_fields("%%%").is_empty() || !notify_fields("%%%").contains_key("sign"));
    }

    #[test]
    fn database_errors_are_named_not_quoted() {
        assert_eq!(
            readable_error("error returned from database: 1205 lock wait"),
            "database error"
        );
        assert_eq!(
            readable_error("order 1: product 2 has 0 free codes, 1 needed\ncaused by"),
            "order 1: product 2 has 0 free codes, 1 needed"
        );
        assert_eq!(FailureFilter::parse(None), Some(FailureFilter::Open));
        assert_eq!(FailureFilter::parse(Some("x")), None);
    }
}
