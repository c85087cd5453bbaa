//! Orders: placing one (idempotent, one unpaid per user, stock reserved in
//! Redis, one transaction with its timeout message in the outbox), listing
//! and reading them. The buyer's close settles the payment first, so it is
//! in `payments::close`; `close` here is the conditional update every close
//! ends in.

pub mod admin;
pub mod close;
pub mod lock;
pub mod queries;
pub mod refunds;
pub mod timeout_message;
pub mod types;
pub mod writer;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{SubsecRound, Utc};
use paychat_common::auth::AuthUser;
use paychat_common::error::is_unique_violation;
use paychat_common::{ApiError, Json};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Map, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::states::OrderStatus;
use crate::stock::Reservation;
use lock::UserLock;
use timeout_message::TimeoutMessage;
use types::{CreateOrderBody, IdempotencyKey, NewOrder, OrderList, OrderType, OrderView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_order, list_orders))
        .routes(routes!(get_order))
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
            OrderError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl IntoResponse for OrderError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

pub async fn load_view(state: &AppState, order_id: i64) -> Result<Option<OrderView>, OrderError> {
    let Some(row) = queries::find(&state.db, order_id).await? else {
        return Ok(None);
    };
    let items = queries::items(&state.db, &[order_id]).await?;
    let mut view = OrderView::new(&row, &items);
    view.qr_code = queries::current_qrs(&state.db, &[order_id], Utc::now().naive_utc())
        .await?
        .remove(&order_id);
    view.refund = refunds::of_orders(&state.db, &[order_id])
        .await?
        .remove(&order_id);
    view.close_reason = close::reasons(&state.db, &[order_id])
        .await?
        .remove(&order_id);
    Ok(Some(view))
}

/// Places an order. A repeat of the same `Idempotency-Key` returns the same order (200).
#[utoipa::path(
    post,
    path = "/api/orders",
    request_body = CreateOrderBody,
    params(("Idempotency-Key" = String, Header, description = "1..=64 characters, unique per order attempt")),
    responses(
        (status = 201, body = OrderView), (status = 200, body = OrderView),
        (status = 400), (status = 404), (status = 409)
    )
)]
async fn create_order(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Json(body): Json<CreateOrderBody>,
) -> Result<Response, OrderError> {
    let key = IdempotencyKey::parse(headers.get("idempotency-key").and_then(|v| v.to_str().ok()))?;
    let order = NewOrder::parse(body)?;
    let started = Instant::now();

    // The checks and the prices are read while the lock is being taken: one
    // wait instead of two. Read before the lock was ours they may be stale
    // only if another request held it, and then they are read again; the
    // database's unique keys (idempotency, one unpaid order) stay the backstop.
    let ids: Vec<i64> = order.items.iter().map(|(p, _)| *p).collect();
    let lock_ttl = Duration::from_millis(state.config.orders.order_lock_ms);
    // One connection serves the read and the transaction: one pool checkout
    // (and its liveness ping) per order instead of two.
    let (lock, read) = tokio::join!(
        UserLock::acquire(&state.redis, &state.keys, user.user_id, lock_ttl, lock_ttl),
        async {
            let mut conn = state.db.acquire().await?;
            let seen = queries::precheck(&mut *conn, user.user_id, key.as_str(), &ids).await;
            Ok::<_, sqlx::Error>((conn, seen))
        },
    );
    let lock = lock?.ok_or(OrderError::Busy)?;
    let result = async {
        let (mut conn, seen) = read?;
        let seen = if lock.waited {
            queries::precheck(&mut *conn, user.user_id, key.as_str(), &ids).await?
        } else {
            seen?
        };
        let first = seen.first();
        if let Some(order_id) = first.and_then(|s| s.done) {
            // Back to the pool first: reading the view takes a connection of its own.
            drop(conn);
            let view = load_view(&state, order_id)
                .await?
                .ok_or(OrderError::NotFound)?;
            return Ok((view, StatusCode::OK));
        }
        if let Some(order_id) = first.and_then(|s| s.unpaid) {
            return Err(OrderError::UnpaidOrderExists { order_id });
        }
        // Back to the pool: the order is written on the writer's connection.
        drop(conn);
        place(&state, &user, &order, &key, seen).await
    }
    .await;
    lock.release_soon();
    let outcome = match &result {
        Ok((_, StatusCode::CREATED)) => "accepted",
        Ok(_) => "replayed",
        Err(OrderError::OutOfStock { .. }) => "out_of_stock",
        Err(OrderError::UnpaidOrderExists { .. }) => "unpaid_order_exists",
        Err(_) => "error",
    };
    metrics::counter!("orders_placed_total", "outcome" => outcome).increment(1);
    metrics::histogram!("order_place_duration_seconds").record(started.elapsed().as_secs_f64());
    let (view, status) = result?;
    if status == StatusCode::CREATED {
        state.outbox_wake.notify_one();
    }
    Ok((status, Json(view)).into_response())
}

