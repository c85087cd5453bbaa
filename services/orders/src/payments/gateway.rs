//! The sealed client of the payment gateway, and the payment port the close
//! of an unpaid order asks first ([`PaymentPort`]): [`GatewayPayment`] queries
//! and closes every pay attempt of an order at Alipay through the client.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::Utc;
use paychat_common::envelope::{self, Envelope, EnvelopePrivateKey, EnvelopePublicKey};
use paychat_common::payment::{
    PayRequest, Precreated, RefundRequest, Refunded, Reply, Trade, TradeRequest,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::MySqlPool;

use super::config::PaymentsConfig;
use super::fulfil::Payment;
use super::queries;

/// No usable answer from the gateway: the outcome is unknown.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the gateway could not be reached: {0}")]
    Transport(String),
    #[error("the gateway answered HTTP {0}")]
    Status(u16),
    #[error("the gateway's answer could not be opened")]
    BadReply,
    #[error("could not seal the request: {0}")]
    Seal(String),
}

pub struct GatewayClient {
    http: reqwest::Client,
    base: String,
    key: EnvelopePrivateKey,
    gateway_key: EnvelopePublicKey,
}

fn read_key(config_key: &str, path: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{config_key}: cannot read {path}"))
}

impl GatewayClient {
    pub fn new(config: &PaymentsConfig) -> anyhow::Result<Self> {
        let key = EnvelopePrivateKey::from_pkcs8_pem(&read_key(
            "orders_envelope_private_key_file",
            &config.orders_envelope_private_key_file,
        )?)
        .map_err(|e| anyhow::anyhow!("orders_envelope_private_key_file: {e}"))?;
        let gateway_key = EnvelopePublicKey::from_spki_pem(&read_key(
            "gateway_envelope_public_key_file",
            &config.gateway_envelope_public_key_file,
        )?)
        .map_err(|e| anyhow::anyhow!("gateway_envelope_public_key_file: {e}"))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_millis(config.gateway_timeout_ms))
            .build()?;
        Ok(Self {
            http,
            base: config.gateway_url.trim_end_matches('/').to_owned(),
            key,
            gateway_key,
        })
    }

    /// Seals `req` to the gateway, posts it, opens the sealed answer.
    pub async fn call<Req: Serialize, Res: DeserializeOwned>(
        &self,
        path: &str,
        req: &Req,
    ) -> Result<Reply<Res>, GatewayError> {
        let plain = serde_json::to_vec(req).map_err(|e| GatewayError::Seal(e.to_string()))?;
        let env: Envelope = envelope::seal(
            &plain,
            path,
            &self.gateway_key,
            &self.key,
            Utc::now().timestamp(),
        )
        .map_err(|e| GatewayError::Seal(e.to_string()))?;
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&env)
            .send()
            .await
            .map_err(|e| GatewayError::Transport(e.to_string()))?;
        let status = res.status();
        if !status.is_success() {
            return Err(GatewayError::Status(status.as_u16()));
        }
        let body = res
            .bytes()
            .await
            .map_err(|e| GatewayError::Transport(e.to_string()))?;
        let opened = envelope::open_reply(
            &body,
            &env,
            path,
            &self.key,
            &self.gateway_key,
            Utc::now().timestamp(),
        )
        .map_err(|_| GatewayError::BadReply)?;
        serde_json::from_slice(&opened.plaintext).map_err(|_| GatewayError::BadReply)
    }

    pub async fn pay(&self, req: &PayRequest) -> Result<Reply<Precreated>, GatewayError> {
        self.call("/api/alipay/face2face/pay", req).await
    }

    pub async fn query(&self, out_trade_no: &str) -> Result<Reply<Trade>, GatewayError> {
        let req = TradeRequest {
            out_trade_no: out_trade_no.to_owned(),
        };
        self.call("/api/alipay/trade/query", &req).await
    }

    pub async fn close(&self, out_trade_no: &str) -> Result<Reply<()>, GatewayError> {
        let req = TradeRequest {
            out_trade_no: out_trade_no.to_owned(),
        };
        self.call("/api/alipay/trade/close", &req).await
    }

    pub async fn refund(&self, req: &RefundRequest) -> Result<Reply<Refunded>, GatewayError> {
        self.call("/api/alipay/trade/refund", req).await
    }

    /// The first paid trade among an order's attempts, if Alipay reports one;
    /// otherwise whether any attempt is scanned and waiting.
    pub async fn order_trades(&self, db: &MySqlPool, order_id: i64) -> anyhow::Result<OrderTrades> {
        let mut waiting = Vec::new();
        for out_trade_no in queries::attempts(db, order_id).await? {
            match self.query(&out_trade_no).await? {
                Reply::Ok { result } if result.is_paid() => return Ok(OrderTrades::Paid(result)),
                Reply::Ok { result } if result.trade_status == "WAIT_BUYER_PAY" => {
                    waiting.push(out_trade_no);
                }
                Reply::Ok { .. } | Reply::TradeNotExist | Reply::TradeStatusError => {}
                Reply::Unknown { message } | Reply::Refused { message, .. } => {
                    anyhow::bail!("querying {out_trade_no}: {message}")
                }
            }
        }
        Ok(if waiting.is_empty() {
            OrderTrades::None
        } else {
            OrderTrades::Waiting(waiting)
        })
    }
}

