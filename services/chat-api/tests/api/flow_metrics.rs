//! The chat flows on /metrics: a real scrape after driving chats shows the
//! counters moved, the open-streams gauge follows a stream, upstream errors
//! are counted by key fingerprint and model, and every metric the chat-api
//! group of deploy/prometheus/alerts.yml names is exported.

use std::time::{Duration, Instant};

use paychat_chat_api::chat::upstream::fingerprint;
use paychat_common::alert_rules::{
    ALERTS_FILE, DASHBOARD_FILE, metrics_of_dashboard, metrics_of_group, missing_from, sample,
};
use serde_json::json;

use crate::chat_support::{ChatTest, read_until, spawn_chat_with};

async fn scrape(t: &ChatTest) -> String {
    t.app
        .client
        .get(t.app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn value(t: &ChatTest, series: &str) -> f64 {
    sample(&scrape(t).await, series).unwrap_or(0.0)
}

/// Waits for `series` to reach `want` (streams settle after their last event).
async fn reaches(t: &ChatTest, series: &str, want: f64) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if value(t, series).await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn chat_counters_move_and_every_alerted_metric_is_exported() {
    let t = spawn_chat_with(40, &[]).await;
    let user = t.user(5).await;
    // Present from the start, at 0.
    let first = scrape(&t).await;
    assert_eq!(
        sample(&first, "chat_times_taken_total"),
        Some(0.0),
        "{first}"
    );
    assert_eq!(sample(&first, "chat_streams_open"), Some(0.0), "{first}");

    // One answered chat: a time taken and kept.
    t.ask(&user, "counted", None).await;
    assert!(reaches(&t, "chat_times_taken_total", 1.0).await);
    assert_eq!(value(&t, "chat_times_returned_total").await, 0.0);

    // An upstream failure: counted by key and model, the time returned.
    let failed = t
        .stream(&user, json!({ "prompt": "x", "model": "fault-500" }))
        .await;
    assert_eq!(failed.status, 503, "{failed:?}");
    let series = format!(
        "chat_upstream_errors_total{{key=\"{}\",model=\"fault-500\",error=\"500\"}}",
        fingerprint("sk-test-good")
    );
    assert_eq!(value(&t, &series).await, 1.0, "{}", scrape(&t).await);
    assert!(reaches(&t, "chat_times_returned_total", 1.0).await);
    assert_eq!(value(&t, "chat_times_taken_total").await, 2.0);

    // A stream counts as open while it runs.
    let res = t
        .complete(
            &user,
            &json!({ "prompt": "a longer question kept open for a while" }),
        )
        .send()
        .await
        .unwrap();
    let (_, body) = read_until(res, |e| e.iter().any(|(n, _)| n == "delta")).await;
    assert_eq!(value(&t, "chat_streams_open").await, 1.0);
    drop(body);
    assert!(reaches(&t, "chat_streams_open", 0.0).await);

    let rules = std::fs::read_to_string(ALERTS_FILE).unwrap();
    let wanted = metrics_of_group(&rules, "paychat-chat-api");
    assert!(wanted.len() >= 4, "{wanted:?}");
    let scraped = scrape(&t).await;
    assert_eq!(
        missing_from(&scraped, &wanted),
        Vec::<String>::new(),
        "{scraped}"
    );
    // The dashboard's chat and HTTP panels too.
    let dashboard = std::fs::read_to_string(DASHBOARD_FILE).unwrap();
    let panels = metrics_of_dashboard(&dashboard, &["chat_", "http_"]);
    assert!(panels.len() >= 5, "{panels:?}");
    assert_eq!(
        missing_from(&scraped, &panels),
        Vec::<String>::new(),
        "{scraped}"
    );
}
