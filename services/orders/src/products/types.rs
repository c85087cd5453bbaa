//! Product rows and their JSON shape (`product` in API.md), and the admin's
//! product bodies and views.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::states::ProductStatus;
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
    pub sort_order: i32,
    pub is_seckill: bool,
    pub expires_days: i32,
    pub create_time: NaiveDateTime,
}

impl ProductRow {
    pub fn status(&self) -> ProductStatus {
        ProductStatus::from_code(self.status)
    }

    pub fn enabled(&self) -> bool {
        self.status() == ProductStatus::Enabled
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
    /// The admin's order: lower first, then best sellers, then oldest.
    pub sort_order: i32,
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
            sort_order: row.sort_order,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductList {
    pub items: Vec<ProductView>,
    pub next_cursor: Option<String>,
}

/// A price as a string (`"9.90"`) or a JSON number; at most two decimals.
fn price<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let raw = serde_json::Value::deserialize(d)?;
    let text = match raw {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => {
            return Err(serde::de::Error::custom(
                "a price is a string such as \"9.90\"",
            ));
        }
    };
    paychat_common::money::parse(&text)
        .filter(|p| *p <= Decimal::from(999_999_999))
        .ok_or_else(|| {
            serde::de::Error::custom("a price has at most two decimals and is not negative")
        })
}

fn opt_price<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    price(d).map(Some)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProductBody {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(deserialize_with = "price")]
    #[schema(value_type = String, example = "9.90")]
    pub price: Decimal,
    pub reward_use_times: i64,
    pub stock: i64,
    #[serde(default)]
    pub expires_days: i64,
    /// A flash-sale product (shorter payment window).
    #[serde(default)]
    pub seckill: bool,
    /// 0..=1_000_000, lower listed first; default 0.
    #[serde(default)]
    pub sort_order: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProductBody {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "opt_price")]
    #[schema(value_type = Option<String>)]
    pub price: Option<Decimal>,
    pub reward_use_times: Option<i64>,
    pub enabled: Option<bool>,
    /// 0..=1_000_000, lower listed first.
    pub sort_order: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddStockBody {
    pub add: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminProduct {
    #[serde(flatten)]
    pub product: ProductView,
    pub enabled: bool,
    pub expires_days: i32,
    /// Real stock in the database (decremented when paid).
    pub db_stock: i32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminProductList {
    pub items: Vec<AdminProduct>,
    pub next_cursor: Option<String>,
}
