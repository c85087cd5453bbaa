//! Starting a server and talking to it like an OpenAI client would.

use std::time::Duration;

use futures::StreamExt;
use paychat_sandbox_llm::{Config, serve};
use serde_json::Value;

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
}

/// A server with fast pacing so tests stay quick.
pub async fn spawn() -> TestServer {
    spawn_with(Config {
        chunk_delay: Duration::from_millis(2),
        chunk_chars: 8,
        ..Config::default()
    })
    .await
}

pub async fn spawn_with(config: Config) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, config));
    TestServer {
        base: format!("http://{address}"),
        client: reqwest::Client::new(),
    }
}

/// A marker unique to one test, to find its requests in `/sim/requests`.
pub fn marker(name: &str) -> String {
    format!("{name}-{}", uuid::Uuid::new_v4().simple())
}

impl TestServer {
    pub fn chat(&self, key: Option<&str>, body: &Value) -> reqwest::RequestBuilder {
        let request = self
            .client
            .post(format!("{}/v1/chat/completions", self.base))
            .json(body);
        match key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    /// Every record `/sim/requests` holds for `marker`, newest first.
    pub async fn received(&self, marker: &str) -> Vec<Value> {
        let page: Value = self
            .client
            .get(
                reqwest::Url::parse_with_params(
                    &format!("{}/sim/requests", self.base),
                    [("marker", marker), ("limit", "10000")],
                )
                .unwrap(),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["items"].as_array().unwrap().clone()
    }
}

/// What a streamed body delivered: the `data:` payloads in order, and whether
/// the body ended with a transport error instead of a clean end.
pub struct Streamed {
    pub data: Vec<String>,
    pub error: Option<reqwest::Error>,
}

impl Streamed {
    /// The JSON chunks (every payload but `[DONE]`).
    pub fn chunks(&self) -> Vec<Value> {
        self.data
            .iter()
            .filter(|d| d.as_str() != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    /// Asserts the body ended cleanly: no transport error, `[DONE]` last.
    pub fn assert_clean_end(&self) {
        assert!(self.error.is_none(), "clean end expected: {:?}", self.error);
        assert_eq!(self.data.last().map(String::as_str), Some("[DONE]"));
    }

    /// The `delta.content` of every chunk after the role chunk that has one.
    pub fn contents(&self) -> Vec<String> {
        self.chunks()
            .iter()
            .skip(1)
            .filter_map(|c| {
                c["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }
}

pub async fn read_stream(response: reqwest::Response) -> Streamed {
    let mut body = response.bytes_stream();
    let mut buffer = Vec::new();
    let mut error = None;
    while let Some(next) = body.next().await {
        match next {
            Ok(bytes) => buffer.extend_from_slice(&bytes),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let text = String::from_utf8(buffer).unwrap();
    let data = text
        .split("\n\n")
        .filter(|frame| !frame.is_empty())
        .map(|frame| frame.strip_prefix("data: ").unwrap().to_owned())
        .collect();
    Streamed { data, error }
}

/// The expected answer to a last user message `m`.
pub fn expected_answer(m: &str) -> String {
    format!("Echo: {m} -- answered by the PayChat sandbox model.")
}
