//! Alipay's asynchronous notify: the body is read only up to
//! `notify_max_body_bytes` (413 beyond), then verified (RSA2 with Alipay's
//! key). A verified notify is stored raw (`pay_alipay_notify`) before anything
//! else, then checked against the order (app_id, seller, out_trade_no, total_amount from
//! `chat_order`), and — for a paid trade — handed to orders as a "payment
//! succeeded" event confirmed by RabbitMQ. Only then does Alipay get `success`;
//! anything unverifiable gets `failure` and changes nothing. A trade already
//! handed over answers `success` again without a second event (fulfilment is
//! idempotent all the same, so a race between two copies is harmless).
//!
//! The endpoint is open to the world, so what fails the signature costs us as
//! little as possible: it is stored only as a bounded summary (a few truncated
//! fields and the reason, never the body), and each client IP may send
//! `notify_refused_per_minute` of them before getting 429 with nothing stored.
//! `retention` deletes stored notifies after `notify_retention_days`.

pub mod queries;
pub mod retention;

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use paychat_common::ApiError;
use paychat_common::http::ClientIp;
use paychat_common::payment::{PaymentSucceeded, VERSION, parse_out_trade_no};
use paychat_common::ratelimit::Limit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::alipay::Notify;
use crate::alipay::notify::parse_form;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(notify))
}

/// Why a notify was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum NotifyRejection {
    #[error("signature: {0}")]
    Unverified(#[from] crate::alipay::NotifyError),
    #[error("not ours: {0}")]
    Mismatch(#[from] crate::alipay::notify::NotifyMismatch),
    #[error("unknown order")]
    UnknownOrder,
    /// Our side failed (database, broker): Alipay retries.
    #[error("not handed over: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for NotifyRejection {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

/// What became of an accepted notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    HandedOver,
    /// This trade's payment was handed over before.
    Duplicate,
    /// A genuine notify of an unpaid state (closed, waiting): nothing to do.
    NotPaid,
}

fn answer(ok: bool) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        if ok { "success" } else { "failure" },
    )
        .into_response()
}

/// Alipay's notify (form-encoded). Answers `success` or `failure`; 413 for a
/// body larger than any notify, 429 once a client sent too many forged ones.
#[utoipa::path(post, path = "/api/alipay/notify", request_body(content = String, content_type = "application/x-www-form-urlencoded"), responses((status = 200, description = "`success` or `failure`", body = String), (status = 413), (status = 429)))]
async fn notify(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(body) = read_bounded(&headers, body, state.config.gateway.notify_max_body_bytes).await
    else {
        metrics::counter!("gateway_notifies_total", "result" => "refused", "outcome" => "too_large").increment(1);
        return ApiError::PayloadTooLarge.into_response();
    };
    let pairs = parse_form(&body).unwrap_or_default();
    let field = |k: &str, max: usize| {
        pairs
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.chars().take(max).collect::<String>())
    };
    let id = match state.ids.try_next() {
        Ok(id) => id,
        // 503: Alipay tries again later, by when a worker number is leased again.
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut row = queries::NewNotify {
        id,
        notify_id: field("notify_id", 128),
        out_trade_no: field("out_trade_no", 64),
        trade_no: field("trade_no", 64),
        trade_status: field("trade_status", 32),
        raw_body: String::new(),
    };
    // Counted before the work as a failure, given back once it verifies, so a
    // client that keeps sending forged notifies is refused before any of it.
    let limit = Limit::per(
        state.config.gateway.notify_refused_per_minute,
        Duration::from_secs(60),
    );
    let key = format!("notify:unverified:{ip}");
    let attempt = match state.limiter.attempt(&[(&key, limit)]).await {
        Ok(attempt) => Some(attempt),
        Err(e @ ApiError::RateLimited { .. }) => {
            metrics::counter!("gateway_notifies_total", "result" => "refused", "outcome" => "rate_limited").increment(1);
            return e.into_response();
        }
        Err(e) => {
            // Alipay's genuine notifies still go through; forged ones are not stored.
            tracing::warn!(error = %e, "could not count a notify against its client's limit");
            None
        }
    };
    let notify = match state.alipay.verify_notify(&body) {
        Ok(notify) => notify,
        Err(e) => return unverified(&state, attempt.is_some(), &row, &e).await,
    };
    if let Some(attempt) = attempt {
        attempt.succeeded().await;
    }
    row.raw_body = String::from_utf8_lossy(&body).into_owned();
    // Stored before anything else, so even a notify we cannot handle is on record.
    if let Err(e) = queries::insert(&state.db, &row).await {
        tracing::error!(error = %e, "could not store a notify; Alipay will retry");
        return answer(false);
    }
    let outcome = hand_over(&state, &notify).await;
    let (accepted, reason) = match &outcome {
        Ok(Accepted::HandedOver) => (true, None),
        Ok(Accepted::Duplicate) => (true, Some("duplicate: handed over before".to_owned())),
        Ok(Accepted::NotPaid) => (true, Some("not a payment".to_owned())),
        Err(e) => (false, Some(e.to_string())),
    };
    let handed_over = matches!(outcome, Ok(Accepted::HandedOver));
    if let Err(e) =
        queries::settle(&state.db, row.id, accepted, handed_over, reason.as_deref()).await
    {
        tracing::error!(error = %e, notify_row = row.id, "could not record a notify's outcome");
        // The event (if any) is out; the missing mark only means a duplicate
        // may be handed over again, which fulfilment absorbs.
    }
    match &outcome {
        Ok(a) => {
            metrics::counter!("gateway_notifies_total", "result" => "accepted", "outcome" => format!("{a:?}")).increment(1);
            tracing::info!(
                out_trade_no = row.out_trade_no.as_deref().unwrap_or(""),
                outcome = ?a,
                "notify accepted"
            );
        }
        Err(e) => {
            metrics::counter!("gateway_notifies_total", "result" => "refused", "outcome" => "rejected").increment(1);
            tracing::warn!(
                out_trade_no = row.out_trade_no.as_deref().unwrap_or(""),
                error = %e,
                "notify rejected"
            );
        }
    }
    answer(outcome.is_ok())
}

