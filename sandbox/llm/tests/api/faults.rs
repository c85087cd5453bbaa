//! Faults by missing or special key and by model name.

use std::time::Duration;

use paychat_sandbox_llm::Config;
use serde_json::{Value, json};

use crate::helpers::{TestServer, expected_answer, marker, read_stream, spawn, spawn_with};

fn ask(model: &str, text: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": text}]})
}

/// Sends one user message `text` to `model` as `key` (none: no `Authorization`).
async fn send(
    server: &TestServer,
    key: Option<&str>,
    model: &str,
    text: &str,
    stream: bool,
) -> reqwest::Response {
    server
        .chat(key, &ask(model, text, stream))
        .send()
        .await
        .unwrap()
}

async fn error_of(response: reqwest::Response) -> Value {
    response.json::<Value>().await.unwrap()["error"].clone()
}

#[tokio::test]
async fn missing_key_is_401() {
    let server = spawn().await;
    let response = send(&server, None, "sandbox-chat", "x", true).await;
    assert_eq!(response.status(), 401);
    let error = error_of(response).await;
    assert_eq!(error["type"], "invalid_request_error");
    assert!(error["message"].as_str().unwrap().contains("API key"));
    assert!(error.get("param").is_some() && error.get("code").is_some());
}

#[tokio::test]
async fn configured_key_list_refuses_other_keys() {
    let server = spawn_with(Config {
        api_keys: Some(vec!["sk-allowed".to_owned()]),
        ..Config::default()
    })
    .await;
    let response = send(&server, Some("sk-other-key"), "sandbox-chat", "x", false).await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await["code"], "invalid_api_key");
    let response = send(&server, Some("sk-allowed"), "sandbox-chat", "x", false).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn fault_models_answer_their_status_before_streaming() {
    let server = spawn().await;
    let response = send(&server, Some("sk-test"), "fault-429", "x", true).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let error = error_of(response).await;
    assert_eq!(error["code"], "rate_limit_exceeded");

    let response = server
        .chat(Some("sk-test"), &ask("fault-429", "x", true))
        .header("x-sandbox-retry-after-secs", "7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["retry-after"], "7");

    let response = send(&server, Some("sk-test"), "fault-401", "x", true).await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_of(response).await["code"], "invalid_api_key");

    let response = send(&server, Some("sk-test"), "fault-500", "x", false).await;
    assert_eq!(response.status(), 500);
    assert_eq!(error_of(response).await["type"], "server_error");
}

#[tokio::test]
async fn fault_keys_are_refused_and_recorded() {
    let server = spawn().await;
    let mark = marker("keys");
    let bad = send(&server, Some("sk-bad-1"), "sandbox-chat", &mark, true).await;
    assert_eq!(bad.status(), 401);
    let limited = send(&server, Some("sk-limited-1"), "sandbox-chat", &mark, true).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    let good = send(&server, Some("sk-good"), "sandbox-chat", &mark, true).await;
    assert_eq!(good.status(), 200);
    read_stream(good).await;

    let records = server.received(&mark).await;
    let seen: Vec<(&str, u64)> = records
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), r["status"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        seen,
        vec![("sk-good", 200), ("sk-limited-1", 429), ("sk-bad-1", 401)]
    );
}

#[tokio::test]
async fn cut_after_2_sends_two_chunks_then_aborts() {
    let server = spawn().await;
    let mark = marker("cut");
    let response = send(&server, Some("sk-test"), "fault-cut-after-2", &mark, true).await;
    assert_eq!(response.status(), 200);
    let streamed = read_stream(response).await;
    assert!(streamed.error.is_some(), "the body must end in an error");
    assert!(!streamed.data.iter().any(|d| d == "[DONE]"));
    let chunks = streamed.chunks();
    assert_eq!(chunks.len(), 3, "role chunk and two content chunks");
    assert!(
        chunks
            .iter()
            .all(|c| c["choices"][0]["finish_reason"].is_null())
    );
    let answer: Vec<char> = expected_answer(&mark).chars().collect();
    let expected: Vec<String> = answer
        .chunks(8)
        .take(2)
        .map(|c| c.iter().collect())
        .collect();
    assert_eq!(streamed.contents(), expected);

    let record = &server.received(&mark).await[0];
    assert_eq!(record["completed"], false);
    assert_eq!(record["chunks_sent"], 2);
    assert!(record["client_disconnected_at"].is_null());
}

#[tokio::test]
async fn stall_sends_the_role_chunk_then_nothing() {
    let server = spawn().await;
    let mark = marker("stall");
    let response = send(&server, Some("sk-test"), "fault-stall", &mark, true).await;
    assert_eq!(response.status(), 200);
    let mut response = response;
    let first = response.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("\"role\":\"assistant\""));
    let next = tokio::time::timeout(Duration::from_millis(300), response.chunk()).await;
    assert!(next.is_err(), "nothing may follow the role chunk");
}
