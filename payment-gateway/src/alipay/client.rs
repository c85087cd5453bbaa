//! The Alipay open-API client: common parameters, RSA2 request signatures, response
//! verification and the four trade calls PayChat needs.
//!
//! Retries: `query`, `close` and `refund` (same `out_request_no`) are idempotent and
//! are retried on transport errors, 5xx and "unknown result" answers. `precreate` is
//! never retried here: ALIPAY.md says an unknown precreate result is retried with a
//! *new* `out_trade_no`, which only the caller can choose.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{FixedOffset, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::cert::{self, AlipayCert, CertError};
use super::keys::{AlipayPublicKey, AppPrivateKey};
use super::notify::{self, Notify, NotifyError};
use super::response::{self, RawResponse};
use super::sign::request_sign_content;
use super::types::{
    CloseRequest, Closed, PrecreateRequest, Precreated, RefundRequest, Refunded, ResultCode,
    TradeQuery, TradeRef,
};

pub const METHOD_PRECREATE: &str = "alipay.trade.precreate";
pub const METHOD_QUERY: &str = "alipay.trade.query";
pub const METHOD_CLOSE: &str = "alipay.trade.close";
pub const METHOD_REFUND: &str = "alipay.trade.refund";

/// Where and how to call Alipay.
#[derive(Debug, Clone)]
pub struct AlipayConfig {
    /// e.g. `https://openapi.alipay.com/gateway.do`, or the sandbox's `/gateway.do`.
    pub gateway_url: String,
    pub app_id: String,
    /// Sent with precreate as the common `notify_url` parameter.
    pub notify_url: Option<String>,
    pub connect_timeout: Duration,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Tries for idempotent calls (at least 1).
    pub attempts: u32,
    /// Pause before the second try; doubled for each further one.
    pub retry_delay: Duration,
}

impl AlipayConfig {
    pub fn new(gateway_url: impl Into<String>, app_id: impl Into<String>) -> Self {
        Self {
            gateway_url: gateway_url.into(),
            app_id: app_id.into(),
            notify_url: None,
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
            attempts: 3,
            retry_delay: Duration::from_millis(500),
        }
    }
}

/// How Alipay's answers are verified.
#[derive(Debug, Clone)]
pub enum KeyMode {
    /// 公钥模式: Alipay's public key from the console.
    PublicKey(AlipayPublicKey),
    /// 公钥证书模式: every request carries `app_cert_sn` and `alipay_root_cert_sn`;
    /// responses carry `alipay_cert_sn`, checked against the loaded Alipay cert.
    Certificate {
        app_cert_sn: String,
        alipay_root_cert_sn: String,
        alipay_cert: AlipayCert,
    },
}

impl KeyMode {
    /// Certificate mode from the three PEM files Alipay issues.
    pub fn certificate(
        app_cert_pem: &str,
        alipay_cert_pem: &str,
        root_bundle_pem: &str,
    ) -> Result<Self, CertError> {
        Ok(Self::Certificate {
            app_cert_sn: cert::cert_sn(app_cert_pem)?,
            alipay_root_cert_sn: cert::root_cert_sn(root_bundle_pem)?,
            alipay_cert: AlipayCert::from_pem(alipay_cert_pem)?,
        })
    }

