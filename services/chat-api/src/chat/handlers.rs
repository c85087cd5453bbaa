//! `POST /api/chat/completions` (the streamed answer) and `GET /api/chat/models`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use paychat_common::ApiError;
use paychat_common::auth::AuthUser;
use paychat_common::http::ClientIp;
use paychat_common::json::Json;
use serde::Serialize;

use super::charge::ChatTime;
use super::context::{self, Turn};
use super::error::ChatError;
use super::queries::{self, NewExchange};
use super::relay::{self, Relay};
use super::settings::RelaySettings;
use super::slots::{self, Admission, Limits};
use super::sse;
use super::types::{CompletionRequest, MetaEvent, Model, ModelList};
use super::upstream::Key;
use crate::state::AppState;

/// Room titles are the first prompt, cut to this many characters.
const TITLE_CHARS: usize = 50;

#[utoipa::path(get, path = "/api/chat/models", tag = "chat",
    responses((status = 200, body = ModelList)))]
pub async fn models(State(state): State<AppState>) -> axum::Json<ModelList> {
    // The configured models the console has not switched off.
    let items = state
        .upstream
        .catalog()
        .current()
        .models
        .iter()
        .map(|m| Model {
            id: m.clone(),
            name: m.clone(),
        })
        .collect();
    axum::Json(ModelList { items })
}

fn title_of(prompt: &str) -> String {
    let words: Vec<&str> = prompt.split_whitespace().collect();
    let line = words.join(" ");
    let mut title: String = line.chars().take(TITLE_CHARS).collect();
    if line.chars().count() > TITLE_CHARS {
        title.push('…');
    }
    title
}

/// Where the new question hangs: its room, whether that room is new, and
/// the message it follows.
struct Placement {
    room_id: i64,
    new_room: bool,
    parent: Option<String>,
}

/// One query at most: a new room needs none.
async fn place(
    state: &AppState,
    user_id: i64,
    request: &CompletionRequest,
) -> Result<Placement, ChatError> {
    let room = match request.room_id.as_deref() {
        Some(text) => Some(text.parse::<i64>().map_err(|_| ChatError::NotFound)?),
        None => None,
    };
    if let Some(parent) = request.parent_message_id.as_deref() {
        let mut conn = state.db.acquire().await?;
        let room_id = queries::room_of_message(&mut conn, user_id, parent)
            .await?
            .ok_or(ChatError::NotFound)?;
        if room.is_some_and(|r| r != room_id) {
            return Err(ChatError::NotFound);
        }
        return Ok(Placement {
            room_id,
            new_room: false,
            parent: Some(parent.to_owned()),
        });
    }
    match room {
        Some(room_id) => {
            let mut conn = state.db.acquire().await?;
            let tail = queries::room_tail(&mut conn, user_id, room_id)
                .await?
                .ok_or(ChatError::NotFound)?;
            Ok(Placement {
                room_id,
                new_room: false,
                // An edited or regenerated first question starts over at the root.
                parent: if request.from_root { None } else { tail },
            })
        }
        None => Ok(Placement {
            room_id: state.ids.next(),
            new_room: true,
            parent: None,
        }),
    }
}

#[utoipa::path(post, path = "/api/chat/completions", tag = "chat",
    request_body = CompletionRequest,
    responses(
        (status = 200, description = "text/event-stream: meta, delta…, then done or error", content_type = "text/event-stream"),
        (status = 400), (status = 401), (status = 402), (status = 404), (status = 429), (status = 503)
    ))]
pub async fn completions(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    Json(request): Json<CompletionRequest>,
) -> Result<Response, ChatError> {
    let started = Instant::now();
    let settings = &state.config.relay;
    let prompt = request.prompt.trim();
    if prompt.is_empty() {
        return Err(ChatError::EmptyPrompt);
    }
    if prompt.chars().count() > settings.prompt_max_chars as usize {
        return Err(ChatError::PromptTooLong(settings.prompt_max_chars));
    }
    let model = request
        .model
        .clone()
        .unwrap_or_else(|| settings.llm_default_model.clone());
    // Unknown, or switched off in the console.
    if !state.upstream.catalog().offers(&model) {
        return Err(ChatError::UnknownModel);
    }
    if state.sensitive.is_match(prompt) {
        tracing::info!(user_id = user.user_id, "prompt refused: sensitive content");
        return Err(ChatError::Sensitive);
    }
    // Everything before the chat time is taken goes out at once: the room
    // lookup to the database, the rate, the stream slot and the upstream key
    // rests to Redis (on one connection, so as one round trip).
    let limits = Limits {
        per_window: settings.chat_requests_per_minute,
        window: Duration::from_secs(60),
        max_streams: settings.chat_max_streams_per_user,
        slot_lifetime: settings.slot_lifetime(),
    };
    let slot_id = state.ids.next();
    let (placement, admission, keys) = tokio::join!(
        place(&state, user.user_id, &request),
        slots::admit(&state.redis, &state.keys, user.user_id, slot_id, limits),
        state.upstream.candidates(),
    );
    let admission = admission.map_err(ApiError::from);
    let placement = match placement {
        Ok(placement) => placement,
        Err(error) => {
            if let Ok(Admission::Admitted(slot)) = admission {
                slot.release().await;
            }
            return Err(error);
        }
    };
    let slot = match admission? {
        Admission::Admitted(slot) => slot,
        Admission::RateLimited { retry_after_secs } => {
            return Err(ApiError::RateLimited { retry_after_secs }.into());
        }
        Admission::TooManyStreams => {
            return Err(ApiError::RateLimited {
                retry_after_secs: 1,
            }
            .into());
        }
    };
    // From here on the slot (and, once taken, the chat time) is owned by a
    // guard: if this future is dropped (the browser left, the request timed
    // out), dropping them gives both back.
    match start(
        &state,
        &user,
        ip.to_string(),
        prompt,
        model,
        placement,
        keys,
        started,
    )
    .await
    {
        Ok(opened) => Ok(respond(
            settings,
            Relay {
                state: state.clone(),
                exchange: opened.exchange,
                context: opened.context,
                response: opened.response,
                slot,
                time: opened.time,
                started,
            },
        )),
        Err(error) => {
            slot.release().await;
            Err(error)
        }
    }
}

