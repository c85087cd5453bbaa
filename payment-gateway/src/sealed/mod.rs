//! The sealed endpoints orders calls: pay (precreate), query, close and refund.
//! Each request is an envelope (`paychat_common::envelope`) signed by orders and
//! sealed to the gateway; each answer is sealed back to orders and signed by the
//! gateway. Every refusal — bad JSON, bad signature, stale `ts`, a nonce seen
//! before, a key that does not unwrap, a payload of the wrong shape — is the same
//! 401 `invalid_envelope`, and Alipay is never called for a refused envelope.
//! Each handler opens with its own path, which the signature covers, so an
//! envelope sealed for one operation is refused at every other.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use paychat_common::envelope::{self, Envelope};
use paychat_common::payment::{
    PayRequest, Precreated, RefundRequest, Refunded, Reply, Trade, TradeRequest,
};
use paychat_common::{ApiError, Json};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::alipay::{self, AlipayError};
use crate::state::AppState;

/// How long a nonce is remembered: beyond twice the freshness window.
pub const NONCE_TTL_SECS: u64 = 900;

/// The endpoints, as orders posts to them and as the envelope's signature names them.
pub const PAY: &str = "/api/alipay/face2face/pay";
pub const QUERY: &str = "/api/alipay/trade/query";
pub const CLOSE: &str = "/api/alipay/trade/close";
pub const REFUND: &str = "/api/alipay/trade/refund";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pay))
        .routes(routes!(query))
        .routes(routes!(close))
        .routes(routes!(refund))
}