    pub fn alipay_key(&self) -> &AlipayPublicKey {
        match self {
            Self::PublicKey(k) => k,
            Self::Certificate { alipay_cert, .. } => &alipay_cert.public_key,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlipayError {
    /// No answer (connect error, timeout): the outcome is unknown.
    #[error("request to Alipay failed: {0}")]
    Transport(String),
    #[error("Alipay answered HTTP {0}")]
    Status(u16),
    #[error("Alipay's answer is malformed: {0}")]
    Malformed(String),
    #[error("Alipay's answer does not carry a valid signature")]
    BadSignature,
    /// Alipay now signs with another certificate: download it
    /// (`alipay.open.app.alipaycert.download`), check it against the root, reload.
    #[error("Alipay signed with cert {got}, the loaded cert is {expected}")]
    CertChanged { expected: String, got: String },
    /// `10003`: accepted, still being processed; poll with `query`.
    #[error("in progress: {}", .0.msg)]
    InProgress(ResultCode),
    /// `20000` / `ACQ.SYSTEM_ERROR`: the outcome is unknown.
    #[error("unknown result {}: {}", .0.code, .0.sub_code.as_deref().unwrap_or(""))]
    Unknown(ResultCode),
    /// `400xx` and other business failures. `signed` is false when Alipay did not sign
    /// the answer (some gateway-level errors); do not act on an unsigned answer.
    #[error("Alipay refused ({}): {}", .result.code, .result.sub_code.as_deref().unwrap_or(&.result.msg))]
    Business { result: ResultCode, signed: bool },
    #[error("could not sign the request")]
    Sign,
}

impl AlipayError {
    pub fn sub_code(&self) -> Option<&str> {
        match self {
            Self::InProgress(r) | Self::Unknown(r) | Self::Business { result: r, .. } => {
                r.sub_code.as_deref()
            }
            _ => None,
        }
    }

    /// A signed `ACQ.TRADE_NOT_EXIST`: the buyer never scanned (query/close).
    pub fn is_trade_not_exist(&self) -> bool {
        self.is_signed_sub_code("ACQ.TRADE_NOT_EXIST")
    }

    /// A signed `ACQ.TRADE_HAS_SUCCESS`: precreate of an already-paid out_trade_no.
    pub fn is_trade_has_success(&self) -> bool {
        self.is_signed_sub_code("ACQ.TRADE_HAS_SUCCESS")
    }

    /// A signed `ACQ.TRADE_STATUS_ERROR` / `ACQ.REASON_TRADE_STATUS_INVALID`: close of
    /// a trade that is already paid or closed; query it and settle.
    pub fn is_trade_status_error(&self) -> bool {
        self.is_signed_sub_code("ACQ.TRADE_STATUS_ERROR")
            || self.is_signed_sub_code("ACQ.REASON_TRADE_STATUS_INVALID")
    }

    fn is_signed_sub_code(&self, code: &str) -> bool {
        matches!(self, Self::Business { result, signed: true } if result.sub_code.as_deref() == Some(code))
    }

    /// Whether Alipay may have acted on the request although no success came back.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Transport(_) | Self::Unknown(_) | Self::InProgress(_) => true,
            Self::Status(s) => *s >= 500,
            _ => false,
        }
    }

    fn retryable(&self) -> bool {
        matches!(self, Self::Transport(_) | Self::Unknown(_))
            || matches!(self, Self::Status(s) if *s >= 500)
    }
}

/// Talks to one Alipay app.
#[derive(Debug, Clone)]
pub struct AlipayClient {
    http: reqwest::Client,
    config: AlipayConfig,
    app_key: AppPrivateKey,
    mode: KeyMode,
}

impl AlipayClient {
    pub fn new(
        config: AlipayConfig,
        app_key: AppPrivateKey,
        mode: KeyMode,
    ) -> Result<Self, AlipayError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .build()
            .map_err(|e| AlipayError::Transport(e.to_string()))?;
        Ok(Self {
            http,
            config,
            app_key,
            mode,
        })
    }

    pub fn config(&self) -> &AlipayConfig {
        &self.config
    }

    /// `alipay.trade.precreate`: a QR code for the buyer to scan. Never retried.
    pub async fn precreate(&self, req: &PrecreateRequest) -> Result<Precreated, AlipayError> {
        self.call_once(METHOD_PRECREATE, req, true).await
    }

    /// `alipay.trade.query`. `ACQ.TRADE_NOT_EXIST` until the buyer scans.
    pub async fn query(&self, trade: &TradeRef) -> Result<TradeQuery, AlipayError> {
        self.call_idempotent(METHOD_QUERY, trade).await
    }

    /// `alipay.trade.close`, only for `WAIT_BUYER_PAY` trades.
    pub async fn close(&self, req: &CloseRequest) -> Result<Closed, AlipayError> {
        self.call_idempotent(METHOD_CLOSE, req).await
    }

    /// `alipay.trade.refund`; retried with the same `out_request_no`.
    pub async fn refund(&self, req: &RefundRequest) -> Result<Refunded, AlipayError> {
        self.call_idempotent(METHOD_REFUND, req).await
    }

