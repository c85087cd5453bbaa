//! The relay: the browser's event stream itself reads the upstream, so a delta
//! goes from the upstream socket to the browser's in one task, with no channel
//! and no second task to wake on every chunk.
//!
//! The exchange is saved however it ends. When the upstream ends (done or
//! failed) the stream saves it in a task of its own, so that a browser leaving
//! during the save cannot cut the save short, and sends the last event. When
//! the browser leaves first, axum drops the stream: the upstream request goes
//! with it at once, and the drop hands the partial answer to a task that saves
//! it as interrupted.
//!
//! The chat time is kept only when the answer reached the browser (at least
//! one token) and the exchange was recorded; on every other ending it is
//! given back, exactly once, and the stream slot is released however the
//! stream ends.

use std::borrow::Cow;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{FutureExt, Stream};
use serde::Deserialize;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Sleep;

use super::charge::ChatTime;
use super::context::{Context, count_tokens, prompt_tokens};
use super::queries::{Finished, NewExchange};
use super::quiet::Quiet;
use super::slots::StreamSlot;
use super::sse::{DataEvents, frame};
use super::types::{DeltaEvent, DoneEvent, ErrorEvent, MessageStatus, Usage};
use super::upstream_conn::{self, Answer};
use super::writer;
use crate::state::AppState;

/// An opened exchange, ready to be relayed.
pub struct Relay {
    pub state: AppState,
    pub exchange: Arc<NewExchange>,
    /// What was sent; counted only if the upstream reports no usage.
    pub context: Context,
    pub response: Answer,
    pub slot: StreamSlot,
    pub time: ChatTime,
    pub started: Instant,
}

