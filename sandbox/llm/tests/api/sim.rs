//! `/sim/requests`: what the server received, and when clients went away.

use std::time::Duration;

use chrono::DateTime;
use serde_json::{Value, json};

use crate::helpers::{marker, read_stream, spawn};

#[tokio::test]
async fn records_are_found_by_marker_newest_first() {
    let server = spawn().await;
    let mark = marker("sim");
    for (i, stream) in [(1, true), (2, false)] {
        let body = json!({
            "model": "sandbox-chat",
            "stream": stream,
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": format!("{mark} #{i}")},
            ],
        });
        let response = server.chat(Some("sk-sim"), &body).send().await.unwrap();
        if stream {
            read_stream(response).await;
        } else {
            response.bytes().await.unwrap();
        }
    }
    server
        .chat(Some("sk-sim"), &json!({"model": "sandbox-chat", "messages": [{"role": "user", "content": "unrelated"}]}))
        .send()
        .await
        .unwrap();

    let records = server.received(&mark).await;
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["messages"][1]["content"], format!("{mark} #2"));
    assert_eq!(records[0]["stream"], false);
    assert_eq!(records[1]["stream"], true);
    assert_eq!(
        records[1]["messages"][0],
        json!({"role": "system", "content": "sys"})
    );
    for record in &records {
        assert!(record["id"].as_str().unwrap().starts_with("chatcmpl-"));
        assert_eq!(record["key"], "sk-sim");
        assert_eq!(record["model"], "sandbox-chat");
        assert_eq!(record["completed"], true);
        assert_eq!(record["status"], 200);
        assert!(record["client_disconnected_at"].is_null());
        let started = record["started_at"].as_str().unwrap();
        let finished = record["finished_at"].as_str().unwrap();
        // RFC 3339 with milliseconds, in UTC.
        assert_eq!(started.len(), "2026-01-01T00:00:00.000Z".len());
        assert!(
            DateTime::parse_from_rfc3339(started).unwrap()
                <= DateTime::parse_from_rfc3339(finished).unwrap()
        );
    }
}

async fn poll_disconnect(server: &crate::helpers::TestServer, mark: &str) -> Value {
    for _ in 0..50 {
        let records = server.received(mark).await;
        if let Some(record) = records.first()
            && !record["client_disconnected_at"].is_null()
        {
            return record.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("disconnect not recorded within 1 s");
}

#[tokio::test]
async fn a_client_leaving_mid_stream_is_recorded_within_a_second() {
    let server = spawn().await;
    let mark = marker("leave");
    let body = json!({"model": "sandbox-chat", "stream": true, "messages": [{"role": "user", "content": mark}]});
    let mut response = server
        .chat(Some("sk-test"), &body)
        .header("x-sandbox-chunk-delay-ms", "200")
        .send()
        .await
        .unwrap();
    response.chunk().await.unwrap().unwrap();
    let before = server.received(&mark).await;
    assert!(before[0]["client_disconnected_at"].is_null());
    drop(response);

    let record = poll_disconnect(&server, &mark).await;
    assert_eq!(record["completed"], false);
    assert!(!record["finished_at"].is_null());
}

#[tokio::test]
async fn a_client_leaving_a_stalled_stream_is_recorded() {
    let server = spawn().await;
    let mark = marker("stall-leave");
    let body = json!({"model": "fault-stall", "stream": true, "messages": [{"role": "user", "content": mark}]});
    let mut response = server.chat(Some("sk-test"), &body).send().await.unwrap();
    response.chunk().await.unwrap().unwrap();
    drop(response);
    let record = poll_disconnect(&server, &mark).await;
    assert_eq!(record["completed"], false);
}

#[tokio::test]
async fn a_client_leaving_a_stalled_whole_answer_is_recorded() {
    let server = spawn().await;
    let mark = marker("stall-whole");
    let body = json!({"model": "fault-stall", "messages": [{"role": "user", "content": mark}]});
    let request = server.chat(Some("sk-test"), &body).send();
    // The request hangs waiting for headers; give up on it after a moment.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), request)
            .await
            .is_err()
    );
    let record = poll_disconnect(&server, &mark).await;
    assert_eq!(record["completed"], false);
}