    /// Verifies a notify body with Alipay's key (either mode).
    pub fn verify_notify(&self, form_body: &[u8]) -> Result<Notify, NotifyError> {
        notify::verify_notify(form_body, self.mode.alipay_key())
    }

    async fn call_idempotent<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        biz: &B,
    ) -> Result<T, AlipayError> {
        let attempts = self.config.attempts.max(1);
        let mut delay = self.config.retry_delay;
        let mut tried = 1;
        loop {
            match self.call_once(method, biz, false).await {
                Err(e) if e.retryable() && tried < attempts => {
                    tracing::warn!(method, attempt = tried, error = %e, "retrying Alipay call");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                    tried += 1;
                }
                other => return other,
            }
        }
    }

    async fn call_once<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        biz: &B,
        with_notify_url: bool,
    ) -> Result<T, AlipayError> {
        let biz_content =
            serde_json::to_string(biz).map_err(|e| AlipayError::Malformed(e.to_string()))?;
        let params = self.signed_params(method, &biz_content, with_notify_url, &china_now())?;
        let body = serde_urlencoded::to_string(&params)
            .map_err(|e| AlipayError::Malformed(e.to_string()))?;
        let resp = self
            .http
            .post(&self.config.gateway_url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded;charset=utf-8",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| AlipayError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|e| AlipayError::Transport(e.to_string()))?;
        interpret(method, status, &text, &self.mode)
    }

    /// The full, signed parameter set of one request.
    pub fn signed_params(
        &self,
        method: &str,
        biz_content: &str,
        with_notify_url: bool,
        timestamp: &str,
    ) -> Result<BTreeMap<&'static str, String>, AlipayError> {
        let mut p: BTreeMap<&'static str, String> = BTreeMap::new();
        p.insert("app_id", self.config.app_id.clone());
        p.insert("method", method.to_owned());
        p.insert("format", "JSON".into());
        p.insert("charset", "utf-8".into());
        p.insert("sign_type", "RSA2".into());
        p.insert("timestamp", timestamp.to_owned());
        p.insert("version", "1.0".into());
        p.insert("biz_content", biz_content.to_owned());
        if with_notify_url && let Some(url) = &self.config.notify_url {
            p.insert("notify_url", url.clone());
        }
        if let KeyMode::Certificate {
            app_cert_sn,
            alipay_root_cert_sn,
            ..
        } = &self.mode
        {
            p.insert("app_cert_sn", app_cert_sn.clone());
            p.insert("alipay_root_cert_sn", alipay_root_cert_sn.clone());
        }
        let content = request_sign_content(p.iter().map(|(k, v)| (*k, v.as_str())));
        let sign = self
            .app_key
            .sign(content.as_bytes())
            .map_err(|_| AlipayError::Sign)?;
        p.insert("sign", sign);
        Ok(p)
    }
}