/// One upstream event; the text is borrowed from the frame when it can be.
#[derive(Debug, Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    choices: Vec<Choice<'a>>,
    usage: Option<UpstreamUsage>,
    error: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Choice<'a> {
    #[serde(borrow)]
    delta: Option<Delta<'a>>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Delta<'a> {
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct UpstreamUsage {
    prompt_tokens: i64,
    completion_tokens: i64,
}

enum Outcome {
    Done,
    Failed { code: &'static str, detail: String },
    ClientGone,
}

type Frames = DataEvents<Answer>;

/// What closing the exchange needs, however it ends.
struct Closing {
    state: AppState,
    exchange: Arc<NewExchange>,
    context: Context,
    slot: StreamSlot,
    time: ChatTime,
    insert: JoinHandle<sqlx::Result<()>>,
    started: Instant,
}

/// How far the answer got.
#[derive(Default)]
struct Progress {
    answer: String,
    usage: Option<UpstreamUsage>,
    finish_reason: Option<String>,
}

/// The state of one browser stream.
struct Session {
    /// Lets the insert go; see [`stream`].
    go: Option<oneshot::Sender<()>>,
    meta: Option<Bytes>,
    frames: Option<Frames>,
    progress: Progress,
    /// Ends the stream when the upstream falls silent: `first_byte` until
    /// the answer starts, `idle` after.
    quiet: Quiet,
    /// The longest the stream may last, which its slot's lifetime counts on.
    cutoff: Pin<Box<Sleep>>,
    /// A delta's window after the first (0: none), and when the current one
    /// closes.
    flush: Duration,
    window: Pin<Box<Sleep>>,
    /// How the upstream ended, held back while the delta before it goes out.
    ended: Option<Outcome>,
    stream_max: Duration,
    idle: Duration,
    /// Taken by whoever closes the exchange: the end of the stream, or the drop.
    closing: Option<Closing>,
    /// Counts this stream in `chat_streams_open` for as long as it lives.
    _open: OpenStream,
}

/// One open browser stream in the `chat_streams_open` gauge, from the first
/// event until the stream ends or the browser leaves (the drop).
struct OpenStream;

impl OpenStream {
    fn new() -> Self {
        metrics::gauge!("chat_streams_open").increment(1.0);
        Self
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!("chat_streams_open").decrement(1.0);
    }
}

/// The browser's event stream: `meta` first, the deltas, then `done` or `error`.
pub fn stream(relay: Relay, meta: Bytes) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let Relay {
        state,
        exchange,
        context,
        response,
        slot,
        time,
        started,
    } = relay;
    // The rows are written once the first delta is out (or the stream ends
    // without one): a burst of new streams then spends the database on taking
    // chat times, which the first tokens wait for, not on rows nobody waits for.
    // The question's tokens are counted there too, off the path to the first
    // one, and the rows go in with those of other streams in one commit.
    let (go, wait) = oneshot::channel::<()>();
    let insert = {
        let writer = state.chat_writer.clone();
        let exchange = exchange.clone();
        tokio::spawn(async move {
            // Sent at the first delta, dropped when the stream ends without one.
            let _ = wait.await;
            let question_tokens = count_tokens(&exchange.prompt);
            writer.insert(exchange, question_tokens).await
        })
    };
    let first_byte = state.config.relay.first_byte_timeout();
    let idle = state.config.relay.idle_timeout();
    let stream_max = state.config.relay.stream_max();
    let cutoff = tokio::time::Instant::from_std(started) + stream_max;
    let session = Session {
        go: Some(go),
        meta: Some(meta),
        frames: Some(DataEvents::new(response)),
        progress: Progress {
            // Room for a typical answer, so it rarely needs to grow.
            answer: String::with_capacity(1024),
            ..Progress::default()
        },
        quiet: Quiet::new(first_byte),
        cutoff: Box::pin(tokio::time::sleep_until(cutoff)),
        flush: state.config.relay.flush_window(),
        window: Box::pin(tokio::time::sleep(Duration::ZERO)),
        ended: None,
        stream_max,
        idle,
        closing: Some(Closing {
            state,
            exchange,
            context,
            slot,
            time,
            insert,
            started,
        }),
        _open: OpenStream::new(),
    };
    futures::stream::unfold(session, |mut session| async move {
        if let Some(meta) = session.meta.take() {
            return Some((Ok(meta), session));
        }
        let outcome = match session.next_delta().await? {
            Ok(delta) => return Some((Ok(delta), session)),
            Err(outcome) => outcome,
        };
        // Let go of the upstream before saving.
        session.frames = None;
        session.go = None;
        let closing = session.closing.take()?;
        let progress = std::mem::take(&mut session.progress);
        // In its own task: dropping this stream must not cancel the save.
        let last = tokio::spawn(close(closing, outcome, progress))
            .await
            .ok()
            .flatten()?;
        Some((Ok(last), session))
    })
}

/// What one upstream event did to the answer.
enum Step {
    /// Nothing for the browser (a role chunk, usage, an unreadable event).
    Nothing,
    Content,
    End(Outcome),
}

/// Takes one upstream event (or the end of the upstream) into the answer.
fn step(
    p: &mut Progress,
    quiet: &mut Quiet,
    idle: Duration,
    next: Option<Result<&[u8], upstream_conn::Error>>,
) -> Step {
    let data = match next {
        Some(Ok(data)) => data,
        None if p.finish_reason.is_some() => return Step::End(Outcome::Done),
        None => {
            return Step::End(Outcome::Failed {
                code: "upstream_error",
                detail: "the upstream stream ended before it finished".into(),
            });
        }
        Some(Err(error)) => {
            return Step::End(Outcome::Failed {
                code: "upstream_error",
                detail: format!("reading the upstream stream failed: {error}"),
            });
        }
    };
    let data = data.trim_ascii();
    if data == b"[DONE]" {
        return Step::End(Outcome::Done);
    }
    let Ok(chunk) = serde_json::from_slice::<Chunk<'_>>(data) else {
        return Step::Nothing;
    };
    if let Some(error) = chunk.error {
        return Step::End(Outcome::Failed {
            code: "upstream_error",
            detail: format!("upstream error event: {error}"),
        });
    }
    if chunk.usage.is_some() {
        p.usage = chunk.usage;
    }
    let before = p.answer.len();
    for choice in chunk.choices {
        if let Some(text) = choice.delta.and_then(|d| d.content) {
            p.answer.push_str(&text);
        }
        if choice.finish_reason.is_some() {
            p.finish_reason = choice.finish_reason;
        }
    }
    if before == 0 && !p.answer.is_empty() {
        // The answer has started: from now on silence is measured against idle.
        quiet.set_wait(idle);
    } else {
        quiet.heard();
    }
    if p.answer.len() == before {
        Step::Nothing
    } else {
        Step::Content
    }
}

