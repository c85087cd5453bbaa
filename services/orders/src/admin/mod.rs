//! Admin: products (creating one or adding stock generates its redemption
//! codes), all orders, and the stock reconciliation. Role `admin` only.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use paychat_common::auth::AdminUser;
use paychat_common::{ApiError, Json};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::codes::generate::{CodeBatch, insert_codes};
use crate::orders::types::OrderView;
use crate::orders::{ListQuery as OrderListQuery, Page, list_page};
use crate::products::queries;
use crate::products::types::{ProductRow, ProductView};
use crate::state::AppState;
use crate::stock::reconcile::{self, Report};
use crate::wire::id_string;

pub const MAX_STOCK_PER_CALL: i64 = 100_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_product, list_products))
        .routes(routes!(update_product))
        .routes(routes!(add_stock))
        .routes(routes!(list_orders))
        .routes(routes!(reconcile_stock))
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

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 30 {
        return Err(ApiError::field(
            "invalid_request",
            "name",
            "1 to 30 characters",
        ));
    }
    Ok(name.to_owned())
}

fn check_description(text: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.chars().count() > 64 {
        return Err(ApiError::field(
            "invalid_request",
            "description",
            "at most 64 characters",
        ));
    }
    Ok(text.to_owned())
}

fn check_range(
    value: i64,
    range: std::ops::RangeInclusive<i64>,
    field: &str,
) -> Result<i32, ApiError> {
    if !range.contains(&value) {
        return Err(ApiError::field(
            "invalid_request",
            field,
            format!("must be {} to {}", range.start(), range.end()),
        ));
    }
    i32::try_from(value).map_err(|_| ApiError::field("invalid_request", field, "too large"))
}

async fn admin_view(state: &AppState, row: ProductRow) -> Result<AdminProduct, ApiError> {
    let available = state.stock.available(&[row.id]).await?;
    Ok(AdminProduct {
        product: ProductView::new(&row, available.get(&row.id).copied().unwrap_or(0)),
        enabled: row.enabled(),
        expires_days: row.expires_days,
        db_stock: row.stock,
    })
}

/// Creates a product and its `stock` redemption codes.
#[utoipa::path(post, path = "/api/admin/products", request_body = NewProductBody,
    responses((status = 201, body = AdminProduct), (status = 400), (status = 401), (status = 403)))]
async fn create_product(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(body): Json<NewProductBody>,
) -> Result<(StatusCode, Json<AdminProduct>), ApiError> {
    let name = check_name(&body.name)?;
    let description = check_description(&body.description)?;
    let reward = check_range(body.reward_use_times, 1..=1_000_000, "reward_use_times")?;
    let stock = check_range(body.stock, 0..=MAX_STOCK_PER_CALL, "stock")?;
    let expires_days = check_range(body.expires_days, 0..=3650, "expires_days")?;
    let id = state.ids.next();
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "INSERT INTO chat_product (id, name, reward_use_times, price, description, stock, status, \
         is_seckill, expires_days) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
    )
    .bind(id)
    .bind(&name)
    .bind(reward)
    .bind(body.price)
    .bind(&description)
    .bind(stock)
    .bind(body.seckill)
    .bind(expires_days)
    .execute(&mut *tx)
    .await?;
    let batch = CodeBatch {
        product_id: id,
        name: &name,
        reward_use_times: reward,
        price: body.price,
        expires_days,
    };
    insert_codes(&mut tx, &state.ids, &batch, stock.unsigned_abs()).await?;
    tx.commit().await?;
    state.stock.set(id, i64::from(stock)).await?;
    tracing::info!(
        product_id = id,
        admin_id = admin.user_id,
        stock,
        "product created"
    );
    let row = queries::find(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product_not_found"))?;
    Ok((StatusCode::CREATED, Json(admin_view(&state, row).await?)))
}

/// Every live product, enabled or not.
#[utoipa::path(get, path = "/api/admin/products", responses((status = 200, body = AdminProductList)))]
async fn list_products(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<Json<AdminProductList>, ApiError> {
    let rows: Vec<ProductRow> = sqlx::query_as(
        "SELECT id, name, description, price, reward_use_times, sale, stock, status, is_seckill, \
         expires_days, create_time FROM chat_product WHERE is_deleted = 0 ORDER BY id DESC LIMIT 500",
    )
    .fetch_all(&state.db)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let available: HashMap<i64, i64> = state.stock.available(&ids).await?;
    let items = rows
        .into_iter()
        .map(|row| AdminProduct {
            product: ProductView::new(&row, available.get(&row.id).copied().unwrap_or(0)),
            enabled: row.enabled(),
            expires_days: row.expires_days,
            db_stock: row.stock,
        })
        .collect();
    Ok(Json(AdminProductList {
        items,
        next_cursor: None,
    }))
}

fn product_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::not_found("product_not_found"))
}

/// Changes a product. Unsold codes follow its name, price and reward.
#[utoipa::path(patch, path = "/api/admin/products/{id}", request_body = UpdateProductBody,
    responses((status = 200, body = AdminProduct), (status = 404)))]
