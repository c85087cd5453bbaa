//! `POST /api/admin/orders/{id}/reconcile`: "reconcile now" for one order.
//! Every pay attempt of the order is looked up at Alipay, and each trade it
//! reports paid is fulfilled or refunded, as the periodic reconciliation job
//! does; the answer says what Alipay said of each trade.

use axum::extract::{Path, State};
use paychat_common::auth::AdminUser;
use paychat_common::http::ClientIp;
use paychat_common::payment::Reply;
use paychat_common::{ApiError, Json};
use serde_json::json;

use super::types::{Reconciled, TradeFinding};
use crate::orders::get::load_view;
use crate::orders::queries as order_queries;
use crate::payments::fulfil::{Fulfilled, Payment, fulfil};
use crate::payments::queries as payment_queries;
use crate::state::AppState;
use paychat_common::audit::{self, Action};

/// Looks the order's trades up at Alipay now and settles the paid ones.
#[utoipa::path(
    post,
    path = "/api/admin/orders/{id}/reconcile",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Reconciled),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`not_found`"),
        (status = 502, description = "`payment_unavailable`: a paid trade could not be settled"),
    )
)]
pub async fn reconcile_order(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Json<Reconciled>, ApiError> {
    let order_id = super::path_id(&id, "not_found")?;
    let before = order_queries::find(&state.db, order_id)
        .await?
        .ok_or(ApiError::not_found("not_found"))?
        .status();
    let mut trades = Vec::new();
    for out_trade_no in payment_queries::attempts(&state.db, order_id).await? {
        let (trade_status, paid) = match state.payments.gateway.query(&out_trade_no).await {
            Ok(Reply::Ok { result }) => {
                let paid = result.is_paid().then(|| Payment {
                    order_id,
                    out_trade_no: result.out_trade_no.clone(),
                    trade_no: result.trade_no.clone(),
                    amount: result.total_amount,
                    buyer_account: result.buyer_account.clone(),
                });
                (result.trade_status, paid)
            }
            Ok(Reply::TradeNotExist) => ("TRADE_NOT_EXIST".to_owned(), None),
            Ok(other) => {
                tracing::warn!(order_id, out_trade_no, reply = ?other, "reconcile now: Alipay could not say");
                ("UNKNOWN".to_owned(), None)
            }
            Err(e) => {
                tracing::warn!(order_id, out_trade_no, error = %e, "reconcile now: the gateway could not be asked");
                ("UNKNOWN".to_owned(), None)
            }
        };
        let outcome = match paid {
            Some(payment) => Some(match fulfil(&state, &payment).await {
                Ok(Fulfilled::Now) => "fulfilled",
                Ok(Fulfilled::Already) => "already_fulfilled",
                Ok(Fulfilled::Refunded) => "refunded",
                Ok(Fulfilled::UnknownOrder) => "unknown_order",
                Err(e) => {
                    tracing::error!(
                        order_id,
                        out_trade_no,
                        error = format!("{e:#}"),
                        "reconcile now: fulfilment failed"
                    );
                    return Err(ApiError::BadGateway {
                        code: "payment_unavailable",
                        message: "a paid trade could not be settled; try again in a moment".into(),
                    });
                }
            }),
            None => None,
        };
        trades.push(TradeFinding {
            out_trade_no,
            trade_status,
            outcome: outcome.map(str::to_owned),
        });
    }
    let order = load_view(&state, order_id)
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::not_found("not_found"))?;
    let mut conn = state.db.acquire().await?;
    audit::record(
        &mut conn,
        &state.ids,
        &Action {
            actor_id: admin.user_id,
            action: "order.reconcile",
            target: format!("order:{order_id}"),
            ip,
        },
        &json!({ "status": before }),
        &json!({ "status": order.status, "trades": trades }),
    )
    .await?;
    Ok(Json(Reconciled { order, trades }))
}