/// `yyyy-MM-dd HH:mm:ss` in China time (UTC+8), as Alipay wants its timestamps.
pub fn china_now() -> String {
    let china = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    Utc::now()
        .with_timezone(&china)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Turns one HTTP answer into a typed result, verifying the signature first.
pub fn interpret<T: DeserializeOwned>(
    method: &str,
    status: u16,
    body: &str,
    mode: &KeyMode,
) -> Result<T, AlipayError> {
    if status != 200 {
        return Err(AlipayError::Status(status));
    }
    let RawResponse {
        raw,
        sign,
        alipay_cert_sn,
        ..
    } = response::extract(body, method).map_err(|e| AlipayError::Malformed(e.to_string()))?;
    if let (KeyMode::Certificate { alipay_cert, .. }, Some(got)) = (mode, &alipay_cert_sn)
        && *got != alipay_cert.sn
    {
        return Err(AlipayError::CertChanged {
            expected: alipay_cert.sn.clone(),
            got: got.clone(),
        });
    }
    let signed = match &sign {
        Some(sign) if mode.alipay_key().verify(raw.as_bytes(), sign) => true,
        Some(_) => return Err(AlipayError::BadSignature),
        None => false,
    };
    let result: ResultCode =
        serde_json::from_str(raw).map_err(|e| AlipayError::Malformed(e.to_string()))?;
    match result.code.as_str() {
        "10000" if signed => {
            serde_json::from_str(raw).map_err(|e| AlipayError::Malformed(e.to_string()))
        }
        // An unsigned success could have been written by anyone on the path.
        "10000" => Err(AlipayError::BadSignature),
        "10003" => Err(AlipayError::InProgress(result)),
        "20000" => Err(AlipayError::Unknown(result)),
        _ if result.sub_code.as_deref() == Some("ACQ.SYSTEM_ERROR") => {
            Err(AlipayError::Unknown(result))
        }
        _ => Err(AlipayError::Business { result, signed }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/sandbox-keys/");

    fn key(name: &str) -> String {
        std::fs::read_to_string(format!("{KEYS}{name}")).unwrap()
    }

    fn alipay_signer() -> AppPrivateKey {
        AppPrivateKey::from_text(&key("alipay_private.pem")).unwrap()
    }

    fn mode() -> KeyMode {
        KeyMode::PublicKey(AlipayPublicKey::from_text(&key("alipay_public.pem")).unwrap())
    }

    fn signed_body(node: &str, raw: &str) -> String {
        let sign = alipay_signer().sign(raw.as_bytes()).unwrap();
        format!(r#"{{"{node}":{raw},"sign":"{sign}"}}"#)
    }

    #[test]
    fn a_signed_success_is_typed() {
        let raw = r#"{"code":"10000","msg":"Success","out_trade_no":"o_1","qr_code":"https:\/\/qr.alipay.com\/bax01"}"#;
        let body = signed_body("alipay_trade_precreate_response", raw);
        let p: Precreated = interpret(METHOD_PRECREATE, 200, &body, &mode()).unwrap();
        assert_eq!(p.qr_code, "https://qr.alipay.com/bax01");
    }

    #[test]
    fn tampered_or_unsigned_successes_are_refused() {
        let raw = r#"{"code":"10000","msg":"Success","out_trade_no":"o_1","qr_code":"x"}"#;
        let body = signed_body("alipay_trade_precreate_response", raw).replace("\"x\"", "\"y\"");
        assert_eq!(
            interpret::<Precreated>(METHOD_PRECREATE, 200, &body, &mode()),
            Err(AlipayError::BadSignature)
        );
        let body = format!(r#"{{"alipay_trade_precreate_response":{raw}}}"#);
        assert_eq!(
            interpret::<Precreated>(METHOD_PRECREATE, 200, &body, &mode()),
            Err(AlipayError::BadSignature)
        );
    }

    #[test]
    fn result_codes_map_to_errors() {
        let cases = [
            (
                r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"x"}"#,
                "not_exist",
            ),
            (
                r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_HAS_SUCCESS"}"#,
                "has_success",
            ),
            (
                r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_STATUS_ERROR"}"#,
                "status_error",
            ),
            (
                r#"{"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error"}"#,
                "unknown",
            ),
            (
                r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.SYSTEM_ERROR"}"#,
                "unknown",
            ),
            (
                r#"{"code":"10003","msg":"ORDER_SUCCESS_PAY_INPROCESS"}"#,
                "in_progress",
            ),
        ];
        for (raw, want) in cases {
            let body = signed_body("alipay_trade_query_response", raw);
            let err = interpret::<TradeQuery>(METHOD_QUERY, 200, &body, &mode()).unwrap_err();
            let got = if err.is_trade_not_exist() {
                "not_exist"
            } else if err.is_trade_has_success() {
                "has_success"
            } else if err.is_trade_status_error() {
                "status_error"
            } else if matches!(err, AlipayError::Unknown(_)) {
                "unknown"
            } else if matches!(err, AlipayError::InProgress(_)) {
                "in_progress"
            } else {
                "other"
            };
            assert_eq!(got, want, "{raw}");
        }
    }

    #[test]
    fn unsigned_errors_are_marked_unsigned() {
        let body = r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature"}}"#;
        let err = interpret::<TradeQuery>(METHOD_QUERY, 200, body, &mode()).unwrap_err();
        assert!(matches!(err, AlipayError::Business { signed: false, .. }));
        assert_eq!(err.sub_code(), Some("isv.invalid-signature"));
        // Unsigned "not exist" is not trusted as such.
        let body = r#"{"alipay_trade_query_response":{"code":"40004","msg":"","sub_code":"ACQ.TRADE_NOT_EXIST"}}"#;
        assert!(
            !interpret::<TradeQuery>(METHOD_QUERY, 200, body, &mode())
                .unwrap_err()
                .is_trade_not_exist()
        );
    }

    #[test]
    fn http_and_format_failures() {
        assert_eq!(
            interpret::<TradeQuery>(METHOD_QUERY, 502, "", &mode()),
            Err(AlipayError::Status(502))
        );
        assert!(AlipayError::Status(502).outcome_unknown());
        assert!(matches!(
            interpret::<TradeQuery>(METHOD_QUERY, 200, "<html>busy</html>", &mode()),
            Err(AlipayError::Malformed(_))
        ));
    }

    #[test]
    fn certificate_mode_checks_the_response_cert_sn() {
        let mode = KeyMode::Certificate {
            app_cert_sn: "a".into(),
            alipay_root_cert_sn: "r".into(),
            alipay_cert: AlipayCert {
                sn: "expected".into(),
                public_key: AlipayPublicKey::from_text(&key("alipay_public.pem")).unwrap(),
            },
        };
        let raw = r#"{"code":"10000","msg":"Success","trade_no":"t"}"#;
        let sign = alipay_signer().sign(raw.as_bytes()).unwrap();
        let body = format!(
            r#"{{"alipay_trade_close_response":{raw},"alipay_cert_sn":"newer","sign":"{sign}"}}"#
        );
        assert_eq!(
            interpret::<Closed>(METHOD_CLOSE, 200, &body, &mode),
            Err(AlipayError::CertChanged {
                expected: "expected".into(),
                got: "newer".into()
            })
        );
        let body = body.replace("newer", "expected");
        assert_eq!(
            interpret::<Closed>(METHOD_CLOSE, 200, &body, &mode)
                .unwrap()
                .trade_no
                .as_deref(),
            Some("t")
        );
    }

    #[test]
    fn requests_carry_the_common_parameters_and_verify() {
        let app = AppPrivateKey::from_text(&key("merchant_app_private.pem")).unwrap();
        let mut config = AlipayConfig::new("http://127.0.0.1:1/gateway.do", "2021000000000001");
        config.notify_url = Some("http://127.0.0.1/api/alipay/notify".into());
        let app_cert = include_str!("testdata/appCertPublicKey_2021001161683774.crt");
        let alipay_cert = include_str!("testdata/alipayCertPublicKey_RSA2.crt");
        let root = include_str!("testdata/alipayRootCert.crt");
        let client = AlipayClient::new(
            config,
            app.clone(),
            KeyMode::certificate(app_cert, alipay_cert, root).unwrap(),
        )
        .unwrap();
        let p = client
            .signed_params(
                METHOD_PRECREATE,
                r#"{"out_trade_no":"o_1"}"#,
                true,
                "2024-01-01 08:00:00",
            )
            .unwrap();
        assert_eq!(p["format"], "JSON");
        assert_eq!(p["sign_type"], "RSA2");
        assert_eq!(p["app_cert_sn"], "866efef280dec9137a87d047ac446315");
        assert_eq!(
            p["alipay_root_cert_sn"],
            "687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6"
        );
        assert_eq!(p["notify_url"], "http://127.0.0.1/api/alipay/notify");
        let content = request_sign_content(p.iter().map(|(k, v)| (*k, v.as_str())));
        assert!(content.starts_with("alipay_root_cert_sn=687b"));
        assert!(
            app.public_key()
                .unwrap()
                .verify(content.as_bytes(), &p["sign"])
        );
        let ts = china_now();
        assert_eq!(ts.len(), 19);
    }

    #[tokio::test]
    async fn transport_errors_are_retried_then_reported() {
        let app = AppPrivateKey::from_text(&key("merchant_app_private.pem")).unwrap();
        // Port 9 on loopback: nothing listens, the connection is refused at once.
        let mut config = AlipayConfig::new("http://127.0.0.1:9/gateway.do", "2021");
        config.retry_delay = Duration::from_millis(1);
        let client = AlipayClient::new(config, app, mode()).unwrap();
        let err = client
            .query(&TradeRef::OutTradeNo("o".into()))
            .await
            .unwrap_err();
        assert!(matches!(err, AlipayError::Transport(_)));
        assert!(err.outcome_unknown());
    }
}
