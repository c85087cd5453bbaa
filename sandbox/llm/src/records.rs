//! What the server received, kept so tests can assert on it: a bounded ring
//! of request records, each updated as its answer finishes, is cut, or loses
//! its client.
//!
//! Locks here are plain `std` mutexes held for a few field writes only, never
//! across an `.await`, so thousands of concurrent streams do not contend.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

/// Fixed facts about a request, known when it arrives.
#[derive(Debug, Clone, Serialize)]
pub struct RequestInfo {
    pub id: String,
    pub key: Option<String>,
    pub model: String,
    pub messages: Value,
    pub stream: bool,
    pub include_usage: bool,
}

/// How a request has progressed so far.
#[derive(Debug, Default, Clone)]
struct Progress {
    status: u16,
    chunks_sent: usize,
    finished_at: Option<DateTime<Utc>>,
    client_disconnected_at: Option<DateTime<Utc>>,
    completed: bool,
}

/// One received chat completion request.
#[derive(Debug)]
pub struct Record {
    info: RequestInfo,
    started_at: DateTime<Utc>,
    progress: Mutex<Progress>,
}

/// The JSON shape of a record in `GET /sim/requests`.
#[derive(Debug, Serialize)]
pub struct RecordView {
    #[serde(flatten)]
    pub info: RequestInfo,
    pub status: u16,
    pub chunks_sent: usize,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub client_disconnected_at: Option<String>,
    pub completed: bool,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Record {
    fn progress(&self) -> MutexGuard<'_, Progress> {
        // A panic elsewhere never leaves these plain fields half-written.
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The HTTP status the request was answered with.
    pub fn set_status(&self, status: u16) {
        self.progress().status = status;
    }

    /// One more content chunk went out.
    pub fn chunk_sent(&self) {
        self.progress().chunks_sent += 1;
    }

    /// The answer ended: `completed` when it was delivered in full.
    pub fn finish(&self, completed: bool) {
        let mut progress = self.progress();
        if progress.finished_at.is_none() {
            progress.finished_at = Some(Utc::now());
            progress.completed = completed;
        }
    }

    /// The client went away before the answer ended.
    pub fn client_disconnected(&self) {
        let now = Utc::now();
        let mut progress = self.progress();
        if progress.finished_at.is_none() {
            progress.finished_at = Some(now);
        }
        if progress.client_disconnected_at.is_none() {
            progress.client_disconnected_at = Some(now);
        }
    }

    /// Whether any string inside the messages contains `marker`.
    pub fn mentions(&self, marker: &str) -> bool {
        contains_text(&self.info.messages, marker)
    }

    pub fn view(&self) -> RecordView {
        let progress = self.progress().clone();
        RecordView {
            info: self.info.clone(),
            status: progress.status,
            chunks_sent: progress.chunks_sent,
            started_at: rfc3339(self.started_at),
            finished_at: progress.finished_at.map(rfc3339),
            client_disconnected_at: progress.client_disconnected_at.map(rfc3339),
            completed: progress.completed,
        }
    }
}

fn contains_text(value: &Value, marker: &str) -> bool {
    match value {
        Value::String(text) => text.contains(marker),
        Value::Array(items) => items.iter().any(|v| contains_text(v, marker)),
        Value::Object(map) => map.values().any(|v| contains_text(v, marker)),
        _ => false,
    }
}

/// The last `capacity` requests, oldest first.
#[derive(Debug)]
pub struct Recorder {
    capacity: usize,
    ring: Mutex<VecDeque<Arc<Record>>>,
}

impl Recorder {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            ring: Mutex::new(VecDeque::new()),
        }
    }

    fn ring(&self) -> MutexGuard<'_, VecDeque<Arc<Record>>> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a record for a request that has just arrived.
    pub fn start(&self, info: RequestInfo) -> Arc<Record> {
        let record = Arc::new(Record {
            info,
            started_at: Utc::now(),
            progress: Mutex::new(Progress::default()),
        });
        let mut ring = self.ring();
        if ring.len() >= self.capacity {
            ring.pop_front();
        }
        ring.push_back(Arc::clone(&record));
        record
    }

    /// Newest first, only those mentioning `marker` when given, at most `limit`.
    pub fn find(&self, marker: Option<&str>, limit: usize) -> Vec<RecordView> {
        // Copy the handles out so the ring is not locked while messages are searched.
        let snapshot: Vec<Arc<Record>> = self.ring().iter().cloned().collect();
        snapshot
            .iter()
            .rev()
            .filter(|r| marker.is_none_or(|m| r.mentions(m)))
            .take(limit)
            .map(|r| r.view())
            .collect()
    }
}

/// Lives inside whatever produces an answer (the handler future, the stream
/// body). hyper drops that when the client goes away, and this guard's `Drop`
/// then stamps the disconnect, unless the answer had already ended.
#[derive(Debug)]
pub struct DisconnectGuard {
    record: Arc<Record>,
    ended: bool,
}

impl DisconnectGuard {
    pub fn new(record: Arc<Record>) -> Self {
        Self {
            record,
            ended: false,
        }
    }

    pub fn record(&self) -> &Record {
        &self.record
    }

    /// The answer ended on our side (delivered in full, or cut on purpose).
    pub fn end(&mut self, completed: bool) {
        self.ended = true;
        self.record.finish(completed);
    }
}

impl Drop for DisconnectGuard {
    fn drop(&mut self) {
        if !self.ended {
            self.record.client_disconnected();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(id: &str, text: &str) -> RequestInfo {
        RequestInfo {
            id: id.into(),
            key: Some("sk-test".into()),
            model: "sandbox-chat".into(),
            messages: json!([{"role": "user", "content": text}]),
            stream: true,
            include_usage: false,
        }
    }

    #[test]
    fn keeps_only_the_newest_and_finds_by_marker() {
        let recorder = Recorder::new(2);
        recorder.start(info("a", "alpha"));
        recorder.start(info("b", "beta x"));
        recorder.start(info("c", "gamma x"));
        let ids: Vec<String> = recorder
            .find(None, 10)
            .into_iter()
            .map(|r| r.info.id)
            .collect();
        assert_eq!(ids, vec!["c", "b"]);
        let ids: Vec<String> = recorder
            .find(Some("beta"), 10)
            .into_iter()
            .map(|r| r.info.id)
            .collect();
        assert_eq!(ids, vec!["b"]);
    }

    #[test]
    fn a_dropped_guard_marks_the_disconnect_only_if_not_ended() {
        let recorder = Recorder::new(10);
        let gone = recorder.start(info("gone", "x"));
        drop(DisconnectGuard::new(Arc::clone(&gone)));
        assert!(gone.view().client_disconnected_at.is_some());

        let done = recorder.start(info("done", "x"));
        let mut guard = DisconnectGuard::new(Arc::clone(&done));
        guard.end(true);
        drop(guard);
        let view = done.view();
        assert!(view.client_disconnected_at.is_none());
        assert!(view.completed);
        assert!(view.finished_at.is_some());
    }
}