impl Session {
    /// The next delta for the browser, or how the upstream ended; `None`
    /// once the stream is over.
    ///
    /// The first delta goes out as soon as it arrives. After it, the upstream
    /// is read once per flush window, when the window closes: what the model
    /// wrote meanwhile waits in the socket, which no longer wakes anything, is
    /// read in one go and goes out as one delta; a window in which nothing
    /// came is followed by another. Windows close on the ticks of one clock a
    /// quarter window apart, so one wake-up serves the windows of many
    /// streams. A 200-chunk answer costs about 50 reads, writes and task
    /// wake-ups instead of 200 of each, and no event waits longer than a
    /// window and a quarter.
    async fn next_delta(&mut self) -> Option<Result<Bytes, Outcome>> {
        if let Some(end) = self.ended.take() {
            return Some(Err(end));
        }
        let frames = self.frames.as_mut()?;
        let p = &mut self.progress;
        let before = p.answer.len();
        let paced = before > 0 && !self.flush.is_zero();
        while p.answer.len() == before && self.ended.is_none() {
            let next = tokio::select! {
                biased;
                // Paced: the window's close, then what is there, without waiting.
                () = &mut self.window, if paced => None,
                next = frames.next(), if !paced => Some(next),
                () = self.quiet.silence() => {
                    return Some(Err(Outcome::Failed {
                        code: "upstream_timeout",
                        detail: format!("no upstream event for {} ms", self.quiet.wait().as_millis()),
                    }));
                }
                () = &mut self.cutoff => {
                    return Some(Err(Outcome::Failed {
                        code: "upstream_timeout",
                        detail: format!("the answer took longer than {} s", self.stream_max.as_secs()),
                    }));
                }
            };
            if let Some(next) = next {
                if let Step::End(end) = step(p, &mut self.quiet, self.idle, next) {
                    return Some(Err(end));
                }
                continue;
            }
            while let Some(next) = frames.next().now_or_never() {
                match step(p, &mut self.quiet, self.idle, next) {
                    Step::Nothing | Step::Content => {}
                    Step::End(end) if p.answer.len() > before => {
                        self.ended = Some(end);
                        break;
                    }
                    Step::End(end) => return Some(Err(end)),
                }
            }
            if p.answer.len() == before && self.ended.is_none() {
                let next = on_grid(tokio::time::Instant::now() + self.flush, self.flush / 4);
                self.window.as_mut().reset(next);
            }
        }
        if !self.flush.is_zero() {
            let next = on_grid(tokio::time::Instant::now() + self.flush, self.flush / 4);
            self.window.as_mut().reset(next);
            if before == 0 {
                // From here on the upstream is read when a window closes, so
                // what the model writes in between need not wake anything.
                frames.source().read_on_demand();
            }
        }
        if let Some(go) = self.go.take() {
            let _ = go.send(());
        }
        if before == 0
            && let Some(closing) = &self.closing
        {
            metrics::histogram!("chat_time_to_first_token_seconds")
                .record(closing.started.elapsed().as_secs_f64());
        }
        Some(Ok(frame(
            "delta",
            &DeltaEvent {
                content: &p.answer[before..],
            },
        )))
    }
}

/// `at`, moved later onto the next multiple of `grid` since the process began,
/// so that the windows of all streams close together on a few ticks of the
/// clock, and the process wakes once for many of them.
fn on_grid(at: tokio::time::Instant, grid: Duration) -> tokio::time::Instant {
    static BASE: std::sync::OnceLock<tokio::time::Instant> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(tokio::time::Instant::now);
    let grid = grid.as_nanos().max(1);
    let past = at.saturating_duration_since(base).as_nanos() % grid;
    let late = (grid - past) % grid;
    at + Duration::from_nanos(u64::try_from(late).unwrap_or(0))
}

impl Drop for Session {
    fn drop(&mut self) {
        // Still open: the browser left before the upstream ended.
        let Some(closing) = self.closing.take() else {
            return;
        };
        // A leaving browser must not keep the model writing.
        self.frames = None;
        self.go = None;
        let progress = std::mem::take(&mut self.progress);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(close(closing, Outcome::ClientGone, progress));
            }
            Err(_) => tracing::error!(
                answer_id = closing.exchange.answer_id,
                "no runtime to save an interrupted answer"
            ),
        }
    }
}

