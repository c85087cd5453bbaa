//! An OpenAI-compatible stand-in LLM for PayChat's local runs and tests.
//!
//! # Routes
//! - `POST /v1/chat/completions`: OpenAI's request and wire format, streamed
//!   (`"stream": true`) or not. Needs `Authorization: Bearer <key>`.
//! - `GET /v1/models`: lists [`models::MODELS`].
//! - `GET /sim/requests?marker=<text>&limit=<n>`: what was received, newest first.
//! - `GET /healthz`.
//!
//! # The answer
//! For the text `M` of the last `user` message (a string, or the concatenated
//! `text` parts of an array) the answer is
//! `"Echo: " + M + " -- answered by the PayChat sandbox model."`
//! ([`answer::answer_for`]). A stream sends a role chunk
//! (`{"role":"assistant","content":""}`), then the answer in pieces of
//! `chunk_chars` characters (Unicode scalar values, never splitting one), each
//! after a pause of `chunk_delay`, then a chunk with an empty delta and
//! `finish_reason: "stop"`, then (only with `stream_options.include_usage`) a
//! chunk with `"choices": []` and `usage`, then `data: [DONE]`.
//!
//! Tokens: `ceil(chars / 4)` of a text. `prompt_tokens` sums that over every
//! message's content; `completion_tokens` is that of the answer.
//!
//! # Switches
//! - Headers `x-sandbox-chunk-delay-ms`, `x-sandbox-chunk-chars`,
//!   `x-sandbox-chunks`, `x-sandbox-retry-after-secs` override the server's settings per request.
//! - Model `fault-401` / `fault-429` (with `Retry-After`) / `fault-500`: that
//!   status with OpenAI's error JSON. `fault-cut-after-N`: N content chunks,
//!   then the connection is aborted (no finish chunk, no `[DONE]`).
//!   `fault-stall`: the role chunk, then silence until the client leaves.
//!   `fault-headers-after-MS`: no headers for MS milliseconds, then the
//!   ordinary answer.
//! - Keys starting `sk-bad` → 401, `sk-limited` → 429.

pub mod answer;
mod completions;
pub mod config;
pub mod faults;
pub mod models;
mod openai;
pub mod records;
mod sim;

use std::sync::Arc;

use axum::serve::ListenerExt;
use axum::{
    Router,
    routing::{get, post},
};

pub use completions::{CHUNK_CHARS_HEADER, CHUNK_DELAY_HEADER, RETRY_AFTER_HEADER};
pub use config::{Config, Settings};

use records::Recorder;

/// Shared by every handler.
#[derive(Clone)]
pub(crate) struct AppState {
    config: Arc<Config>,
    recorder: Arc<Recorder>,
}

/// The routes, ready to serve.
pub fn router(config: Config) -> Router {
    let state = AppState {
        recorder: Arc::new(Recorder::new(config.record_capacity)),
        config: Arc::new(config),
    };
    Router::new()
        .route("/v1/chat/completions", post(completions::create))
        .route("/v1/models", get(models::list))
        .route("/sim/requests", get(sim::requests))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

/// Serves on `listener` until the process ends.
///
/// Every connection has TCP_NODELAY set, as a hosted model's front end does:
/// with Nagle's algorithm a chunk written while the previous one is unacked
/// waits for the client's delayed ACK (up to 40 ms), which no real stream shows.
pub async fn serve(listener: tokio::net::TcpListener, config: Config) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, router(config)).await
}