async fn place(
    state: &AppState,
    user: &AuthUser,
    order: &NewOrder,
    key: &IdempotencyKey,
    seen: Vec<queries::Precheck>,
) -> Result<(OrderView, StatusCode), OrderError> {
    let products: HashMap<i64, (String, Decimal, bool)> = seen
        .into_iter()
        .filter_map(|s| Some((s.product_id?, (s.name?, s.price?, s.is_seckill?))))
        .collect();
    if products.len() != order.items.len() {
        return Err(OrderError::ProductNotFound);
    }

    // Prices come from the database only; the client's total is never asked for.
    let mut total = Decimal::ZERO;
    let mut seckill = false;
    let mut items = Vec::with_capacity(order.items.len());
    for (product_id, quantity) in &order.items {
        let (name, price, is_seckill) = products
            .get(product_id)
            .ok_or(OrderError::ProductNotFound)?;
        total += *price * Decimal::from(*quantity);
        seckill |= *is_seckill;
        items.push(queries::NewItem {
            id: state.ids.next(),
            product_id: *product_id,
            quantity: *quantity,
            name: name.clone(),
            price: *price,
        });
    }
    let total = paychat_common::money::cents(total);
    let kind = if seckill {
        OrderType::Seckill
    } else {
        OrderType::Normal
    };
    let window_secs = match kind {
        OrderType::Seckill => state.config.orders.seckill_payment_window_secs,
        OrderType::Normal => state.config.orders.payment_window_secs,
    };

    reserve(state, &order.items).await?;

    let order_id = state.ids.next();
    // Milliseconds, as the database keeps them, so the answer matches later reads.
    let create_time = Utc::now().trunc_subsecs(3).naive_utc();
    let expire_time =
        create_time + chrono::Duration::seconds(i64::try_from(window_secs).unwrap_or(1800));
    let view = OrderView {
        id: order_id,
        status: OrderStatus::AwaitingPayment,
        kind,
        total_amount: total,
        pay_amount: total,
        items: items
            .iter()
            .map(|i| types::OrderItemView {
                product_id: i.product_id,
                product_name: i.name.clone(),
                product_price: i.price,
                quantity: i.quantity,
            })
            .collect(),
        qr_code: None,
        created_at: create_time.and_utc(),
        expires_at: expire_time.and_utc(),
        pay_time: None,
        refund: None,
        close_reason: None,
    };
    let record = queries::OrderRecord {
        row: queries::NewOrderRow {
            id: order_id,
            user_id: user.user_id,
            total,
            kind,
            remark: order.remark.clone(),
            expire_time,
            create_time,
        },
        items,
        history_id: state.ids.next(),
        idempotency_id: state.ids.next(),
        key: key.as_str().to_owned(),
        outbox_id: state.ids.next(),
        message: TimeoutMessage::new(order_id, window_secs, expire_time.and_utc()),
        reserved: order.items.clone(),
    };
    // On an error nothing was committed and the writer has given the stock back.
    if let Err(e) = state.writer.write(record).await {
        if let OrderError::Internal(cause) = &e
            && cause
                .downcast_ref::<sqlx::Error>()
                .is_some_and(is_unique_violation)
        {
            let (done, unpaid) =
                queries::key_and_unpaid(&state.db, user.user_id, key.as_str()).await?;
            if let Some(done) = done {
                let view = load_view(state, done).await?.ok_or(OrderError::NotFound)?;
                return Ok((view, StatusCode::OK));
            }
            if let Some(order_id) = unpaid {
                return Err(OrderError::UnpaidOrderExists { order_id });
            }
        }
        return Err(e);
    }
    // Debug, not info: one line per order is the hot path's largest cost
    // after the database when logs are JSON; the metrics count orders.
    tracing::debug!(order_id, user_id = user.user_id, total = %total, "order placed");
    Ok((view, StatusCode::CREATED))
}

