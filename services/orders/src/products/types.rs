//! Product rows and their JSON shape (`product` in API.md).

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::wire::id_string;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub price: Decimal,
    pub reward_use_times: i32,
    pub sale: i32,
    pub stock: i32,
    pub status: i8,
    pub is_seckill: bool,
    pub expires_days: i32,
    pub create_time: NaiveDateTime,
}

impl ProductRow {
    pub fn enabled(&self) -> bool {
        self.status == 1
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    #[serde(serialize_with = "id_string")]
    #[schema(value_type = String)]
    pub id: i64,
    pub name: String,
    pub description: String,
    #[serde(serialize_with = "paychat_common::money::serialize")]
    #[schema(value_type = String, example = "9.90")]
    pub price: Decimal,
    pub reward_use_times: i32,
    /// Units that can be ordered now.
    pub stock: i64,
    pub sale: i32,
    /// A flash-sale product: orders holding it have a shorter payment window.
    pub seckill: bool,
}

impl ProductView {
    pub fn new(row: &ProductRow, available: i64) -> Self {
        Self {
            id: row.id,
            name: row.name.clone(),
            description: row.description.clone(),
            price: row.price,
            reward_use_times: row.reward_use_times,
            stock: available.max(0),
            sale: row.sale,
            seckill: row.is_seckill,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductList {
    pub items: Vec<ProductView>,
    pub next_cursor: Option<String>,
}
