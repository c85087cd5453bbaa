//! Orders: placing one (idempotent, one unpaid per user, stock reserved in
//! Redis, one transaction with its timeout message in the outbox), listing
//! and reading them. The buyer's close settles the payment first, so it is
//! in `payments::close`; `close` here is the conditional update every close
//! ends in.

pub mod admin;
pub mod close;
pub mod get;
pub mod list;
pub mod lock;
pub mod place;
pub mod queries;
pub mod refunds;
pub mod timeout_message;
pub mod types;
pub mod writer;

use axum::response::{IntoResponse, Response};
use paychat_common::ApiError;
use serde_json::{Map, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place::create_order, list::list_orders))
        .routes(routes!(get::get_order))
        .routes(routes!(admin::list_orders))
}

/// What can go wrong with an order, in API.md's codes.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("the user has an unpaid order")]
    UnpaidOrderExists { order_id: i64 },
    #[error("out of stock")]
    OutOfStock { product_id: i64 },
    #[error("product not found")]
    ProductNotFound,
    #[error("order not found")]
    NotFound,
    #[error("order not closable")]
    NotClosable,
    #[error("another order of this user is being placed")]
    Busy,
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for OrderError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<redis::RedisError> for OrderError {
    fn from(e: redis::RedisError) -> Self {
        Self::Internal(e.into())
    }
}

fn conflict_with(code: &'static str, message: &str, key: &str, id: i64) -> ApiError {
    let mut extra = Map::new();
    extra.insert(key.into(), json!(id.to_string()));
    ApiError::Conflict {
        code,
        message: message.into(),
        extra,
    }
}

impl From<OrderError> for ApiError {
    fn from(e: OrderError) -> Self {
        match e {
            OrderError::UnpaidOrderExists { order_id } => conflict_with(
                "unpaid_order_exists",
                "you have an unpaid order; pay or close it first",
                "order_id",
                order_id,
            ),
            OrderError::OutOfStock { product_id } => conflict_with(
                "out_of_stock",
                "not enough stock for this product",
                "product_id",
                product_id,
            ),
            OrderError::ProductNotFound => ApiError::not_found("product_not_found"),
            OrderError::NotFound => ApiError::not_found("not_found"),
            OrderError::NotClosable => {
                ApiError::conflict("order_not_closable", "only an unpaid order can be closed")
            }
            OrderError::Busy => ApiError::conflict(
                "order_in_progress",
                "another order of yours is being placed; try again",
            ),
            OrderError::Api(e) => e,
            // Sorted like any other failure: a Redis failover answers 503, not 500.
            OrderError::Internal(e) => ApiError::from(e),
        }
    }
}

impl IntoResponse for OrderError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}
