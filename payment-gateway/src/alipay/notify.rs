//! Verifying Alipay's asynchronous notify (异步通知) and reading its fields.
//!
//! The signature covers every received parameter except `sign` and `sign_type`,
//! URL-decoded, sorted, joined raw — including empty values and fields this code has
//! never heard of — and is checked with **Alipay's** public key (never the app's own).
//! Business checks (app_id, seller, amount, out_trade_no) come after, in
//! [`Notify::check`].

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::keys::AlipayPublicKey;
use super::sign::notify_sign_content;
use super::types::TradeStatus;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error("the notify body is not form-encoded")]
    Malformed,
    #[error("the notify has no sign")]
    Unsigned,
    #[error("the notify signature does not verify")]
    BadSignature,
    #[error("the notify lacks the field {0}")]
    Missing(&'static str),
    #[error("the notify field {0} is invalid")]
    Invalid(&'static str),
}

/// Why a genuine notify is not for us (or not for this order).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyMismatch {
    #[error("app_id differs")]
    AppId,
    #[error("seller_id differs")]
    Seller,
    #[error("out_trade_no differs")]
    OutTradeNo,
    #[error("total_amount differs")]
    Amount,
}

/// A verified trade notify.
#[derive(Debug, Clone, PartialEq)]
pub struct Notify {
    pub notify_id: String,
    pub notify_time: Option<String>,
    pub notify_type: Option<String>,
    pub app_id: String,
    pub auth_app_id: Option<String>,
    pub trade_no: String,
    pub out_trade_no: String,
    pub out_biz_no: Option<String>,
    pub buyer_id: Option<String>,
    pub buyer_logon_id: Option<String>,
    pub seller_id: Option<String>,
    pub seller_email: Option<String>,
    pub trade_status: TradeStatus,
    pub total_amount: Decimal,
    pub receipt_amount: Option<Decimal>,
    pub buyer_pay_amount: Option<Decimal>,
    pub refund_fee: Option<Decimal>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub gmt_create: Option<String>,
    pub gmt_payment: Option<String>,
    pub gmt_refund: Option<String>,
    pub gmt_close: Option<String>,
    pub passback_params: Option<String>,
    /// JSON text as sent.
    pub fund_bill_list: Option<String>,
    /// Every received parameter (decoded), for storing the notify as it came.
    pub params: BTreeMap<String, String>,
}

/// Decodes a form body into its pairs, in order, duplicates kept.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, NotifyError> {
    serde_urlencoded::from_bytes(body).map_err(|_| NotifyError::Malformed)
}

/// Verifies a raw `application/x-www-form-urlencoded` notify body.
pub fn verify_notify(body: &[u8], alipay_key: &AlipayPublicKey) -> Result<Notify, NotifyError> {
    verify_notify_params(&parse_form(body)?, alipay_key)
}

/// Verifies already-decoded notify parameters.
pub fn verify_notify_params(
    params: &[(String, String)],
    alipay_key: &AlipayPublicKey,
) -> Result<Notify, NotifyError> {
    let sign = params
        .iter()
        .find(|(k, _)| k == "sign")
        .map(|(_, v)| v.as_str())
        .ok_or(NotifyError::Unsigned)?;
    let content = notify_sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .ok_or(NotifyError::Malformed)?;
    if !alipay_key.verify(content.as_bytes(), sign) {
        return Err(NotifyError::BadSignature);
    }
    Notify::from_params(params.iter().cloned().collect())
}