async fn update_product(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    Json(body): Json<UpdateProductBody>,
) -> Result<Json<AdminProduct>, ApiError> {
    let id = product_id(&id)?;
    let name = body.name.as_deref().map(check_name).transpose()?;
    let description = body
        .description
        .as_deref()
        .map(check_description)
        .transpose()?;
    let reward = body
        .reward_use_times
        .map(|r| check_range(r, 1..=1_000_000, "reward_use_times"))
        .transpose()?;
    let mut tx = state.db.begin().await?;
    let row = queries::find_for_update(&mut *tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product_not_found"))?;
    let name = name.unwrap_or(row.name);
    let description = description.unwrap_or(row.description);
    let price = body.price.unwrap_or(row.price);
    let reward = reward.unwrap_or(row.reward_use_times);
    let status: i8 = match body.enabled {
        Some(true) => 1,
        Some(false) => 2,
        None => row.status,
    };
    sqlx::query(
        "UPDATE chat_product SET name = ?, description = ?, price = ?, reward_use_times = ?, status = ? WHERE id = ?",
    )
    .bind(&name)
    .bind(&description)
    .bind(price)
    .bind(reward)
    .bind(status)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE chat_exchange SET name = ?, price = ?, reward_use_times = ? \
         WHERE product_id = ? AND owner_user_id IS NULL AND is_used = 0 AND is_occupied = 0",
    )
    .bind(&name)
    .bind(price)
    .bind(reward)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(product_id = id, admin_id = admin.user_id, "product updated");
    let row = queries::find(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product_not_found"))?;
    Ok(Json(admin_view(&state, row).await?))
}

/// Adds stock and generates as many codes.
#[utoipa::path(post, path = "/api/admin/products/{id}/stock", request_body = AddStockBody,
    responses((status = 200, body = AdminProduct), (status = 404)))]
async fn add_stock(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    Json(body): Json<AddStockBody>,
) -> Result<Json<AdminProduct>, ApiError> {
    let id = product_id(&id)?;
    let add = check_range(body.add, 1..=MAX_STOCK_PER_CALL, "add")?;
    let mut tx = state.db.begin().await?;
    let row = queries::find_for_update(&mut *tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product_not_found"))?;
    sqlx::query("UPDATE chat_product SET stock = stock + ? WHERE id = ?")
        .bind(add)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let batch = CodeBatch {
        product_id: id,
        name: &row.name,
        reward_use_times: row.reward_use_times,
        price: row.price,
        expires_days: row.expires_days,
    };
    insert_codes(&mut tx, &state.ids, &batch, add.unsigned_abs()).await?;
    tx.commit().await?;
    state.stock.add(id, i64::from(add)).await?;
    tracing::info!(
        product_id = id,
        admin_id = admin.user_id,
        add,
        "stock added"
    );
    let row = queries::find(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product_not_found"))?;
    Ok(Json(admin_view(&state, row).await?))
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

/// Everyone's orders, newest first; `user_id` or `email` narrows them to one buyer.
#[utoipa::path(get, path = "/api/admin/orders", params(AdminOrdersQuery),
    responses((status = 200, body = AdminOrderList)))]
async fn list_orders(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Query(q): Query<AdminOrdersQuery>,
) -> Result<Json<AdminOrderList>, ApiError> {
    let page = Page::parse(&OrderListQuery {
        status: q.status,
        cursor: q.cursor,
        limit: q.limit,
    })?;
    let user_id = match q.user_id.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => Some(
            u.parse::<i64>()
                .map_err(|_| ApiError::field("invalid_request", "user_id", "not an id"))?,
        ),
        None => None,
    };
    let user_id = match q.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(email) => match (user_by_email(&state.db, email).await?, user_id) {
            (Some(owner), None) => Some(owner),
            (Some(owner), Some(asked)) if owner == asked => Some(owner),
            // No such address, or it belongs to another user than `user_id`: nothing matches.
            _ => {
                return Ok(Json(AdminOrderList {
                    items: Vec::new(),
                    next_cursor: None,
                }));
            }
        },
        None => user_id,
    };
    let list = list_page(&state, user_id, &page).await?;
    let owners: HashMap<i64, i64> = if list.items.is_empty() {
        HashMap::new()
    } else {
        let mut qb = sqlx::QueryBuilder::new("SELECT id, user_id FROM chat_order WHERE id IN (");
        let mut sep = qb.separated(", ");
        for o in &list.items {
            sep.push_bind(o.id);
        }
        qb.push(")");
        qb.build_query_as::<(i64, i64)>()
            .fetch_all(&state.db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(Json(AdminOrderList {
        next_cursor: list.next_cursor,
        items: list
            .items
            .into_iter()
            .map(|order| AdminOrder {
                user_id: owners.get(&order.id).copied().unwrap_or_default(),
                order,
            })
            .collect(),
    }))
}

/// The user an email address is bound to.
async fn user_by_email(db: &sqlx::MySqlPool, email: &str) -> Result<Option<i64>, ApiError> {
    Ok(sqlx::query_scalar(
        "SELECT b.user_id FROM chat_user_binding_email e \
         JOIN chat_user_binding b ON b.user_binding_email_id = e.id \
         WHERE e.username = ? ORDER BY b.id LIMIT 1",
    )
    .bind(email.to_lowercase())
    .fetch_optional(db)
    .await?)
}

/// Repairs Redis stock from the database; lists every difference found.
#[utoipa::path(post, path = "/api/admin/stock/reconcile", responses((status = 200, body = Report)))]
async fn reconcile_stock(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<Json<Report>, ApiError> {
    let report = reconcile::run(&state.db, &state.stock, Duration::from_millis(300)).await?;
    tracing::info!(
        admin_id = admin.user_id,
        differences = report.differences.len(),
        "stock reconciled"
    );
    Ok(Json(report))
}