/// The browser's event stream over the relay, `meta` first.
fn respond(settings: &RelaySettings, relay: Relay) -> Response {
    let meta = sse::frame(
        "meta",
        &MetaEvent {
            room_id: relay.exchange.room_id.to_string(),
            question_id: relay.exchange.question_id.to_string(),
            answer_id: relay.exchange.answer_id.to_string(),
            model: relay.exchange.model.clone(),
        },
    );
    let events = sse::KeepAlive::new(
        Box::pin(relay::stream(relay, meta)),
        Duration::from_secs(settings.chat_keepalive_secs),
    );
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(events),
    )
        .into_response()
}

/// An exchange whose chat time is taken and whose upstream answered.
struct Opened {
    exchange: Arc<NewExchange>,
    context: context::Context,
    response: super::upstream_conn::Answer,
    time: ChatTime,
}

/// The body of the upstream request.
#[derive(Serialize)]
struct UpstreamRequest<'a> {
    model: &'a str,
    messages: &'a [Turn],
    stream: bool,
    stream_options: StreamOptions,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// Takes the chat time, builds the context, opens the upstream and prepares
/// the stream; the time is given back if the upstream cannot be opened.
#[expect(clippy::too_many_arguments, reason = "the parts of one request")]
async fn start(
    state: &AppState,
    user: &AuthUser,
    ip: String,
    prompt: &str,
    model: String,
    placement: Placement,
    keys: Vec<Arc<Key>>,
    started: Instant,
) -> Result<Opened, ChatError> {
    let settings = &state.config.relay;
    // The chain is read on a second connection while the time is taken; it is
    // thrown away if there was no time to take.
    let take = ChatTime::take(&state.chat_writer, &state.db, user.user_id);
    let read_chain = async {
        match placement.parent.as_deref() {
            None => Ok(Vec::new()),
            Some(start) => {
                let mut conn = state.db.acquire().await?;
                let limit = context::chain_limit(settings.context_max_messages);
                queries::chain(&mut conn, user.user_id, start, limit).await
            }
        }
    };
    let (taken, chain) = tokio::join!(take, read_chain);
    let Some(time) = taken? else {
        return Err(ChatError::NoChatTimes);
    };
    let chain = match chain {
        Ok(chain) => chain,
        Err(error) => {
            time.give_back().await;
            return Err(error.into());
        }
    };
    let ctx = context::fit(
        chain,
        placement.room_id,
        prompt,
        settings.context_max_messages,
        settings.context_max_tokens,
    );
    let body = UpstreamRequest {
        model: &model,
        messages: &ctx.messages,
        stream: true,
        stream_options: StreamOptions {
            include_usage: true,
        },
    };
    let header_wait = settings.header_wait(started.elapsed());
    let opened = match state.upstream.open(keys, &model, &body, header_wait).await {
        Ok(opened) => opened,
        Err(error) => {
            tracing::warn!(user_id = user.user_id, error = %error, "upstream unavailable; chat time given back");
            time.give_back().await;
            return Err(ChatError::Unavailable);
        }
    };

    let exchange = NewExchange {
        user_id: user.user_id,
        room_id: placement.room_id,
        new_room_title: placement.new_room.then(|| title_of(prompt)),
        question_id: state.ids.next(),
        answer_id: state.ids.next(),
        parent_message_id: placement.parent,
        prompt: prompt.to_owned(),
        model,
        key_fingerprint: opened.fingerprint,
        ip,
        context_count: ctx.history,
    };
    Ok(Opened {
        exchange: Arc::new(exchange),
        context: ctx,
        response: opened.response,
        time,
    })
}
