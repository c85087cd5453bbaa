//! `POST /v1/chat/completions`: checks the key, applies fault switches, then
//! answers in one JSON body or as an OpenAI-style SSE stream paced by tokio timers.

use std::{io, time::Duration};

use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    AppState,
    answer::{answer_for, count_tokens, fixed_length, last_user_text, prompt_tokens, split_chunks},
    faults::{self, Fault},
    openai::{self, ApiError, CompletionId, Usage},
    records::{DisconnectGuard, Record, RequestInfo},
};

/// Per-request override of the pause before each content chunk, in milliseconds.
pub const CHUNK_DELAY_HEADER: &str = "x-sandbox-chunk-delay-ms";
/// Per-request override of the characters per content chunk.
pub const CHUNK_CHARS_HEADER: &str = "x-sandbox-chunk-chars";
/// Per-request override of the number of content chunks (the answer is
/// repeated or cut to fill exactly that many).
pub const CHUNKS_HEADER: &str = "x-sandbox-chunks";
/// Per-request override of the `Retry-After` seconds of a 429.
pub const RETRY_AFTER_HEADER: &str = "x-sandbox-retry-after-secs";

/// The longest pause a request may ask for; longer is surely a mistake.
const MAX_CHUNK_DELAY_MS: u64 = 60_000;
/// The most chunks a request may ask for (the answer is held in memory).
const MAX_CHUNKS: u64 = 100_000;

#[derive(Debug, Deserialize)]
struct ChatRequest {
    model: Option<String>,
    messages: Option<Vec<Value>>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
}

#[derive(Debug, Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: Option<bool>,
}

/// A request that passed validation.
struct Valid {
    model: String,
    messages: Vec<Value>,
    stream: bool,
    include_usage: bool,
}

fn validate(body: &[u8]) -> Result<Valid, ApiError> {
    let request: ChatRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid_request(format!("We could not parse the JSON body: {e}"), None)
    })?;
    let model = request.model.filter(|m| !m.is_empty()).ok_or_else(|| {
        ApiError::invalid_request("you must provide a model parameter", Some("model"))
    })?;
    let messages = request.messages.filter(|m| !m.is_empty()).ok_or_else(|| {
        ApiError::invalid_request("'messages' must be a non-empty array", Some("messages"))
    })?;
    Ok(Valid {
        model,
        messages,
        stream: request.stream.unwrap_or(false),
        include_usage: request
            .stream_options
            .and_then(|o| o.include_usage)
            .unwrap_or(false),
    })
}

fn bearer_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then(|| key.to_owned())
}

fn header_number(headers: &HeaderMap, name: &'static str) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::invalid_request(format!("header {name} must be a whole number"), None)
        })
}

/// How fast and in what pieces the answer streams.
struct Pacing {
    delay: Duration,
    chunk_chars: usize,
    chunks: Option<usize>,
}

fn pacing(state: &AppState, headers: &HeaderMap) -> Result<Pacing, ApiError> {
    let delay = match header_number(headers, CHUNK_DELAY_HEADER)? {
        Some(ms) if ms > MAX_CHUNK_DELAY_MS => {
            return Err(ApiError::invalid_request(
                format!("header {CHUNK_DELAY_HEADER} must be at most {MAX_CHUNK_DELAY_MS}"),
                None,
            ));
        }
        Some(ms) => Duration::from_millis(ms),
        None => state.config.chunk_delay,
    };
    let chunk_chars = match header_number(headers, CHUNK_CHARS_HEADER)? {
        Some(0) => {
            return Err(ApiError::invalid_request(
                format!("header {CHUNK_CHARS_HEADER} must be at least 1"),
                None,
            ));
        }
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        None => state.config.chunk_chars,
    };
    let chunks = match header_number(headers, CHUNKS_HEADER)? {
        Some(n) if n == 0 || n > MAX_CHUNKS => {
            return Err(ApiError::invalid_request(
                format!("header {CHUNKS_HEADER} must be from 1 to {MAX_CHUNKS}"),
                None,
            ));
        }
        Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        None => state.config.chunks,
    };
    Ok(Pacing {
        delay,
        chunk_chars,
        chunks,
    })
}

