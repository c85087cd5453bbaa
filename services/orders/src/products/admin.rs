//! The admin's product actions (role `admin`): creating a product or adding
//! stock generates as many redemption codes in the same transaction; a change
//! of name, price or reward carries over to the unsold codes.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use paychat_common::auth::AdminUser;
use paychat_common::{ApiError, Json};

use super::queries::{self, NewProduct, ProductChange};
use super::types::{
    AddStockBody, AdminProduct, AdminProductList, NewProductBody, ProductRow, ProductView,
    UpdateProductBody,
};
use crate::codes::generate::insert_codes;
use crate::codes::types::CodeBatch;
use crate::state::AppState;
use crate::states::ProductStatus;

/// Most units (and codes) one call may add.
pub const MAX_STOCK_PER_CALL: i64 = 100_000;

/// The sort orders an admin may give a product (lower listed first).
const SORT_ORDERS: std::ops::RangeInclusive<i64> = 0..=1_000_000;

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

/// The product as it is now, in the admin's view.
async fn admin_view(state: &AppState, id: i64) -> Result<AdminProduct, ApiError> {
    let row = queries::find(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product_not_found"))?;
    let available = state.stock.available(&[row.id]).await?;
    Ok(admin_product(row, &available))
}

fn admin_product(row: ProductRow, available: &HashMap<i64, i64>) -> AdminProduct {
    AdminProduct {
        product: ProductView::new(&row, available.get(&row.id).copied().unwrap_or(0)),
        enabled: row.enabled(),
        expires_days: row.expires_days,
        db_stock: row.stock,
    }
}

/// Creates a product and its `stock` redemption codes.
#[utoipa::path(post, path = "/api/admin/products", request_body = NewProductBody,
    responses((status = 201, body = AdminProduct), (status = 400), (status = 401), (status = 403)))]
pub async fn create_product(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(body): Json<NewProductBody>,
) -> Result<(StatusCode, Json<AdminProduct>), ApiError> {
    let name = check_name(&body.name)?;
    let description = check_description(&body.description)?;
    let reward = check_range(body.reward_use_times, 1..=1_000_000, "reward_use_times")?;
    let stock = check_range(body.stock, 0..=MAX_STOCK_PER_CALL, "stock")?;
    let expires_days = check_range(body.expires_days, 0..=3650, "expires_days")?;
    let sort_order = check_range(body.sort_order, SORT_ORDERS, "sort_order")?;
    let id = state.ids.next();
    let mut tx = state.db.begin().await?;
    queries::insert(
        &mut tx,
        &NewProduct {
            id,
            name: &name,
            description: &description,
            price: body.price,
            reward_use_times: reward,
            stock,
            seckill: body.seckill,
            expires_days,
            sort_order,
        },
    )
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
    Ok((StatusCode::CREATED, Json(admin_view(&state, id).await?)))
}

/// Every live product, enabled or not, in the shop's order.
#[utoipa::path(get, path = "/api/admin/products", responses((status = 200, body = AdminProductList)))]
pub async fn list_products(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<Json<AdminProductList>, ApiError> {
    let rows = queries::list_all(&state.db, 500).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let available: HashMap<i64, i64> = state.stock.available(&ids).await?;
    let items = rows
        .into_iter()
        .map(|row| admin_product(row, &available))
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
pub async fn update_product(
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
    let sort_order = body
        .sort_order
        .map(|o| check_range(o, SORT_ORDERS, "sort_order"))
        .transpose()?;
    let mut tx = state.db.begin().await?;
    let row = queries::find_for_update(&mut *tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("product_not_found"))?;
    let status = match body.enabled {
        Some(true) => ProductStatus::Enabled,
        Some(false) => ProductStatus::Disabled,
        None => row.status(),
    };
    let name = name.unwrap_or(row.name);
    let description = description.unwrap_or(row.description);
    let price = body.price.unwrap_or(row.price);
    let reward = reward.unwrap_or(row.reward_use_times);
    let sort_order = sort_order.unwrap_or(row.sort_order);
    let changed = ProductChange {
        id,
        name: &name,
        description: &description,
        price,
        reward_use_times: reward,
        status,
        sort_order,
    };
    queries::update(&mut tx, &changed).await?;
    queries::update_unsold_codes(&mut tx, &changed).await?;
    tx.commit().await?;
    tracing::info!(product_id = id, admin_id = admin.user_id, "product updated");
    Ok(Json(admin_view(&state, id).await?))
}

/// Adds stock and generates as many codes.
#[utoipa::path(post, path = "/api/admin/products/{id}/stock", request_body = AddStockBody,
    responses((status = 200, body = AdminProduct), (status = 404)))]
pub async fn add_stock(
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
    queries::add_stock(&mut tx, id, add).await?;
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
    Ok(Json(admin_view(&state, id).await?))
}