#[derive(Debug, thiserror::Error)]
pub enum SealedError {
    #[error("envelope refused")]
    Refused,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<SealedError> for ApiError {
    fn from(e: SealedError) -> Self {
        match e {
            SealedError::Refused => ApiError::Unauthenticated {
                code: "invalid_envelope",
                message: "the request envelope was refused".into(),
            },
            SealedError::Internal(e) => ApiError::from(e),
        }
    }
}

impl IntoResponse for SealedError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A request's payload, and the nonce and endpoint its reply must carry.
struct Request<T> {
    body: T,
    nonce: String,
    endpoint: &'static str,
}

/// Opens an envelope that arrived at `endpoint`, checks the nonce, and reads the
/// payload as `T`.
async fn open<T: DeserializeOwned>(
    state: &AppState,
    endpoint: &'static str,
    body: &[u8],
) -> Result<Request<T>, SealedError> {
    let refused = |reason: &str| {
        metrics::counter!("gateway_envelopes_refused_total", "reason" => reason.to_owned())
            .increment(1);
        tracing::warn!(reason, "sealed request refused");
        SealedError::Refused
    };
    let env: Envelope = serde_json::from_slice(body).map_err(|_| refused("malformed"))?;
    let opened = envelope::open_with_reason(
        &env,
        endpoint,
        &state.envelope_key,
        &state.orders_key,
        now(),
    )
    .map_err(|r| refused(&format!("{r:?}").to_lowercase()))?;
    let key = state.keys.key(&format!("gateway:nonce:{}", opened.nonce));
    let mut redis = state.redis.clone();
    let fresh: Option<String> = redis::cmd("SET")
        .arg(&key)
        .arg(1)
        .arg("NX")
        .arg("EX")
        .arg(NONCE_TTL_SECS)
        .query_async(&mut redis)
        .await
        .map_err(|e| SealedError::Internal(anyhow::Error::new(e).context("remembering a nonce")))?;
    if fresh.is_none() {
        return Err(refused("replayed"));
    }
    let body = serde_json::from_slice(&opened.plaintext).map_err(|_| refused("payload"))?;
    Ok(Request {
        body,
        nonce: opened.nonce,
        endpoint,
    })
}

/// Seals the reply for orders, bound to the request it answers.
fn seal<T: Serialize>(
    state: &AppState,
    nonce: &str,
    endpoint: &str,
    reply: &Reply<T>,
) -> Result<Json<Envelope>, SealedError> {
    let text = serde_json::to_vec(reply).map_err(anyhow::Error::from)?;
    let env = envelope::seal_reply(
        &text,
        nonce,
        endpoint,
        &state.orders_key,
        &state.envelope_key,
        now(),
    )
    .map_err(|e| anyhow::anyhow!("sealing a reply: {e}"))?;
    Ok(Json(env))
}

/// What orders should make of a failed Alipay call.
fn failed<T>(e: &AlipayError) -> Reply<T> {
    if e.is_trade_not_exist() {
        return Reply::TradeNotExist;
    }
    if e.is_trade_status_error() {
        return Reply::TradeStatusError;
    }
    match e {
        AlipayError::Business {
            result,
            signed: true,
        } => Reply::Refused {
            code: result
                .sub_code
                .clone()
                .unwrap_or_else(|| result.code.clone()),
            message: result.sub_msg.clone().unwrap_or_else(|| result.msg.clone()),
        },
        // No trustworthy answer: Alipay may have acted.
        other => Reply::Unknown {
            message: other.to_string(),
        },
    }
}

/// `alipay.trade.precreate`: a QR code for the order's pay attempt.
#[utoipa::path(post, path = "/api/alipay/face2face/pay", request_body(content = String, content_type = "application/json", description = "the sealed envelope"), responses((status = 200, description = "sealed reply"), (status = 401)))]
async fn pay(State(state): State<AppState>, body: Bytes) -> Result<Json<Envelope>, SealedError> {
    let Request {
        body: req,
        nonce,
        endpoint,
    } = open::<PayRequest>(&state, PAY, &body).await?;
    let mut pre = alipay::PrecreateRequest::new(&req.out_trade_no, req.total_amount, &req.subject);
    pre.qr_code_timeout_express = Some(req.qr_code_timeout_express.clone());
    pre.timeout_express = Some(req.qr_code_timeout_express);
    let reply = match state.alipay.precreate(&pre).await {
        Ok(p) => Reply::Ok {
            result: Precreated {
                out_trade_no: p.out_trade_no,
                qr_code: p.qr_code,
            },
        },
        Err(e) => {
            tracing::warn!(out_trade_no = %req.out_trade_no, error = %e, "precreate failed");
            failed(&e)
        }
    };
    seal(&state, &nonce, endpoint, &reply)
}

/// `alipay.trade.query`.
#[utoipa::path(post, path = "/api/alipay/trade/query", request_body(content = String, content_type = "application/json", description = "the sealed envelope"), responses((status = 200, description = "sealed reply"), (status = 401)))]
async fn query(State(state): State<AppState>, body: Bytes) -> Result<Json<Envelope>, SealedError> {
    let Request {
        body: req,
        nonce,
        endpoint,
    } = open::<TradeRequest>(&state, QUERY, &body).await?;
    let reply = match state
        .alipay
        .query(&alipay::TradeRef::OutTradeNo(req.out_trade_no.clone()))
        .await
    {
        Ok(t) => Reply::Ok {
            result: Trade {
                out_trade_no: t.out_trade_no,
                trade_no: t.trade_no,
                trade_status: serde_json::to_value(&t.trade_status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "UNKNOWN".into()),
                total_amount: t.total_amount,
                buyer_account: t.buyer_logon_id.or(t.buyer_user_id),
            },
        },
        Err(e) => failed(&e),
    };
    seal(&state, &nonce, endpoint, &reply)
}

/// `alipay.trade.close`.
#[utoipa::path(post, path = "/api/alipay/trade/close", request_body(content = String, content_type = "application/json", description = "the sealed envelope"), responses((status = 200, description = "sealed reply"), (status = 401)))]
async fn close(State(state): State<AppState>, body: Bytes) -> Result<Json<Envelope>, SealedError> {
    let Request {
        body: req,
        nonce,
        endpoint,
    } = open::<TradeRequest>(&state, CLOSE, &body).await?;
    let reply: Reply<()> = match state
        .alipay
        .close(&alipay::CloseRequest {
            trade: alipay::TradeRef::OutTradeNo(req.out_trade_no),
            operator_id: None,
        })
        .await
    {
        Ok(_) => Reply::Ok { result: () },
        Err(e) => failed(&e),
    };
    seal(&state, &nonce, endpoint, &reply)
}

/// `alipay.trade.refund` (the same `out_request_no` on every retry).
#[utoipa::path(post, path = "/api/alipay/trade/refund", request_body(content = String, content_type = "application/json", description = "the sealed envelope"), responses((status = 200, description = "sealed reply"), (status = 401)))]
async fn refund(State(state): State<AppState>, body: Bytes) -> Result<Json<Envelope>, SealedError> {
    let Request {
        body: req,
        nonce,
        endpoint,
    } = open::<RefundRequest>(&state, REFUND, &body).await?;
    let reply = match state
        .alipay
        .refund(&alipay::RefundRequest {
            trade: alipay::TradeRef::OutTradeNo(req.out_trade_no.clone()),
            refund_amount: req.refund_amount,
            out_request_no: req.out_request_no,
            refund_reason: Some(req.reason),
        })
        .await
    {
        Ok(r) => Reply::Ok {
            result: Refunded {
                trade_no: r.trade_no,
                refund_fee: r.refund_fee,
            },
        },
        Err(e) => {
            tracing::warn!(out_trade_no = %req.out_trade_no, error = %e, "refund failed");
            failed(&e)
        }
    };
    seal(&state, &nonce, endpoint, &reply)
}
