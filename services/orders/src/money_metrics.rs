//! The money flows on `/metrics`, each series present from the start at 0, so
//! that Prometheus's `increase()` sees the first failure, and the alert rules
//! (deploy/prometheus/alerts.yml) always name series that exist:
//!
//! - `orders_placed_total{outcome}` (place.rs), `orders_paid_total` (fulfil.rs),
//!   `orders_closed_total{reason}` (close.rs), `orders_refunded_total` (fulfil.rs)
//! - `fulfilment_failures_total{path="event"|"reconcile"}`: a payment that
//!   could not be fulfilled on this try
//! - `payment_events_parked_total`: one that ran out of tries
//! - `reconcile_findings_total{finding="paid_without_notify"|"refunded"}`
//! - `stock_giveback_failures_total{path}` (stock/counts.rs)

/// Registers the series at 0; called once as the service starts.
pub fn register() {
    // Installs the recorder now, not at the first scrape, so these stay.
    let _ = paychat_common::telemetry::metrics();
    for outcome in [
        "accepted",
        "replayed",
        "out_of_stock",
        "unpaid_order_exists",
        "error",
    ] {
        metrics::counter!("orders_placed_total", "outcome" => outcome).increment(0);
    }
    for name in [
        "orders_paid_total",
        "orders_refunded_total",
        "payment_events_parked_total",
    ] {
        metrics::counter!(name).increment(0);
    }
    for path in ["event", "reconcile"] {
        metrics::counter!("fulfilment_failures_total", "path" => path).increment(0);
    }
    for finding in ["paid_without_notify", "refunded"] {
        metrics::counter!("reconcile_findings_total", "finding" => finding).increment(0);
    }
    for path in [
        "close",
        "writer",
        "writer_dropped",
        "writer_unknown",
        "fulfil_retake",
    ] {
        metrics::counter!("stock_giveback_failures_total", "path" => path).increment(0);
    }
}