/// What Alipay knows of an order's attempts.
#[derive(Debug, Clone)]
pub enum OrderTrades {
    Paid(Trade),
    Waiting(Vec<String>),
    /// Never scanned, or closed.
    None,
}

/// What the payment provider knows of an order's trades.
#[derive(Debug, Clone)]
pub enum TradeState {
    /// No trade at the provider (the QR code was never scanned): `ACQ.TRADE_NOT_EXIST`.
    NotExist,
    /// Scanned, not paid yet.
    WaitingForPayment,
    /// Paid: the order must be fulfilled, never closed.
    Paid(Payment),
    /// Closed at the provider.
    Closed,
}

/// The payment side as closing an unpaid order sees it: ask before closing.
#[async_trait]
pub trait PaymentPort: Send + Sync + 'static {
    /// The state of the order's trade(s) at the provider; only asks.
    async fn query_trade(&self, order_id: i64) -> anyhow::Result<TradeState>;
    /// Closes the order's trade so it can no longer be paid.
    async fn close_trade(&self, order_id: i64) -> anyhow::Result<()>;
}

/// No payment provider, for tests that need no gateway: no trade ever exists
/// (what Alipay answers before a buyer scans), closing is a no-op.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPayment;

#[async_trait]
impl PaymentPort for NoPayment {
    async fn query_trade(&self, _order_id: i64) -> anyhow::Result<TradeState> {
        Ok(TradeState::NotExist)
    }

    async fn close_trade(&self, _order_id: i64) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The payment port through the gateway: queries and closes every pay
/// attempt of an order at Alipay.
pub struct GatewayPayment {
    gateway: Arc<GatewayClient>,
    db: MySqlPool,
}

impl GatewayPayment {
    pub fn new(gateway: Arc<GatewayClient>, db: MySqlPool) -> Self {
        Self { gateway, db }
    }
}

#[async_trait]
impl PaymentPort for GatewayPayment {
    async fn query_trade(&self, order_id: i64) -> anyhow::Result<TradeState> {
        Ok(match self.gateway.order_trades(&self.db, order_id).await? {
            OrderTrades::Paid(t) => TradeState::Paid(Payment {
                order_id,
                out_trade_no: t.out_trade_no,
                trade_no: t.trade_no,
                amount: t.total_amount,
                buyer_account: t.buyer_account,
            }),
            OrderTrades::Waiting(_) => TradeState::WaitingForPayment,
            OrderTrades::None => TradeState::NotExist,
        })
    }

    async fn close_trade(&self, order_id: i64) -> anyhow::Result<()> {
        let gateway = &self.gateway;
        for out_trade_no in queries::attempts(&self.db, order_id).await? {
            match gateway.close(&out_trade_no).await? {
                // Never scanned: nothing exists to close.
                Reply::Ok { .. } | Reply::TradeNotExist => {}
                Reply::TradeStatusError => {
                    // Paid or closed meanwhile: a paid one must not be closed here.
                    if let Reply::Ok { result } = gateway.query(&out_trade_no).await?
                        && result.is_paid()
                    {
                        anyhow::bail!("{out_trade_no} was paid while closing");
                    }
                }
                Reply::Unknown { message } | Reply::Refused { message, .. } => {
                    anyhow::bail!("closing {out_trade_no}: {message}")
                }
            }
        }
        Ok(())
    }
}
