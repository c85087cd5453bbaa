//! Chat test set-up: the sandbox LLM as its own process, chat-api pointed at
//! it, and signed-in users with chat times (written straight to the database
//! and the session store; the endpoint under test is chat, not accounts).

use std::process::Stdio;
use std::time::Duration;

use futures::StreamExt;
use paychat_common::auth::{Role, Sessions};
use paychat_common::redis::Keys;
use paychat_common::testing;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::helpers::{TestApp, spawn_app_with};

/// Every fault model the sandbox knows that the tests use, besides the normal one.
pub const TEST_MODELS: &str = "sandbox-chat,fault-401,fault-429,fault-500,fault-cut-after-0,fault-cut-after-2,fault-stall,\
     fault-headers-after-30000";

pub const ANSWER_TAIL: &str = " -- answered by the PayChat sandbox model.";

pub fn expected_answer(prompt: &str) -> String {
    format!("Echo: {prompt}{ANSWER_TAIL}")
}

pub fn marker(name: &str) -> String {
    format!("{name}-{}", testing::unique("m"))
}

/// The sandbox LLM, stopped when dropped.
pub struct Sandbox {
    pub base: String,
    _child: Child,
}

impl Sandbox {
    pub async fn start(chunk_delay_ms: u64) -> Self {
        let binary = testing::target_binary("paychat-sandbox-llm").unwrap();
        let port = testing::free_port().unwrap();
        let child = Command::new(&binary)
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--chunk-delay-ms",
                &chunk_delay_ms.to_string(),
                "--chunk-chars",
                "8",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("starting the sandbox LLM");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Self {
                    base,
                    _child: child,
                };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the sandbox LLM did not come up on port {port}");
    }

    /// Requests the sandbox received whose messages contain `marker`, newest first.
    pub async fn received(&self, marker: &str) -> Vec<Value> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/sim/requests", self.base),
            [("marker", marker), ("limit", "1000")],
        )
        .unwrap();
        let page: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        page["items"].as_array().cloned().unwrap_or_default()
    }
}

pub struct ChatTest {
    pub app: TestApp,
    pub llm: Sandbox,
    sessions: Sessions,
}

pub struct User {
    pub id: i64,
    pub token: String,
}

/// A finished stream: the HTTP status, and the events (name, data) in order.
#[derive(Debug)]
pub struct Streamed {
    pub status: u16,
    pub events: Vec<(String, Value)>,
    pub body: Value,
}

impl Streamed {
    pub fn names(&self) -> Vec<&str> {
        self.events.iter().map(|(n, _)| n.as_str()).collect()
    }

    pub fn text(&self) -> String {
        self.events
            .iter()
            .filter(|(n, _)| n == "delta")
            .map(|(_, d)| d["content"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn event(&self, name: &str) -> &Value {
        &self
            .events
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name} event in {:?}", self.events))
            .1
    }
}

/// Parses `event:` / `data:` blocks; comment lines (keep-alives) are skipped.
pub fn parse_sse(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            (!data.is_empty()).then(|| (name, serde_json::from_str(&data).unwrap()))
        })
        .collect()
}

pub async fn spawn_chat() -> ChatTest {
    spawn_chat_with(2, &[]).await
}

pub async fn spawn_chat_with(chunk_delay_ms: u64, extra: &[(&str, String)]) -> ChatTest {
    let llm = Sandbox::start(chunk_delay_ms).await;
    let mut overrides: Vec<(&str, String)> = vec![
        ("llm_base_url", format!("{}/v1", llm.base)),
        ("llm_api_keys", "sk-test-good".into()),
        ("llm_models", TEST_MODELS.into()),
        ("llm_default_model", "sandbox-chat".into()),
        ("llm_idle_timeout_ms", "5000".into()),
        ("llm_first_byte_timeout_ms", "2500".into()),
    ];
    overrides.extend(extra.iter().cloned());
    let app = spawn_app_with(&overrides).await;
    let redis = paychat_common::redis::connect(&app.config.common.redis_url).unwrap();
    let sessions = Sessions::new(
        redis,
        Keys::new(app.config.common.redis_prefix.clone()),
        Duration::from_secs(3600),
    );
    ChatTest { app, llm, sessions }
}

