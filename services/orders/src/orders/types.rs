//! Order rows, the `order` JSON of API.md, the admin's order list, and the
//! parsed order request. Longer than 300 lines: the request's parsing and its
//! unit tests sit beside the types they produce.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::states::OrderStatus;
use crate::wire::{id_from_string_or_number, id_string};
use paychat_common::ApiError;

/// `chat_order.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    Normal,
    Seckill,
}

impl OrderType {
    pub fn code(self) -> i8 {
        match self {
            Self::Normal => 0,
            Self::Seckill => 1,
        }
    }

    pub fn from_code(code: i8) -> Self {
        if code == 1 {
            Self::Seckill
        } else {
            Self::Normal
        }
    }
}

crate::states::tinyint!(OrderType);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub user_id: i64,
    pub total_amount: Decimal,
    pub pay_amount: Decimal,
    pub status: i8,
    #[sqlx(rename = "type")]
    pub kind: i8,
    pub remark: Option<String>,
    pub pay_time: Option<NaiveDateTime>,
    pub expire_time: NaiveDateTime,
    pub create_time: NaiveDateTime,
}

impl OrderRow {
    pub fn status(&self) -> OrderStatus {
        OrderStatus::from_code(self.status)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub order_id: i64,
    pub product_id: i64,
    pub exchange_num: i32,
    pub product_name: String,
    pub product_price: Decimal,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderItemView {
    #[serde(serialize_with = "id_string")]
    #[schema(value_type = String)]
    pub product_id: i64,
    pub product_name: String,
    #[serde(serialize_with = "paychat_common::money::serialize")]
    #[schema(value_type = String, example = "9.90")]
    pub product_price: Decimal,
    pub quantity: i32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    #[serde(serialize_with = "id_string")]
    #[schema(value_type = String)]
    pub id: i64,
    pub status: OrderStatus,
    #[serde(rename = "type")]
    pub kind: OrderType,
    #[serde(serialize_with = "paychat_common::money::serialize")]
    #[schema(value_type = String, example = "19.80")]
    pub total_amount: Decimal,
    #[serde(serialize_with = "paychat_common::money::serialize")]
    #[schema(value_type = String, example = "19.80")]
    pub pay_amount: Decimal,
    pub items: Vec<OrderItemView>,
    /// The payment QR code once one is issued.
    pub qr_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub pay_time: Option<DateTime<Utc>>,
    /// Money paid for the order and given back (a payment after it closed, a
    /// second payment of a paid order); null when nothing was refunded.
    pub refund: Option<RefundView>,
    /// Why a closed order closed; null for an order that is not closed.
    pub close_reason: Option<CloseReason>,
}

/// `close_reason` of the order JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The buyer closed it.
    Buyer,
    /// Its payment window ran out.
    Timeout,
}

/// `refund` of the order JSON: the total refunded and when the last refund was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RefundView {
    #[serde(serialize_with = "paychat_common::money::serialize")]
    #[schema(value_type = String, example = "9.90")]
    pub amount: Decimal,
    pub refunded_at: DateTime<Utc>,
}

