//! The sandbox mail server: an SMTP sink that keeps what it receives in memory
//! and an HTTP API (plus a small HTML page) to read it back. For local runs and
//! tests only: no authentication, no TLS, no relaying anywhere.
//!
//! - [`smtp`]: enough of RFC 5321 for lettre's plaintext client.
//! - [`parse`]: turns a received message into sender, recipients, subject, text and HTML.
//! - [`store`]: the bounded in-memory mailbox, newest first.
//! - [`http`]: `GET /api/messages`, `GET /api/messages/{id}`, `DELETE /api/messages`, `/`.
//! - [`settings`]: flags and `PAYCHAT_SANDBOX_MAIL_*` variables.

pub mod http;
pub mod parse;
pub mod settings;
pub mod smtp;
pub mod store;

use anyhow::Context;
use tokio::net::TcpListener;

pub use settings::Settings;
pub use store::{DEFAULT_CAPACITY, Mailbox, StoredMessage};

/// Serves SMTP on `smtp` and HTTP on `http` with a mailbox of the default size,
/// until one of them fails.
pub async fn serve(smtp: TcpListener, http: TcpListener) -> anyhow::Result<()> {
    serve_with(smtp, http, Mailbox::new(DEFAULT_CAPACITY)).await
}

/// As [`serve`], with a mailbox of the caller's choosing (tests keep a handle).
pub async fn serve_with(
    smtp: TcpListener,
    http: TcpListener,
    mailbox: Mailbox,
) -> anyhow::Result<()> {
    tokio::select! {
        result = smtp::serve(smtp, mailbox.clone()) => result.context("serving SMTP"),
        result = http::serve(http, mailbox) => result.context("serving HTTP"),
    }
}
