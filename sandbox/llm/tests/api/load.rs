//! Many streams at once, as the chat-api benchmark drives it.

use futures::future::join_all;
use serde_json::json;

use crate::helpers::{expected_answer, marker, read_stream, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carries_a_thousand_concurrent_streams() {
    let server = spawn().await;
    let mark = marker("load");
    let streams = (0..1000).map(|i| {
        let server = &server;
        let prompt = format!("{mark} {i}");
        async move {
            let body = json!({"model": "sandbox-chat", "stream": true, "messages": [{"role": "user", "content": prompt}]});
            let response = server
                .chat(Some("sk-load"), &body)
                .header("x-sandbox-chunk-delay-ms", "20")
                .send()
                .await
                .unwrap();
            let streamed = read_stream(response).await;
            streamed.assert_clean_end();
            assert_eq!(streamed.contents().concat(), expected_answer(&prompt));
        }
    });
    join_all(streams).await;
    let records = server.received(&mark).await;
    assert_eq!(records.len(), 1000);
    assert!(records.iter().all(|r| r["completed"] == true));
}
