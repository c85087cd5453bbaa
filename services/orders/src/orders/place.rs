//! `POST /api/orders`: placing an order. Stock is taken in Redis before
//! anything else (all or nothing), so a sold-out request never reaches the
//! database. Then: idempotent per `Idempotency-Key`, one unpaid order per user
//! (a short per-user lock stops two tabs racing), and the order's rows and its
//! timeout message written in one transaction by the order writer. A request
//! refused after taking its units gives them back.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{SubsecRound, Utc};
use paychat_common::Json;
use paychat_common::auth::AuthUser;
use paychat_common::error::is_unique_violation;
use rust_decimal::Decimal;

use super::get::load_view;
use super::lock::UserLock;
use super::timeout_message::TimeoutMessage;
use super::types::{CreateOrderBody, IdempotencyKey, NewOrder, OrderType, OrderView};
use super::{OrderError, queries};
use crate::state::AppState;
use crate::states::OrderStatus;
use crate::stock::{Reservation, Take};

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
pub async fn create_order(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Json(body): Json<CreateOrderBody>,
) -> Result<Response, OrderError> {
    let key = IdempotencyKey::parse(headers.get("idempotency-key").and_then(|v| v.to_str().ok()))?;
    let order = NewOrder::parse(body)?;
    let started = Instant::now();

    // Stock first, from Redis alone: a sold-out request (most of a flash
    // sale's) costs no database read, no lock and no write, and the units of
    // one that goes on are held while it is checked, so at most the stock's
    // worth of requests reach the database.
    let mut held = false;
    let result = match state
        .stock
        .take(user.user_id, key.as_str(), &order.items)
        .await
    {
        Ok(Take::OutOfStock { product_id }) => {
            metrics::counter!("stock_rejections_total").increment(1);
            Err(OrderError::OutOfStock { product_id })
        }
        Ok(taken) => {
            held = taken == Take::Taken;
            checked(&state, &user, &order, &key, &mut held).await
        }
        Err(e) => Err(e.into()),
    };
    if held {
        // Answered before the order writer took the units over (a replay, a
        // refusal, an error): they go back now. The key is forgotten only
        // when it certainly made no order.
        let key_unused = matches!(
            result,
            Err(OrderError::UnpaidOrderExists { .. } | OrderError::ProductNotFound)
        );
        if let Err(e) = state
            .stock
            .put_back(user.user_id, key.as_str(), &order.items, key_unused)
            .await
        {
            crate::stock::giveback_failed("place");
            tracing::error!(user_id = user.user_id, error = %e, "could not give back the stock of a refused order");
        }
    }
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

/// The buyer's own checks under the per-user lock (idempotency replay, one
/// unpaid order, the products and their prices), then the order placed.
async fn checked(
    state: &AppState,
    user: &AuthUser,
    order: &NewOrder,
    key: &IdempotencyKey,
    held: &mut bool,
) -> Result<(OrderView, StatusCode), OrderError> {
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
            let view = load_view(state, order_id)
                .await?
                .ok_or(OrderError::NotFound)?;
            return Ok((view, StatusCode::OK));
        }
        if let Some(order_id) = first.and_then(|s| s.unpaid) {
            return Err(OrderError::UnpaidOrderExists { order_id });
        }
        // Back to the pool: the order is written on the writer's connection.
        drop(conn);
        place(state, user, order, key, seen, held).await
    }
    .await;
    lock.release_soon();
    result
}

async fn place(
    state: &AppState,
    user: &AuthUser,
    order: &NewOrder,
    key: &IdempotencyKey,
    seen: Vec<queries::Precheck>,
    held: &mut bool,
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

    // From here to the writer nothing can fail: once `held` is cleared, the
    // writer alone gives the units back if the order is not written.
    if !std::mem::take(held) {
        reserve(state, user.user_id, key.as_str(), &order.items).await?;
    }

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
            .map(|i| super::types::OrderItemView {
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

async fn reserve(
    state: &AppState,
    user_id: i64,
    key: &str,
    items: &[(i64, i32)],
) -> Result<(), OrderError> {
    for _ in 0..2 {
        match state.stock.reserve_order(user_id, key, items).await? {
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