impl ChatTest {
    pub async fn user_with(&self, times: i32, role: Role) -> User {
        static IDS: std::sync::LazyLock<paychat_common::ids::IdGenerator> =
            std::sync::LazyLock::new(|| paychat_common::ids::IdGenerator::with_worker(1023));
        let id = IDS.next();
        sqlx::query(
            "INSERT INTO chat_user (id, nickname, can_conversation_times, role) VALUES (?, ?, ?, ?)",
        )
        .bind(id)
        .bind(format!("u{}", id % 100_000))
        .bind(times)
        .bind(role.as_str())
        .execute(&self.app.db)
        .await
        .unwrap();
        let issued = self.sessions.create(id, role).await.unwrap();
        User {
            id,
            token: issued.token,
        }
    }

    pub async fn user(&self, times: i32) -> User {
        self.user_with(times, Role::User).await
    }

    pub async fn times(&self, user: &User) -> i64 {
        let t: i32 =
            sqlx::query_scalar("SELECT can_conversation_times FROM chat_user WHERE id = ?")
                .bind(user.id)
                .fetch_one(&self.app.db)
                .await
                .unwrap();
        i64::from(t)
    }

    pub async fn message_count(&self, user: &User) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM chat_message WHERE user_id = ?")
            .bind(user.id)
            .fetch_one(&self.app.db)
            .await
            .unwrap()
    }

    pub async fn room_count(&self, user: &User) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM chat_room WHERE user_id = ?")
            .bind(user.id)
            .fetch_one(&self.app.db)
            .await
            .unwrap()
    }

    pub fn get(&self, user: &User, path: &str) -> reqwest::RequestBuilder {
        self.app
            .client
            .get(self.app.url(path))
            .bearer_auth(&user.token)
    }

    pub fn request(
        &self,
        method: reqwest::Method,
        user: &User,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(&user.token)
    }

    /// `GET path` as `user`; answers the JSON body.
    pub async fn get_json(&self, user: &User, path: &str) -> Value {
        self.app.read_json(self.get(user, path)).await
    }

    /// `PATCH /api/chat/rooms/{room}` with a new title, as `user`.
    pub async fn rename_room(&self, user: &User, room: &str, title: &str) -> reqwest::Response {
        self.request(
            reqwest::Method::PATCH,
            user,
            &format!("/api/chat/rooms/{room}"),
        )
        .json(&json!({ "title": title }))
        .send()
        .await
        .unwrap()
    }

    /// `DELETE /api/chat/rooms/{room}`, as `user`.
    pub async fn delete_room(&self, user: &User, room: &str) -> reqwest::Response {
        self.request(
            reqwest::Method::DELETE,
            user,
            &format!("/api/chat/rooms/{room}"),
        )
        .send()
        .await
        .unwrap()
    }

    pub fn complete(&self, user: &User, body: &Value) -> reqwest::RequestBuilder {
        self.app
            .client
            .post(self.app.url("/api/chat/completions"))
            .bearer_auth(&user.token)
            .json(body)
    }

    /// Sends a completion and reads the whole answer.
    pub async fn stream(&self, user: &User, body: Value) -> Streamed {
        let res = self.complete(user, &body).send().await.unwrap();
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = res.text().await.unwrap();
        if content_type.starts_with("text/event-stream") {
            Streamed {
                status,
                events: parse_sse(&text),
                body: Value::Null,
            }
        } else {
            Streamed {
                status,
                events: Vec::new(),
                body: serde_json::from_str(&text).unwrap_or(Value::Null),
            }
        }
    }

    /// A finished exchange in a new room, or in `room`.
    pub async fn ask(&self, user: &User, prompt: &str, room: Option<&str>) -> Streamed {
        let mut body = json!({ "prompt": prompt });
        if let Some(room) = room {
            body["room_id"] = json!(room);
        }
        let s = self.stream(user, body).await;
        assert_eq!(s.status, 200, "{s:?}");
        assert_eq!(s.names().last(), Some(&"done"), "{s:?}");
        s
    }
}

/// Reads an SSE response until `stop` says so, returning the events so far.
pub async fn read_until(
    res: reqwest::Response,
    stop: impl Fn(&[(String, Value)]) -> bool,
) -> (Vec<(String, Value)>, impl Drop) {
    let mut stream = res.bytes_stream();
    let mut text = String::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("the stream went silent")
            .expect("the stream ended early")
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        // Only whole blocks are parsed.
        let complete = text.rsplit_once("\n\n").map_or("", |(done, _)| done);
        let events = parse_sse(complete);
        if stop(&events) {
            return (events, StreamHolder(Some(Box::new(stream))));
        }
    }
}

/// Keeps a response body open until dropped.
pub struct StreamHolder(Option<Box<dyn std::any::Any + Send>>);

impl Drop for StreamHolder {
    fn drop(&mut self) {
        self.0.take();
    }
}