/// Saves the exchange, settles the chat time, gives the slot back, and builds
/// the last event (none when the browser is gone).
async fn close(closing: Closing, outcome: Outcome, progress: Progress) -> Option<Bytes> {
    let Closing {
        state,
        exchange,
        context,
        slot,
        time,
        insert,
        started,
    } = closing;
    let Progress {
        answer,
        usage,
        finish_reason,
    } = progress;
    let (status, error_data, code) = match &outcome {
        Outcome::Done => (MessageStatus::Done, None, None),
        Outcome::Failed { code, detail } => {
            (MessageStatus::Error, Some(detail.clone()), Some(*code))
        }
        Outcome::ClientGone => (
            MessageStatus::Interrupted,
            Some("the client went away".to_owned()),
            None,
        ),
    };
    let (prompt_tokens, completion_tokens) = match usage {
        Some(u) => (u.prompt_tokens, u.completion_tokens),
        None => (
            context
                .prompt_tokens
                .unwrap_or_else(|| prompt_tokens(&context.messages)),
            count_tokens(&answer),
        ),
    };
    drop(context);
    let delivered = !answer.is_empty();

    let (remaining, refund) = save(
        &state,
        insert,
        &exchange,
        Finished {
            answer_id: exchange.answer_id,
            content: &answer,
            status,
            error_data,
            prompt_tokens,
            completion_tokens,
        },
        time,
        delivered,
    )
    .await;
    slot.release().await;

    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        user_id = exchange.user_id,
        room_id = exchange.room_id,
        answer_id = exchange.answer_id,
        status = status.as_str(),
        chars = answer.chars().count(),
        refunded = refund,
        duration_ms = elapsed_ms,
        "chat stream ended"
    );
    metrics::counter!("chat_streams_total", "status" => status.as_str()).increment(1);

    match (outcome, code) {
        (Outcome::Done, _) => Some(frame(
            "done",
            &DoneEvent {
                usage: Usage {
                    prompt_tokens,
                    completion_tokens,
                    total_tokens: prompt_tokens + completion_tokens,
                },
                remaining_times: remaining.unwrap_or(0),
                finish_reason,
            },
        )),
        (Outcome::ClientGone, _) => None,
        (Outcome::Failed { .. }, code) => {
            let (code, message) = if !delivered {
                (
                    "upstream_unavailable",
                    "the model failed before answering; your chat time was given back".to_owned(),
                )
            } else {
                (
                    code.unwrap_or("upstream_error"),
                    "the model stopped in the middle of its answer; the part received is kept"
                        .to_owned(),
                )
            };
            Some(frame("error", &ErrorEvent { code, message }))
        }
    }
}

/// Stores how the answer ended (after the opening insert has landed), settles
/// the chat time, and reads the balance; answers the balance and whether the
/// time was given back.
///
/// The time is kept only for an answer that was `delivered` (a token reached
/// the browser) and recorded. Otherwise it goes back in the transaction that
/// closes the answer, and only if that transaction closed it, which keeps the
/// give-back to exactly once; when the exchange was never recorded there is
/// nothing to close and nobody else to give it back. Should that transaction
/// fail, an unrecorded exchange's guard, still armed, gives the time back on
/// its own, and a recorded one's answer is left streaming for the answer sweep
/// (giving it back here too would give it twice). The
/// transaction is the writer's, shared with other streams' closes and
/// inserts (see [`writer`]).
async fn save(
    state: &AppState,
    insert: JoinHandle<sqlx::Result<()>>,
    exchange: &NewExchange,
    finished: Finished<'_>,
    time: ChatTime,
    delivered: bool,
) -> (Option<i64>, bool) {
    let recorded = match insert.await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::error!(error = %error, answer_id = exchange.answer_id, "saving the exchange failed");
            false
        }
        Err(error) => {
            tracing::error!(error = %error, answer_id = exchange.answer_id, "saving the exchange panicked");
            false
        }
    };
    let refund = !(delivered && recorded);
    // A recorded exchange's time is settled through its answer row; only a
    // time never recorded is still the guard's to give back.
    let owed = if !recorded {
        Some(time)
    } else {
        if refund {
            time.recorded();
        } else {
            time.keep();
        }
        None
    };
    let closing = writer::Closing {
        user_id: exchange.user_id,
        answer_id: finished.answer_id,
        content: finished.content.to_owned(),
        status: finished.status,
        error_data: finished.error_data,
        prompt_tokens: finished.prompt_tokens,
        completion_tokens: finished.completion_tokens,
        refund,
        recorded,
    };
    // Closing the answer and giving the time back land together.
    match state.chat_writer.close(closing).await {
        Ok(closed) => {
            if closed.given_back {
                super::charge::count_returned();
            }
            if let Some(time) = owed {
                time.settled();
            }
            (Some(closed.remaining), refund)
        }
        Err(error) => {
            tracing::error!(error = %error, answer_id = exchange.answer_id, "closing the answer failed");
            (None, refund)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn windows_close_on_the_shared_ticks_never_sooner() {
        let grid = Duration::from_millis(5);
        let tick = on_grid(tokio::time::Instant::now() + grid, grid);
        assert_eq!(on_grid(tick, grid), tick, "a tick is its own close");
        for offset_us in [1, 999, 4_999, 5_000, 12_345, 20_000] {
            let at = tick + Duration::from_micros(offset_us);
            let closes = on_grid(at, grid);
            assert!(closes >= at, "a window closed before its time");
            assert!(closes - at < grid, "a window waited a whole tick or more");
            let past_tick = (closes - tick).as_micros() % 5_000;
            assert_eq!(past_tick, 0, "a close off the clock's ticks");
        }
        // Times within one tick close together.
        let near = tick + Duration::from_micros(1);
        let later = tick + Duration::from_micros(4_999);
        assert_eq!(on_grid(near, grid), on_grid(later, grid));
    }
}