/// Reads the body unless it is, or turns out to be, longer than `limit`: a
/// declared length is refused before reading, a streamed body once it passes
/// the limit. `None`: refuse with 413.
async fn read_bounded(headers: &HeaderMap, body: Body, limit: usize) -> Option<Bytes> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return None;
    }
    // A body that breaks off also lands here; its sender is gone and reads no answer.
    axum::body::to_bytes(body, limit).await.ok()
}

/// A notify that fails Alipay's signature (already counted against its client
/// IP): stored as a summary only, and only if the count was taken.
async fn unverified(
    state: &AppState,
    counted: bool,
    row: &queries::NewNotify,
    error: &crate::alipay::NotifyError,
) -> Response {
    metrics::counter!("gateway_notifies_total", "result" => "refused", "outcome" => "unverified")
        .increment(1);
    tracing::warn!(
        out_trade_no = row.out_trade_no.as_deref().unwrap_or(""),
        %error,
        "notify refused"
    );
    if !counted {
        // Uncounted, a record would be unbounded.
        return answer(false);
    }
    let reason = NotifyRejection::from(error.clone()).to_string();
    if let Err(e) = queries::insert_summary(&state.db, row, &reason).await {
        tracing::error!(error = %e, "could not record a refused notify");
    }
    answer(false)
}

/// Verifies, checks and hands over one notify.
pub async fn process(state: &AppState, body: &[u8]) -> Result<Accepted, NotifyRejection> {
    let notify = state.alipay.verify_notify(body)?;
    hand_over(state, &notify).await
}

/// Checks a verified notify against its order and hands a payment over.
pub async fn hand_over(state: &AppState, notify: &Notify) -> Result<Accepted, NotifyRejection> {
    let (order_id, _attempt) =
        parse_out_trade_no(&notify.out_trade_no).ok_or(NotifyRejection::UnknownOrder)?;
    let total = queries::order_total(&state.db, order_id)
        .await?
        .ok_or(NotifyRejection::UnknownOrder)?;
    let g = &state.config.gateway;
    let seller = Some(g.alipay_seller_id.as_str()).filter(|s| !s.trim().is_empty());
    notify.check(&g.alipay_app_id, seller, &notify.out_trade_no, total)?;
    // A refund's notify also says TRADE_SUCCESS (a partial refund leaves the
    // trade paid); it announces money going back, not a payment.
    let is_refund = notify.gmt_refund.is_some() || notify.refund_fee.is_some_and(|f| !f.is_zero());
    if !notify.trade_status.is_paid() || is_refund {
        return Ok(Accepted::NotPaid);
    }
    if queries::handed_over(&state.db, &notify.out_trade_no).await? {
        return Ok(Accepted::Duplicate);
    }
    let event = PaymentSucceeded {
        version: VERSION,
        order_id: order_id.to_string(),
        out_trade_no: notify.out_trade_no.clone(),
        trade_no: notify.trade_no.clone(),
        amount: notify.total_amount,
        buyer_account: notify
            .buyer_logon_id
            .clone()
            .or_else(|| notify.buyer_id.clone()),
        trade_status: notify
            .params
            .get("trade_status")
            .cloned()
            .unwrap_or_default(),
        paid_at: notify.gmt_payment.clone(),
    };
    state.events.publish(&event).await?;
    Ok(Accepted::HandedOver)
}