async fn reserve(state: &AppState, items: &[(i64, i32)]) -> Result<(), OrderError> {
    for _ in 0..2 {
        match state.stock.reserve(items).await? {
            Reservation::Reserved => return Ok(()),
            Reservation::OutOfStock { product_id } => {
                metrics::counter!("stock_rejections_total").increment(1);
                return Err(OrderError::OutOfStock { product_id });
            }
            // Not in Redis yet (created by another copy, or Redis lost it):
            // load it from the database and try once more.
            Reservation::NotLoaded { product_id } => {
                let expected = crate::stock::reconcile::expected(&state.db).await?;
                let available = expected.get(&product_id).copied().unwrap_or(0).max(0);
                state.stock.init(product_id, available).await?;
            }
        }
    }
    Err(OrderError::Internal(anyhow::anyhow!(
        "stock could not be loaded"
    )))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// awaiting_payment, awaiting_confirmation, completed, invalid or closed.
    pub status: Option<String>,
    pub cursor: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

pub struct Page {
    pub status: Option<OrderStatus>,
    pub before: Option<i64>,
    pub limit: u32,
}

impl Page {
    pub fn parse(q: &ListQuery) -> Result<Self, ApiError> {
        let status =
            match q.status.as_deref().filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| {
                    ApiError::field("invalid_request", "status", "unknown status")
                })?),
            };
        let before = match q.cursor.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(c) => Some(
                c.parse::<i64>()
                    .map_err(|_| ApiError::field("invalid_request", "cursor", "not a cursor"))?,
            ),
        };
        Ok(Self {
            status,
            before,
            limit: q.limit.unwrap_or(20).clamp(1, 100),
        })
    }
}

pub async fn list_page(
    state: &AppState,
    user_id: Option<i64>,
    page: &Page,
) -> Result<OrderList, OrderError> {
    let mut rows =
        queries::page(&state.db, user_id, page.status, page.before, page.limit + 1).await?;
    let more = rows.len() > page.limit as usize;
    rows.truncate(page.limit as usize);
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let items = queries::items(&state.db, &ids).await?;
    let mut qrs = queries::current_qrs(&state.db, &ids, Utc::now().naive_utc()).await?;
    let mut refunded = refunds::of_orders(&state.db, &ids).await?;
    let mut closed = close::reasons(&state.db, &ids).await?;
    Ok(OrderList {
        next_cursor: more
            .then(|| rows.last().map(|r| r.id.to_string()))
            .flatten(),
        items: rows
            .iter()
            .map(|r| {
                let mut view = OrderView::new(r, &items);
                view.qr_code = qrs.remove(&r.id);
                view.refund = refunded.remove(&r.id);
                view.close_reason = closed.remove(&r.id);
                view
            })
            .collect(),
    })
}

/// My orders, newest first.
#[utoipa::path(get, path = "/api/orders", params(ListQuery), responses((status = 200, body = OrderList)))]
async fn list_orders(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<OrderList>, OrderError> {
    let page = Page::parse(&q)?;
    Ok(Json(list_page(&state, Some(user.user_id), &page).await?))
}

pub async fn own_order(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<types::OrderRow, OrderError> {
    let id: i64 = id.parse().map_err(|_| OrderError::NotFound)?;
    queries::find(&state.db, id)
        .await?
        .filter(|o| o.user_id == user.user_id)
        .ok_or(OrderError::NotFound)
}

/// One of my orders.
#[utoipa::path(get, path = "/api/orders/{id}", responses((status = 200, body = OrderView), (status = 404)))]
async fn get_order(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, OrderError> {
    let row = own_order(&state, &user, &id).await?;
    let items = queries::items(&state.db, &[row.id]).await?;
    let mut view = OrderView::new(&row, &items);
    view.qr_code = queries::current_qrs(&state.db, &[row.id], Utc::now().naive_utc())
        .await?
        .remove(&row.id);
    view.refund = refunds::of_orders(&state.db, &[row.id])
        .await?
        .remove(&row.id);
    view.close_reason = close::reasons(&state.db, &[row.id]).await?.remove(&row.id);
    Ok(Json(view))
}