/// Answers `error` and notes it on the record.
fn refuse(record: &Record, error: ApiError) -> Response {
    record.set_status(error.status.as_u16());
    record.finish(false);
    error.into_response()
}

pub async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let key = bearer_key(&headers);
    let request = match validate(&body) {
        Ok(request) => request,
        // OpenAI checks the key before it reads the body.
        Err(_) if key.is_none() => return ApiError::missing_key().into_response(),
        Err(error) => return error.into_response(),
    };
    let ident = CompletionId {
        id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        created: chrono::Utc::now().timestamp(),
        model: request.model.clone(),
    };
    let record = state.recorder.start(RequestInfo {
        id: ident.id.clone(),
        key: key.clone(),
        model: request.model.clone(),
        messages: Value::Array(request.messages.clone()),
        stream: request.stream,
        include_usage: request.include_usage,
    });

    let Some(key) = key else {
        return refuse(&record, ApiError::missing_key());
    };
    if let Some(allowed) = &state.config.api_keys
        && !allowed.contains(&key)
    {
        return refuse(&record, ApiError::invalid_key(&key));
    }
    let retry_after = match header_number(&headers, RETRY_AFTER_HEADER) {
        Ok(secs) => secs.unwrap_or(state.config.retry_after_secs),
        Err(error) => return refuse(&record, error),
    };
    let pacing = match pacing(&state, &headers) {
        Ok(pacing) => pacing,
        Err(error) => return refuse(&record, error),
    };
    let model_fault = match faults::from_model(&request.model) {
        Ok(fault) => fault,
        Err(message) => return refuse(&record, ApiError::invalid_request(message, Some("model"))),
    };
    // A refused key wins over the model's fault, as a real provider checks keys first.
    match faults::from_key(&key).or(model_fault) {
        Some(Fault::Unauthorized) => return refuse(&record, ApiError::invalid_key(&key)),
        Some(Fault::RateLimited) => return refuse(&record, ApiError::rate_limited(retry_after)),
        Some(Fault::ServerError) => return refuse(&record, ApiError::server_error()),
        Some(Fault::CutAfter(_) | Fault::Stall | Fault::HeadersAfter(_)) | None => {}
    }

    let mut answer = answer_for(&last_user_text(&request.messages));
    if let Some(chunks) = pacing.chunks {
        answer = fixed_length(&answer, chunks.saturating_mul(pacing.chunk_chars));
    }
    let usage = Usage {
        prompt_tokens: prompt_tokens(&request.messages),
        completion_tokens: count_tokens(&answer),
    };
    record.set_status(StatusCode::OK.as_u16());
    let guard = DisconnectGuard::new(record);
    if let Some(Fault::HeadersAfter(ms)) = model_fault {
        // The guard lives in this future, so a client that gives up while the
        // headers are held back is recorded as gone.
        tokio::time::sleep(Duration::from_millis(ms.min(MAX_CHUNK_DELAY_MS))).await;
    }

    if request.stream {
        let id = ident.id.clone();
        let stream = AnswerStream {
            guard,
            ident,
            chunks: split_chunks(&answer, pacing.chunk_chars),
            next: 0,
            phase: Phase::Role,
            delay: pacing.delay,
            include_usage: request.include_usage,
            usage,
            fault: model_fault,
        };
        let mut response = Response::new(Body::from_stream(stream.into_stream()));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        insert_request_id(headers, &id);
        return response;
    }

    whole_answer(guard, ident, answer, usage, model_fault, pacing.delay).await
}

fn insert_request_id(headers: &mut HeaderMap, id: &str) {
    if let Ok(value) = HeaderValue::from_str(id) {
        headers.insert("x-request-id", value);
    }
}

