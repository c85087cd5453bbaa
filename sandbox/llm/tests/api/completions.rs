//! The happy path: streamed and whole answers in OpenAI's format, models, health.

use serde_json::{Value, json};

use crate::helpers::{expected_answer, marker, read_stream, spawn};

#[tokio::test]
async fn stream_sends_role_content_finish_usage_and_done_in_order() {
    let server = spawn().await;
    let prompt = format!("héllo 你好 {}", marker("stream"));
    let body = json!({
        "model": "sandbox-chat",
        "stream": true,
        "stream_options": {"include_usage": true},
        "messages": [
            {"role": "system", "content": "be kind"},
            {"role": "user", "content": "earlier"},
            {"role": "assistant", "content": "Echo: earlier"},
            {"role": "user", "content": prompt},
        ],
    });
    let response = server.chat(Some("sk-test"), &body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let streamed = read_stream(response).await;
    streamed.assert_clean_end();

    let chunks = streamed.chunks();
    let id = chunks[0]["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-"));
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], id);
        assert_eq!(chunk["model"], "sandbox-chat");
        assert!(chunk["created"].as_i64().unwrap() > 0);
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert_eq!(chunks[0]["choices"][0]["finish_reason"], Value::Null);
    assert_eq!(chunks[0]["usage"], Value::Null);

    let answer = expected_answer(&prompt);
    let contents = streamed.contents();
    assert_eq!(contents.concat(), answer);
    assert_eq!(contents.len(), answer.chars().count().div_ceil(8));
    assert!(contents.iter().all(|c| c.chars().count() <= 8));

    let n = chunks.len();
    let finish = &chunks[n - 2];
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");

    let usage_chunk = &chunks[n - 1];
    assert_eq!(usage_chunk["choices"], json!([]));
    let prompt_tokens: u64 = ["be kind", "earlier", "Echo: earlier", prompt.as_str()]
        .iter()
        .map(|t| (t.chars().count() as u64).div_ceil(4))
        .sum();
    let completion_tokens = (answer.chars().count() as u64).div_ceil(4);
    assert_eq!(
        usage_chunk["usage"],
        json!({
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        })
    );
    // role + contents + finish + usage
    assert_eq!(n, 1 + contents.len() + 2);
}

#[tokio::test]
async fn stream_without_usage_ends_with_finish_then_done() {
    let server = spawn().await;
    let body = json!({
        "model": "sandbox-chat-mini",
        "stream": true,
        "messages": [{"role": "user", "content": "hi"}],
    });
    let response = server
        .chat(Some("sk-test"), &body)
        .header("x-sandbox-chunk-chars", "5")
        .header("x-sandbox-chunk-delay-ms", "0")
        .send()
        .await
        .unwrap();
    let streamed = read_stream(response).await;
    streamed.assert_clean_end();
    let chunks = streamed.chunks();
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    let contents = streamed.contents();
    assert_eq!(contents.concat(), expected_answer("hi"));
    assert_eq!(contents.len(), expected_answer("hi").len().div_ceil(5));
    assert_eq!(contents[0], "Echo:");
}

#[tokio::test]
async fn a_fixed_chunk_count_streams_that_many_full_chunks() {
    let server = spawn().await;
    let body = json!({
        "model": "sandbox-chat",
        "stream": true,
        "messages": [{"role": "user", "content": "hi"}],
    });
    let response = server
        .chat(Some("sk-test"), &body)
        .header("x-sandbox-chunks", "30")
        .header("x-sandbox-chunk-chars", "21")
        .header("x-sandbox-chunk-delay-ms", "0")
        .send()
        .await
        .unwrap();
    let streamed = read_stream(response).await;
    streamed.assert_clean_end();
    let contents = streamed.contents();
    assert_eq!(contents.len(), 30);
    assert!(contents.iter().all(|c| c.len() == 21));
    // The ordinary answer, repeated to fill the chunks.
    let answer = expected_answer("hi");
    let expected: String = answer.chars().cycle().take(30 * 21).collect();
    assert_eq!(contents.concat(), expected);

    let refused = server
        .chat(Some("sk-test"), &body)
        .header("x-sandbox-chunks", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn whole_answer_has_message_and_usage() {
    let server = spawn().await;
    let body = json!({
        "model": "sandbox-chat",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "multi"}, {"type": "text", "text": "part"}]}],
    });
    let response = server.chat(Some("sk-test"), &body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let completion: Value = response.json().await.unwrap();
    assert_eq!(completion["object"], "chat.completion");
    assert!(completion["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(completion["model"], "sandbox-chat");
    let choice = &completion["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["message"]["role"], "assistant");
    let answer = expected_answer("multipart");
    assert_eq!(choice["message"]["content"], answer.as_str());
    let completion_tokens = (answer.chars().count() as u64).div_ceil(4);
    assert_eq!(
        completion["usage"],
        json!({"prompt_tokens": 3, "completion_tokens": completion_tokens, "total_tokens": 3 + completion_tokens})
    );
}

#[tokio::test]
async fn bad_bodies_and_headers_are_400_in_openai_shape() {
    let server = spawn().await;
    let response = server
        .chat(Some("sk-test"), &json!({"model": "sandbox-chat"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["param"], "messages");

    let body = json!({"model": "sandbox-chat", "messages": [{"role": "user", "content": "x"}]});
    let response = server
        .chat(Some("sk-test"), &body)
        .header("x-sandbox-chunk-chars", "zero")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    let body = json!({"model": "fault-418", "messages": [{"role": "user", "content": "x"}]});
    let response = server.chat(Some("sk-test"), &body).send().await.unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn models_and_health() {
    let server = spawn().await;
    let models: Value = server
        .client
        .get(format!("{}/v1/models", server.base))
        .bearer_auth("sk-test")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert_eq!(m["object"], "model");
            assert_eq!(m["owned_by"], "sandbox");
            assert!(m["created"].is_i64());
            m["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(ids, vec!["sandbox-chat", "sandbox-chat-mini"]);

    let health = server
        .client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
