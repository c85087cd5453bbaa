//! The chat flows on `/metrics`, present from the start at 0 so that
//! Prometheus's `increase()` sees the first event and the alert rules
//! (deploy/prometheus/alerts.yml) always name series that exist:
//!
//! - `chat_streams_open` (gauge, relay.rs): browser streams open now
//! - `chat_times_taken_total`, `chat_times_returned_total` (charge.rs, relay.rs)
//! - `chat_streams_total{status}` (relay.rs), `chat_time_to_first_token_seconds`
//! - `chat_upstream_errors_total{key,model,error}` (upstream.rs): `key` is the
//!   key's fingerprint; these appear with the first error of each key and model

/// Registers the series at 0; called once as the service starts.
pub fn register() {
    // Installs the recorder now, not at the first scrape, so these stay.
    let _ = paychat_common::telemetry::metrics();
    metrics::gauge!("chat_streams_open").increment(0.0);
    metrics::counter!("chat_times_taken_total").increment(0);
    metrics::counter!("chat_times_returned_total").increment(0);
}