/// The non-streamed answer, with the same faults applied to a single body.
async fn whole_answer(
    mut guard: DisconnectGuard,
    ident: CompletionId,
    answer: String,
    usage: Usage,
    fault: Option<Fault>,
    delay: Duration,
) -> Response {
    match fault {
        Some(Fault::Stall) => {
            // The guard lives in this future; hyper drops the future when the
            // client leaves, and the guard records that.
            std::future::pending::<()>().await;
            unreachable!("a pending future never completes")
        }
        Some(Fault::CutAfter(_)) => {
            guard.end(false);
            let cut = futures::stream::once(async move {
                tokio::time::sleep(delay).await;
                Err::<Bytes, _>(io::Error::other("sandbox fault: connection cut"))
            });
            let mut response = Response::new(Body::from_stream(cut));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        _ => {
            guard.end(true);
            let mut response = Json(openai::completion(&ident, &answer, usage)).into_response();
            insert_request_id(response.headers_mut(), &ident.id);
            response
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Role,
    Content,
    Finish,
    Usage,
    Done,
    Ended,
}

/// Everything the streaming body needs; it owns the [`DisconnectGuard`], so
/// dropping the body (client gone) is what records the disconnect.
struct AnswerStream {
    guard: DisconnectGuard,
    ident: CompletionId,
    chunks: Vec<String>,
    next: usize,
    phase: Phase,
    delay: Duration,
    include_usage: bool,
    usage: Usage,
    fault: Option<Fault>,
}

type Frame = Result<Bytes, io::Error>;

impl AnswerStream {
    fn into_stream(self) -> impl futures::Stream<Item = Frame> + Send + 'static {
        futures::stream::unfold(self, |mut s| async move {
            let frame = s.step().await?;
            Some((frame, s))
        })
    }

    fn frame(&self, chunk: &Value) -> Frame {
        Ok(openai::sse_frame(&chunk.to_string()))
    }

    /// The next frame, or `None` once the stream has ended.
    async fn step(&mut self) -> Option<Frame> {
        loop {
            match self.phase {
                Phase::Role => {
                    self.phase = Phase::Content;
                    let delta = json!({"role": "assistant", "content": ""});
                    return Some(self.frame(&openai::chunk(
                        &self.ident,
                        delta,
                        None,
                        self.include_usage,
                    )));
                }
                Phase::Content => {
                    match self.fault {
                        Some(Fault::Stall) => std::future::pending::<()>().await,
                        Some(Fault::CutAfter(n)) if self.next >= n => {
                            // One pending poll lets hyper flush what was already
                            // written before the error makes it drop the connection.
                            tokio::time::sleep(self.delay.max(Duration::from_millis(1))).await;
                            self.guard.end(false);
                            self.phase = Phase::Ended;
                            return Some(Err(io::Error::other("sandbox fault: connection cut")));
                        }
                        _ => {}
                    }
                    let Some(content) = self.chunks.get(self.next).cloned() else {
                        self.phase = Phase::Finish;
                        continue;
                    };
                    tokio::time::sleep(self.delay).await;
                    self.next += 1;
                    self.guard.record().chunk_sent();
                    let delta = json!({"content": content});
                    return Some(self.frame(&openai::chunk(
                        &self.ident,
                        delta,
                        None,
                        self.include_usage,
                    )));
                }
                Phase::Finish => {
                    self.phase = if self.include_usage {
                        Phase::Usage
                    } else {
                        Phase::Done
                    };
                    let chunk =
                        openai::chunk(&self.ident, json!({}), Some("stop"), self.include_usage);
                    return Some(self.frame(&chunk));
                }
                Phase::Usage => {
                    self.phase = Phase::Done;
                    return Some(self.frame(&openai::usage_chunk(&self.ident, self.usage)));
                }
                Phase::Done => {
                    self.phase = Phase::Ended;
                    self.guard.end(true);
                    return Some(Ok(Bytes::from_static(b"data: [DONE]\n\n")));
                }
                Phase::Ended => return None,
            }
        }
    }
}
