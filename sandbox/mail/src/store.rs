//! The mailbox: the last N messages, in memory, newest first.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::parse::Parsed;

/// How many messages are kept when nothing else is said.
pub const DEFAULT_CAPACITY: usize = 5_000;

/// One received message as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredMessage {
    pub id: String,
    /// The sender: the `From` header's address, else the envelope sender.
    pub from: String,
    /// The envelope recipients (so Bcc'd addresses are found too).
    pub to: Vec<String>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub received_at: String,
    #[serde(skip)]
    pub raw: Arc<Vec<u8>>,
}

#[derive(Debug)]
struct Inner {
    capacity: usize,
    next_id: u64,
    /// Oldest at the front, newest at the back.
    messages: VecDeque<Arc<StoredMessage>>,
}

/// A shared, bounded mailbox; clones share the same messages.
#[derive(Debug, Clone)]
pub struct Mailbox {
    inner: Arc<Mutex<Inner>>,
}

/// What a listing may be narrowed to.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Only messages with this recipient (compared case-insensitively).
    pub to: Option<String>,
    pub limit: Option<usize>,
}

impl Mailbox {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                capacity: capacity.max(1),
                next_id: 1,
                messages: VecDeque::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the queue consistent; carry on.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps a message, dropping the oldest when full; returns its id.
    pub fn push(
        &self,
        envelope_from: &str,
        recipients: Vec<String>,
        raw: Vec<u8>,
        received_at: DateTime<Utc>,
    ) -> String {
        let parsed = Parsed::from_raw(&raw);
        let mut inner = self.lock();
        let id = inner.next_id.to_string();
        inner.next_id += 1;
        let message = StoredMessage {
            id: id.clone(),
            from: parsed.from.unwrap_or_else(|| envelope_from.to_owned()),
            to: recipients,
            subject: parsed.subject,
            text: parsed.text,
            html: parsed.html,
            received_at: received_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            raw: Arc::new(raw),
        };
        while inner.messages.len() >= inner.capacity {
            inner.messages.pop_front();
        }
        inner.messages.push_back(Arc::new(message));
        id
    }

    /// Newest first.
    pub fn list(&self, filter: &Filter) -> Vec<Arc<StoredMessage>> {
        let inner = self.lock();
        let limit = filter.limit.unwrap_or(usize::MAX);
        inner
            .messages
            .iter()
            .rev()
            .filter(|m| match &filter.to {
                Some(to) => m.to.iter().any(|r| r.eq_ignore_ascii_case(to.trim())),
                None => true,
            })
            .take(limit)
            .cloned()
            .collect()
    }

    pub fn get(&self, id: &str) -> Option<Arc<StoredMessage>> {
        self.lock().messages.iter().find(|m| m.id == id).cloned()
    }

    pub fn clear(&self) {
        self.lock().messages.clear();
    }

    pub fn len(&self) -> usize {
        self.lock().messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(subject: &str) -> Vec<u8> {
        format!("Subject: {subject}\r\n\r\nbody\r\n").into_bytes()
    }

    #[test]
    fn keeps_the_newest_within_capacity() {
        let mailbox = Mailbox::new(3);
        for i in 0..5 {
            mailbox.push(
                "a@x",
                vec![format!("r{i}@x")],
                raw(&i.to_string()),
                Utc::now(),
            );
        }
        let all = mailbox.list(&Filter::default());
        let subjects: Vec<_> = all.iter().map(|m| m.subject.as_str()).collect();
        assert_eq!(subjects, ["4", "3", "2"]);
        assert!(mailbox.get("1").is_none());
        assert!(mailbox.get("5").is_some());
    }

    #[test]
    fn filters_by_recipient_ignoring_case_and_limits() {
        let mailbox = Mailbox::new(10);
        mailbox.push("a@x", vec!["Bob@Example.com".into()], raw("1"), Utc::now());
        mailbox.push("a@x", vec!["eve@example.com".into()], raw("2"), Utc::now());
        mailbox.push("a@x", vec!["bob@example.com".into()], raw("3"), Utc::now());
        let filter = Filter {
            to: Some("BOB@example.COM".into()),
            limit: None,
        };
        let found: Vec<_> = mailbox
            .list(&filter)
            .iter()
            .map(|m| m.subject.clone())
            .collect();
        assert_eq!(found, ["3", "1"]);
        let filter = Filter {
            limit: Some(1),
            ..filter
        };
        assert_eq!(mailbox.list(&filter).len(), 1);
        mailbox.clear();
        assert!(mailbox.is_empty());
    }
}
