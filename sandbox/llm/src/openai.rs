//! OpenAI's wire format: completion and chunk JSON, and the error responses
//! (`{"error": {"message", "type", "param", "code"}}`).

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// Token usage as OpenAI reports it.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Usage {
    pub fn to_json(self) -> Value {
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        })
    }
}

/// The identity every chunk of one completion repeats.
#[derive(Debug, Clone)]
pub struct CompletionId {
    pub id: String,
    pub created: i64,
    pub model: String,
}

/// The whole non-streamed answer.
pub fn completion(ident: &CompletionId, content: &str, usage: Usage) -> Value {
    json!({
        "id": ident.id,
        "object": "chat.completion",
        "created": ident.created,
        "model": ident.model,
        "system_fingerprint": null,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop",
        }],
        "usage": usage.to_json(),
    })
}

/// One `chat.completion.chunk` with a single choice. When the client asked for
/// usage, OpenAI sends `"usage": null` on every chunk but the last, so we do too.
pub fn chunk(
    ident: &CompletionId,
    delta: Value,
    finish_reason: Option<&str>,
    include_usage: bool,
) -> Value {
    let mut chunk = json!({
        "id": ident.id,
        "object": "chat.completion.chunk",
        "created": ident.created,
        "model": ident.model,
        "system_fingerprint": null,
        "choices": [{
            "index": 0,
            "delta": delta,
            "logprobs": null,
            "finish_reason": finish_reason,
        }],
    });
    if include_usage {
        chunk["usage"] = Value::Null;
    }
    chunk
}

/// The last chunk when `stream_options.include_usage` is true: no choices, only usage.
pub fn usage_chunk(ident: &CompletionId, usage: Usage) -> Value {
    json!({
        "id": ident.id,
        "object": "chat.completion.chunk",
        "created": ident.created,
        "model": ident.model,
        "system_fingerprint": null,
        "choices": [],
        "usage": usage.to_json(),
    })
}

/// One Server-Sent Events frame carrying `data`.
pub fn sse_frame(data: &str) -> bytes::Bytes {
    bytes::Bytes::from(format!("data: {data}\n\n"))
}

/// An error answered before any streaming, in OpenAI's shape.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub kind: &'static str,
    pub param: Option<&'static str>,
    pub code: Option<&'static str>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn missing_key() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            message: "You didn't provide an API key. You need to provide your API key in an \
                      Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                .into(),
            kind: "invalid_request_error",
            param: None,
            code: None,
            retry_after_secs: None,
        }
    }

    pub fn invalid_key(key: &str) -> Self {
        // Like OpenAI, show only the ends of the key.
        let chars: Vec<char> = key.chars().collect();
        let shown = if chars.len() > 8 {
            let head: String = chars[..3].iter().collect();
            let tail: String = chars[chars.len() - 4..].iter().collect();
            format!("{head}***{tail}")
        } else {
            "***".to_owned()
        };
        Self {
            status: StatusCode::UNAUTHORIZED,
            message: format!("Incorrect API key provided: {shown}."),
            kind: "invalid_request_error",
            param: None,
            code: Some("invalid_api_key"),
            retry_after_secs: None,
        }
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!(
                "Rate limit reached for requests. Please try again in {retry_after_secs}s."
            ),
            kind: "requests",
            param: None,
            code: Some("rate_limit_exceeded"),
            retry_after_secs: Some(retry_after_secs),
        }
    }

    pub fn server_error() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "The server had an error while processing your request. Sorry about that!"
                .into(),
            kind: "server_error",
            param: None,
            code: None,
            retry_after_secs: None,
        }
    }

    pub fn invalid_request(message: impl Into<String>, param: Option<&'static str>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            kind: "invalid_request_error",
            param,
            code: None,
            retry_after_secs: None,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.to_json())).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