impl Notify {
    fn from_params(params: BTreeMap<String, String>) -> Result<Self, NotifyError> {
        let opt = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
        let req = |k: &'static str| opt(k).ok_or(NotifyError::Missing(k));
        let amount = |k: &'static str| -> Result<Option<Decimal>, NotifyError> {
            opt(k)
                .map(|v| v.parse::<Decimal>().map_err(|_| NotifyError::Invalid(k)))
                .transpose()
        };
        Ok(Self {
            notify_id: req("notify_id")?,
            notify_time: opt("notify_time"),
            notify_type: opt("notify_type"),
            app_id: req("app_id")?,
            auth_app_id: opt("auth_app_id"),
            trade_no: req("trade_no")?,
            out_trade_no: req("out_trade_no")?,
            out_biz_no: opt("out_biz_no"),
            buyer_id: opt("buyer_id"),
            buyer_logon_id: opt("buyer_logon_id"),
            seller_id: opt("seller_id"),
            seller_email: opt("seller_email"),
            trade_status: TradeStatus::parse(&req("trade_status")?),
            total_amount: amount("total_amount")?.ok_or(NotifyError::Missing("total_amount"))?,
            receipt_amount: amount("receipt_amount")?,
            buyer_pay_amount: amount("buyer_pay_amount")?,
            refund_fee: amount("refund_fee")?,
            subject: opt("subject"),
            body: opt("body"),
            gmt_create: opt("gmt_create"),
            gmt_payment: opt("gmt_payment"),
            gmt_refund: opt("gmt_refund"),
            gmt_close: opt("gmt_close"),
            passback_params: opt("passback_params"),
            fund_bill_list: opt("fund_bill_list"),
            params,
        })
    }

    /// The business checks ALIPAY.md asks for after the signature: our app, our
    /// seller (when configured), this order, this amount.
    pub fn check(
        &self,
        app_id: &str,
        seller_id: Option<&str>,
        out_trade_no: &str,
        total_amount: Decimal,
    ) -> Result<(), NotifyMismatch> {
        if self.app_id != app_id {
            return Err(NotifyMismatch::AppId);
        }
        if let Some(seller) = seller_id
            && self.seller_id.as_deref() != Some(seller)
        {
            return Err(NotifyMismatch::Seller);
        }
        if self.out_trade_no != out_trade_no {
            return Err(NotifyMismatch::OutTradeNo);
        }
        if self.total_amount != total_amount {
            return Err(NotifyMismatch::Amount);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// Known answer: a real trade_status_sync notify signed by Alipay, with the
    /// published key that verifies it. Source: alipay/alipay-sdk-nodejs-all,
    /// test/alipay.test.ts ("verify sign should delete sign_type",
    /// notifyAlipayPublicKeyV1). `fund_bill_list` arrives as JSON text.
    fn published_notify() -> Vec<(String, String)> {
        [
            ("gmt_create", "2019-08-15 15:56:22"),
            ("charset", "utf-8"),
            ("seller_email", "z97-yuquerevenue@service.aliyun.com"),
            ("subject", "语雀空间 500人规模"),
            ("sign", "QfTb8tqE1BMhS5qAnXtvsF3/jBkEvu9q9en0pdbBUDDjvKycZhQb7h8GDs4FKfi049PynaNuatxSgLb/nLWZpXyyh0LEWdK2S6Ri7nPwrVgOs08zugLO20vOQz44y3ti2Ncm8/wZts1Fr2gZ7pShnVX3d1B50hbsXnObT1r/U8ONNQjWXd0HIul4TG+Q3fm3svmSvFEy0WnzuhcyHPX5Gm4ELNctL6Qd5YniGJFNcc7kopHYtI/XD9YCKCH6Ct02rzUs9i11C9CsadtZn+WhxF26Dqt9sGEFajkJ8cxUTLi8+VCpLHsgPE8P0y095uQcDdK0YjCh4x7wVSov+lrmOQ=="),
            ("buyer_id", "2088102534368455"),
            ("invoice_amount", "0.10"),
            ("notify_id", "2019081500222155624068450559358070"),
            ("fund_bill_list", r#"[{"amount":"0.10","fundChannel":"ALIPAYACCOUNT"}]"#),
            ("notify_type", "trade_status_sync"),
            ("trade_status", "TRADE_SUCCESS"),
            ("receipt_amount", "0.10"),
            ("buyer_pay_amount", "0.10"),
            ("sign_type", "RSA2"),
            ("app_id", "2019073166072302"),
            ("seller_id", "2088531891668739"),
            ("gmt_payment", "2019-08-15 15:56:24"),
            ("notify_time", "2019-08-15 15:56:25"),
            ("version", "1.0"),
            ("out_trade_no", "20190815155618536-564-57"),
            ("total_amount", "0.10"),
            ("trade_no", "2019081522001468450512505578"),
            ("auth_app_id", "2019073166072302"),
            ("buyer_logon_id", "xud***@126.com"),
            ("point_amount", "0.00"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn published_key() -> AlipayPublicKey {
        AlipayPublicKey::from_text(include_str!("testdata/sdk_nodejs_notify_public_key_v1.pem"))
            .unwrap()
    }

    #[test]
    fn published_notify_verifies_and_reads() {
        let n = verify_notify_params(&published_notify(), &published_key()).unwrap();
        assert_eq!(n.out_trade_no, "20190815155618536-564-57");
        assert_eq!(n.trade_status, TradeStatus::TradeSuccess);
        assert_eq!(n.total_amount, dec!(0.10));
        assert_eq!(n.seller_id.as_deref(), Some("2088531891668739"));
        assert_eq!(n.params.len(), 25);
        assert!(
            n.check(
                "2019073166072302",
                Some("2088531891668739"),
                "20190815155618536-564-57",
                dec!(0.1)
            )
            .is_ok()
        );
        assert_eq!(
            n.check("other", None, "20190815155618536-564-57", dec!(0.1)),
            Err(NotifyMismatch::AppId)
        );
        assert_eq!(
            n.check(
                "2019073166072302",
                Some("x"),
                "20190815155618536-564-57",
                dec!(0.1)
            ),
            Err(NotifyMismatch::Seller)
        );
        assert_eq!(
            n.check("2019073166072302", None, "x", dec!(0.1)),
            Err(NotifyMismatch::OutTradeNo)
        );
        assert_eq!(
            n.check(
                "2019073166072302",
                None,
                "20190815155618536-564-57",
                dec!(0.2)
            ),
            Err(NotifyMismatch::Amount)
        );
    }

    #[test]
    fn the_same_notify_through_the_form_body() {
        let body = serde_urlencoded::to_string(published_notify()).unwrap();
        assert!(verify_notify(body.as_bytes(), &published_key()).is_ok());
        // Without sign_type too: it is not part of the signed content.
        let without: Vec<_> = published_notify()
            .into_iter()
            .filter(|(k, _)| k != "sign_type")
            .collect();
        assert!(verify_notify_params(&without, &published_key()).is_ok());
    }

    #[test]
    fn any_change_breaks_it() {
        let key = published_key();
        let mut p = published_notify();
        p.iter_mut().find(|(k, _)| k == "total_amount").unwrap().1 = "1000.10".into();
        assert_eq!(
            verify_notify_params(&p, &key),
            Err(NotifyError::BadSignature)
        );

        // An added field (even empty) is part of the signed content.
        let mut p = published_notify();
        p.push(("extra".into(), String::new()));
        assert_eq!(
            verify_notify_params(&p, &key),
            Err(NotifyError::BadSignature)
        );

        let p: Vec<_> = published_notify()
            .into_iter()
            .filter(|(k, _)| k != "sign")
            .collect();
        assert_eq!(verify_notify_params(&p, &key), Err(NotifyError::Unsigned));

        let mut p = published_notify();
        p.push(("out_trade_no".into(), "dup".into()));
        assert_eq!(verify_notify_params(&p, &key), Err(NotifyError::Malformed));

        // The app's own key (or any other) must not verify Alipay's notify.
        let other = AlipayPublicKey::from_text(include_str!(
            "testdata/sdk_nodejs_notify_public_key_v2.pem"
        ))
        .unwrap();
        assert_eq!(
            verify_notify_params(&published_notify(), &other),
            Err(NotifyError::BadSignature)
        );
    }
}
