//! The PayChat payment gateway: holds the Alipay merchant keys, talks to Alipay's
//! open API and verifies its notifies. Orders reaches it only through sealed
//! envelopes; Alipay reaches it through the notify webhook.

pub mod alipay;
pub mod app;
pub mod config;
pub mod events;
pub mod notify;
pub mod sealed;
pub mod state;