impl OrderView {
    pub fn new(row: &OrderRow, items: &[ItemRow]) -> Self {
        Self {
            id: row.id,
            status: row.status(),
            kind: OrderType::from_code(row.kind),
            total_amount: row.total_amount,
            pay_amount: row.pay_amount,
            items: items
                .iter()
                .filter(|i| i.order_id == row.id)
                .map(|i| OrderItemView {
                    product_id: i.product_id,
                    product_name: i.product_name.clone(),
                    product_price: i.product_price,
                    quantity: i.exchange_num,
                })
                .collect(),
            qr_code: None,
            created_at: row.create_time.and_utc(),
            expires_at: row.expire_time.and_utc(),
            pay_time: row.pay_time.map(|t| t.and_utc()),
            refund: None,
            close_reason: None,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderList {
    pub items: Vec<OrderView>,
    pub next_cursor: Option<String>,
}

// --- the request ---

pub const MAX_ITEMS: usize = 20;
pub const MAX_QUANTITY: i64 = 100;
pub const MAX_REMARK_CHARS: usize = 500;
pub const MAX_KEY_LEN: usize = 64;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderBody {
    pub items: Vec<ItemInput>,
    pub remark: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    #[serde(deserialize_with = "id_from_string_or_number")]
    #[schema(value_type = String)]
    pub product_id: i64,
    /// 1..=100.
    pub quantity: i64,
}

/// A checked order request: 1..=20 distinct products, quantities 1..=100.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub items: Vec<(i64, i32)>,
    pub remark: Option<String>,
}

impl NewOrder {
    pub fn parse(body: CreateOrderBody) -> Result<Self, ApiError> {
        if body.items.is_empty() || body.items.len() > MAX_ITEMS {
            return Err(ApiError::field(
                "invalid_request",
                "items",
                format!("an order holds 1 to {MAX_ITEMS} products"),
            ));
        }
        let mut seen = HashSet::new();
        let mut items = Vec::with_capacity(body.items.len());
        for (i, item) in body.items.iter().enumerate() {
            if !(1..=MAX_QUANTITY).contains(&item.quantity) {
                return Err(ApiError::field(
                    "invalid_request",
                    &format!("items[{i}].quantity"),
                    format!("must be a whole number from 1 to {MAX_QUANTITY}"),
                ));
            }
            if item.product_id <= 0 {
                return Err(ApiError::not_found("product_not_found"));
            }
            if !seen.insert(item.product_id) {
                return Err(ApiError::field(
                    "invalid_request",
                    &format!("items[{i}].product_id"),
                    "each product may appear once; raise its quantity instead",
                ));
            }
            let quantity = i32::try_from(item.quantity).unwrap_or(1);
            items.push((item.product_id, quantity));
        }
        let remark = body
            .remark
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if remark
            .as_ref()
            .is_some_and(|r| r.chars().count() > MAX_REMARK_CHARS)
        {
            return Err(ApiError::field(
                "invalid_request",
                "remark",
                format!("at most {MAX_REMARK_CHARS} characters"),
            ));
        }
        Ok(Self { items, remark })
    }
}

/// The `Idempotency-Key` header: 1..=64 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(value: Option<&str>) -> Result<Self, ApiError> {
        let problem = |p: &str| ApiError::field("invalid_request", "Idempotency-Key", p.to_owned());
        let value = value
            .ok_or_else(|| problem("the header is required"))?
            .trim();
        if value.is_empty() || value.len() > MAX_KEY_LEN {
            return Err(problem("must be 1 to 64 characters"));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(problem("must be visible ASCII characters"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AdminOrdersQuery {
    pub status: Option<String>,
    pub user_id: Option<String>,
    /// The buyer's email address (as registered; case does not matter).
    pub email: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminOrder {
    #[serde(flatten)]
    pub order: OrderView,
    #[serde(serialize_with = "id_string")]
    #[schema(value_type = String)]
    pub user_id: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminOrderList {
    pub items: Vec<AdminOrder>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn body(items: &[(i64, i64)]) -> CreateOrderBody {
        CreateOrderBody {
            items: items
                .iter()
                .map(|&(product_id, quantity)| ItemInput {
                    product_id,
                    quantity,
                })
                .collect(),
            remark: None,
        }
    }

    #[test]
    fn quantities_and_item_counts_are_bounded() {
        assert!(NewOrder::parse(body(&[(1, 1), (2, 100)])).is_ok());
        for bad in [0, -1, 101, i64::MAX] {
            assert!(NewOrder::parse(body(&[(1, bad)])).is_err(), "{bad}");
        }
        assert!(NewOrder::parse(body(&[])).is_err());
        let many: Vec<(i64, i64)> = (1..=21).map(|p| (p, 1)).collect();
        assert!(NewOrder::parse(body(&many)).is_err());
        assert!(NewOrder::parse(body(&[(1, 1), (1, 2)])).is_err());
    }

    #[test]
    fn idempotency_keys_are_short_visible_text() {
        assert!(IdempotencyKey::parse(Some("abc-123")).is_ok());
        assert!(IdempotencyKey::parse(None).is_err());
        assert!(IdempotencyKey::parse(Some("")).is_err());
        assert!(IdempotencyKey::parse(Some(&"x".repeat(65))).is_err());
        assert!(IdempotencyKey::parse(Some("a b")).is_err());
    }

    #[test]
    fn status_names_match_the_contract() {
        for code in 0..=4 {
            let s = OrderStatus::from_code(code);
            assert_eq!(s.code(), code);
            let name = serde_json::to_value(s).unwrap();
            assert_eq!(OrderStatus::parse(name.as_str().unwrap()), Some(s));
        }
    }
}
