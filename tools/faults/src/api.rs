//! The HTTP client of the load: every answer passes through [`Api::send`], which
//! records each 5xx with its time so the report can tell those inside a fault
//! window from those outside.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;

use crate::processes::{port, url};

/// A 5xx seen by the load.
#[derive(Debug, Clone)]
pub struct ServerError {
    pub at: Instant,
    pub what: &'static str,
    pub status: u16,
}

pub struct Api {
    pub http: reqwest::Client,
    pub chat: String,
    pub orders: String,
    pub alipay: String,
    pub mail: String,
    pub errors: Mutex<Vec<ServerError>>,
}

/// One answer: status and JSON body (Null when there is none or it is not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Api {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(20))
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            chat: url(port::CHAT),
            orders: url(port::ORDERS),
            alipay: url(port::ALIPAY),
            mail: url(port::MAIL_HTTP),
            errors: Mutex::default(),
        })
    }

    pub fn request(&self, method: Method, url: String, token: Option<&str>) -> RequestBuilder {
        let r = self.http.request(method, url);
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    /// Sends and reads the JSON answer; `None` when no answer came (a process down).
    pub async fn send(&self, what: &'static str, req: RequestBuilder) -> Option<Answer> {
        let resp = req.send().await.ok()?;
        let status = resp.status();
        self.note(what, status);
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        Some(Answer { status, body })
    }

    /// Records a 5xx.
    pub fn note(&self, what: &'static str, status: StatusCode) {
        if status.is_server_error() {
            self.errors
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(ServerError {
                    at: Instant::now(),
                    what,
                    status: status.as_u16(),
                });
        }
    }

    pub fn server_errors(&self) -> Vec<ServerError> {
        self.errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
