//! The refund runs in one transaction that holds the order's row (and its
//! codes) from the check to the commit, with the gateway call inside it:
//! a second click waits on the row lock and then finds the order refunded,
//! so Alipay is asked once; a redemption of one of its codes waits too and
//! then finds the code revoked. Alipay's refund is idempotent on
//! `out_request_no`, which is fixed per order, so a refund whose commit
//! failed after Alipay paid back is repaired by clicking again.

use axum::extract::{Path, State};
use paychat_common::auth::AdminUser;
use paychat_common::http::ClientIp;
use paychat_common::payment::{RefundRequest, Reply};
use paychat_common::{ApiError, Json};
use serde_json::json;

use super::queries;
use super::types::{ReasonBody, RefundError};
use crate::orders::get::load_view;
use crate::orders::types::OrderView;
use crate::payments::queries::{PaidHistory, insert_paid_history};
use crate::state::AppState;
use crate::states::{CodeStatus, OrderStatus, PayStatus};
use paychat_common::audit::{self, Action, parse_reason};

/// The `out_request_no` of an order's refund: one per order, so a retry of
/// the same refund is recognised by Alipay.
pub fn out_request_no(out_trade_no: &str) -> String {
    format!("{out_trade_no}_refund")
}

/// Refunds a completed order and revokes its unused codes.
#[utoipa::path(
    post,
    path = "/api/admin/orders/{id}/refund",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ReasonBody,
    responses(
        (status = 200, body = OrderView, description = "the order, status `refunded`"),
        (status = 400, description = "`invalid_request` (reason)"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`not_found`"),
        (status = 409, description = "`order_not_refundable`, `codes_used`"),
        (status = 502, description = "`payment_unavailable`: Alipay did not refund"),
    )
)]
pub async fn refund_order(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Json(body): Json<ReasonBody>,
) -> Result<Json<OrderView>, RefundError> {
    let order_id: i64 = id.parse().map_err(|_| RefundError::NotFound)?;
    let reason = parse_reason(&body.reason)?;
    let mut tx = state.db.begin().await?;
    let order = queries::lock_order(&mut tx, order_id)
        .await?
        .ok_or(RefundError::NotFound)?;
    if OrderStatus::from_code(order.status) != OrderStatus::Completed {
        return Err(RefundError::NotRefundable);
    }
    let codes = queries::lock_codes(&mut tx, order_id).await?;
    let used = codes.iter().filter(|c| c.is_used).count();
    if used > 0 {
        return Err(RefundError::CodesUsed(used));
    }
    let trade = queries::paid_trade(&mut tx, order_id)
        .await?
        .ok_or(RefundError::NotRefundable)?;
    let request_no = out_request_no(&trade.out_trade_no);
    let req = RefundRequest {
        out_trade_no: trade.out_trade_no.clone(),
        refund_amount: trade.pay_amount,
        out_request_no: request_no.clone(),
        reason: reason.clone(),
    };
    match state.payments.gateway.refund(&req).await {
        Ok(Reply::Ok { .. }) => {}
        Ok(other) => return Err(RefundError::Gateway(format!("{other:?}"))),
        Err(e) => return Err(RefundError::Gateway(e.to_string())),
    }
    // Alipay gave the money back: from here on only the record remains.
    let revoked: Vec<i64> = codes
        .iter()
        .filter(|c| c.status == CodeStatus::Enabled.code())
        .map(|c| c.id)
        .collect();
    queries::revoke_codes(&mut tx, &revoked).await?;
    if !queries::mark_refunded(&mut tx, order_id).await? {
        // Cannot happen while we hold the row; refuse rather than record twice.
        return Err(RefundError::NotRefundable);
    }
    insert_paid_history(
        &mut *tx,
        &PaidHistory {
            id: state.ids.next(),
            user_id: order.user_id,
            order_id,
            order_status: OrderStatus::Refunded,
            pay_status: PayStatus::Refunded,
            amount: trade.pay_amount,
            pay_account: trade.pay_account.as_deref(),
            out_trade_no: &trade.out_trade_no,
            trade_no: trade.trade_no.as_deref().unwrap_or_default(),
            remark: &format!("refunded by an operator: {reason}"),
        },
    )
    .await?;
    audit::record(
        &mut tx,
        &state.ids,
        &Action {
            actor_id: admin.user_id,
            action: "order.refund",
            target: format!("order:{order_id}"),
            ip,
        },
        &json!({ "status": OrderStatus::Completed, "codes": codes.len() }),
        &json!({
            "status": OrderStatus::Refunded,
            "amount": trade.pay_amount.to_string(),
            "revoked_codes": revoked.len(),
            "out_request_no": request_no,
            "reason": reason,
        }),
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("orders_refunded_total").increment(1);
    tracing::info!(
        admin_id = admin.user_id,
        order_id,
        revoked = revoked.len(),
        "order refunded by an operator"
    );
    let view = load_view(&state, order_id)
        .await
        .map_err(ApiError::from)?
        .ok_or(RefundError::NotFound)?;
    tokio::spawn(async move {
        // The dashboard's Redis counters counted the order when it completed;
        // the database no longer does, so they are rebuilt from it (refunds
        // are rare, and a rebuild is exact even against racing completions).
        if let Err(e) = crate::stats::ledger::rebuild(&state).await {
            tracing::warn!(
                order_id,
                error = format!("{e:#}"),
                "sales dashboard not rebuilt after a refund; the next rebuild repairs it"
            );
        }
        // The buyer is told by email; the refund stands whatever the mail does.
        if let Ok(Some(row)) = crate::orders::queries::find(&state.db, order_id).await {
            crate::payments::mail::send_refund_notice(&state, &row, trade.pay_amount).await;
        }
    });
    Ok(Json(view))
}
