//! `GET /api/admin/payment-failures`: the parked payment events, newest first;
//! `POST /api/admin/payment-failures/{id}/retry`: fulfils one again now (what
//! the periodic retry job does), with an audit row.

use axum::extract::{Path, Query, State};
use paychat_common::auth::AdminUser;
use paychat_common::http::ClientIp;
use paychat_common::{ApiError, Json};
use serde_json::json;

use super::queries;
use super::types::{FailureFilter, FailuresQuery, PaymentFailure, PaymentFailureList};
use crate::payments::consumer::parse;
use crate::payments::fulfil::{Fulfilled, fulfil};
use crate::payments::queries as payment_queries;
use crate::state::AppState;
use paychat_common::audit::{self, Action};

/// Parked payment events: open ones by default.
#[utoipa::path(
    get,
    path = "/api/admin/payment-failures",
    tag = "admin",
    security(("bearer" = [])),
    params(FailuresQuery),
    responses(
        (status = 200, body = PaymentFailureList),
        (status = 400, description = "`invalid_request` (state, cursor)"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Query(q): Query<FailuresQuery>,
) -> Result<Json<PaymentFailureList>, ApiError> {
    let filter = FailureFilter::parse(q.state.as_deref()).ok_or_else(|| {
        ApiError::field("invalid_request", "state", "must be open, resolved or all")
    })?;
    let limit = super::limit(q.limit);
    let before = super::cursor(q.cursor.as_deref())?;
    let mut rows = queries::failures(&state.db, filter, before, limit + 1).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok(Json(PaymentFailureList {
        next_cursor: more
            .then(|| rows.last().map(|r| r.id.to_string()))
            .flatten(),
        items: rows.into_iter().map(PaymentFailure::from).collect(),
    }))
}

fn outcome_name(outcome: Fulfilled) -> &'static str {
    match outcome {
        Fulfilled::Now => "fulfilled",
        Fulfilled::Already => "already_fulfilled",
        Fulfilled::Refunded => "refunded",
        Fulfilled::UnknownOrder => "unknown_order",
    }
}

/// Fulfils a parked payment event again now; the answer is the row after it
/// (`resolved`, or still open with the new `last_error`).
#[utoipa::path(
    post,
    path = "/api/admin/payment-failures/{id}/retry",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = PaymentFailure),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`payment_failure_not_found`"),
        (status = 409, description = "`already_resolved`"),
    )
)]
pub async fn retry(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Json<PaymentFailure>, ApiError> {
    const NOT_FOUND: &str = "payment_failure_not_found";
    let id = super::path_id(&id, NOT_FOUND)?;
    let row = queries::failure(&state.db, id)
        .await?
        .ok_or(ApiError::not_found(NOT_FOUND))?;
    if row.resolved {
        return Err(ApiError::conflict(
            "already_resolved",
            "this payment was fulfilled or refunded already",
        ));
    }
    // Fulfilment is idempotent: a retry racing the periodic job costs a lookup.
    let outcome = match parse(row.event_payload.as_bytes()) {
        Ok(payment) => fulfil(&state, &payment).await.map_err(|e| format!("{e:#}")),
        Err(e) => Err(format!("unreadable parked event: {e}")),
    };
    let after = match &outcome {
        Ok(o) => {
            payment_queries::resolve_parked(&state.db, id).await?;
            json!({ "resolved": true, "outcome": outcome_name(*o) })
        }
        Err(error) => {
            tracing::warn!(
                failure_id = id,
                error,
                "parked payment event failed again on an operator's retry"
            );
            payment_queries::parked_failed_again(&state.db, id, error).await?;
            json!({ "resolved": false, "error": super::types::readable_error(error) })
        }
    };
    let mut conn = state.db.acquire().await?;
    audit::record(
        &mut conn,
        &state.ids,
        &Action {
            actor_id: admin.user_id,
            action: "payment_failure.retry",
            target: format!("payment_failure:{id}"),
            ip,
        },
        &json!({ "resolved": false, "attempts": row.attempts, "order_id": row.order_id.to_string() }),
        &after,
    )
    .await?;
    drop(conn);
    let row = queries::failure(&state.db, id)
        .await?
        .ok_or(ApiError::not_found(NOT_FOUND))?;
    Ok(Json(PaymentFailure::from(row)))
}
