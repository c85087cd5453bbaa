//! Alipay face-to-face payment (当面付) as ALIPAY.md describes it: request signing
//! (RSA2), response and notify verification, certificate serial numbers, and a
//! typed client for precreate / query / close / refund.
//!
//! Private-key work (RSA2 signing) runs in aws-lc-rs; the `rsa` crate is not used.

pub mod cert;
pub mod client;
pub mod keys;
pub mod notify;
pub mod response;
pub mod sign;
pub mod types;

pub use cert::{AlipayCert, CertError};
pub use client::{AlipayClient, AlipayConfig, AlipayError, KeyMode};
pub use keys::{AlipayPublicKey, AppPrivateKey, KeyError};
pub use notify::{Notify, NotifyError, verify_notify};
pub use types::{
    CloseRequest, Closed, PrecreateRequest, Precreated, RefundRequest, Refunded, TradeQuery,
    TradeRef, TradeStatus,
};
