//! Server-sent events both ways, at the relay's rate of one event every few
//! milliseconds per stream: the upstream's `data:` payloads are cut out of the
//! bytes as they arrive, into one buffer reused for every event, and each
//! browser event is written once into the bytes that go out. The format is
//! the WHATWG one (lines end in LF, CRLF or CR; an event ends at a blank line;
//! `data` lines join with LF; comments and other fields are skipped).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};

use super::quiet::Quiet;

/// The `data` of each upstream event, read from a byte stream.
pub struct DataEvents<S> {
    bytes: S,
    /// Received and not yet cut into lines.
    buf: BytesMut,
    /// The current event's data, reused from one event to the next.
    data: Vec<u8>,
    /// Whether the current event has a `data` field (it may be empty).
    has_data: bool,
    ended: bool,
}

impl<S, E> DataEvents<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    pub fn new(bytes: S) -> Self {
        Self {
            bytes,
            buf: BytesMut::with_capacity(1024),
            data: Vec::with_capacity(256),
            has_data: false,
            ended: false,
        }
    }

    /// The byte stream the events are read from.
    pub fn source(&self) -> &S {
        &self.bytes
    }

    /// The next event's data; `None` when the stream has ended (an event cut
    /// off by the end is dropped, as the format says).
    pub async fn next(&mut self) -> Option<Result<&[u8], E>> {
        loop {
            if self.take_event() {
                return Some(Ok(&self.data));
            }
            if self.ended {
                return None;
            }
            match self.bytes.next().await {
                Some(Ok(bytes)) => self.buf.extend_from_slice(&bytes),
                Some(Err(error)) => return Some(Err(error)),
                None => self.ended = true,
            }
        }
    }

    /// Reads whole lines from the buffer until one ends an event with data;
    /// answers whether one did.
    fn take_event(&mut self) -> bool {
        loop {
            let Some(end) = self.buf.iter().position(|&b| b == b'\n' || b == b'\r') else {
                return false;
            };
            let ending = if self.buf[end] == b'\n' {
                1
            } else if end + 1 < self.buf.len() {
                if self.buf[end + 1] == b'\n' { 2 } else { 1 }
            } else if self.ended {
                1
            } else {
                // A CR at the end of what arrived: an LF may follow.
                return false;
            };
            if end == 0 {
                self.buf.advance(ending);
                if std::mem::take(&mut self.has_data) {
                    return true;
                }
                continue;
            }
            let line = &self.buf[..end];
            // A comment (a line starting with a colon) has an empty field name.
            let (field, value) = match line.iter().position(|&b| b == b':') {
                Some(colon) => {
                    let value = &line[colon + 1..];
                    (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
                }
                None => (line, &b""[..]),
            };
            if field == b"data" {
                if self.has_data {
                    self.data.push(b'\n');
                } else {
                    self.data.clear();
                    self.has_data = true;
                }
                self.data.extend_from_slice(value);
            }
            self.buf.advance(end + ending);
        }
    }
}

/// One browser event, `event: <name>` with its JSON data, as it goes out.
pub fn frame<T: serde::Serialize>(name: &str, data: &T) -> Bytes {
    let mut out = Vec::with_capacity(name.len() + 64);
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    let json_start = out.len();
    // JSON holds no raw line break, so one data line carries it whole.
    if serde_json::to_writer(&mut out, data).is_err() {
        out.truncate(json_start);
        out.extend_from_slice(b"{}");
    }
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// Sends a comment once the events have paused for `every`, so that proxies
/// and browsers keep a quiet stream open.
pub struct KeepAlive<S> {
    events: S,
    quiet: Quiet,
}

impl<S> KeepAlive<S> {
    pub fn new(events: S, every: Duration) -> Self {
        Self {
            events,
            quiet: Quiet::new(every),
        }
    }
}

impl<S, E> Stream for KeepAlive<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.events.poll_next_unpin(cx) {
            Poll::Ready(Some(event)) => {
                this.quiet.heard();
                Poll::Ready(Some(event))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.quiet.poll_silence(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Ok(Bytes::from_static(KEEP_ALIVE)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tokio::time::Instant;

    use super::*;

    /// Every event's data, the input fed in the given pieces.
    async fn events(pieces: &[&str]) -> Vec<String> {
        let pieces: Vec<Result<Bytes, Infallible>> = pieces
            .iter()
            .map(|p| Ok(Bytes::copy_from_slice(p.as_bytes())))
            .collect();
        let mut reader = DataEvents::new(futures::stream::iter(pieces));
        let mut out = Vec::new();
        while let Some(Ok(data)) = reader.next().await {
            out.push(String::from_utf8_lossy(data).into_owned());
        }
        out
    }

    #[tokio::test]
    async fn reads_data_split_anywhere_and_with_every_line_ending() {
        let whole =
            "data: {\"a\":1}\n\ndata:{\"b\":2}\r\n\r\n: comment\nevent: x\ndata: c\rdata: d\r\r";
        let expected = vec!["{\"a\":1}", "{\"b\":2}", "c\nd"];
        assert_eq!(events(&[whole]).await, expected);
        // Every split point, CR and LF of one CRLF apart included.
        for cut in 1..whole.len() {
            let (a, b) = whole.split_at(cut);
            assert_eq!(events(&[a, b]).await, expected, "split at {cut}");
        }
        let bytes: Vec<String> = whole.chars().map(String::from).collect();
        let bytes: Vec<&str> = bytes.iter().map(String::as_str).collect();
        assert_eq!(events(&bytes).await, expected);
    }

    #[tokio::test]
    async fn skips_events_without_data_and_drops_a_cut_off_last_one() {
        assert_eq!(
            events(&[
                "event: ping\n\n",
                "id: 3\n\ndata\n\n",
                "data: [DONE]\n\ndata: half"
            ])
            .await,
            vec!["", "[DONE]"]
        );
    }

    #[test]
    fn frames_one_event_per_json_value() {
        let out = frame("delta", &serde_json::json!({"content": "a\nb"}));
        assert_eq!(&out[..], b"event: delta\ndata: {\"content\":\"a\\nb\"}\n\n");
    }

    #[tokio::test]
    async fn keeps_a_quiet_stream_alive() {
        let every = Duration::from_millis(100);
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, Infallible>>();
        let mut stream = KeepAlive::new(rx, every);
        tx.unbounded_send(Ok(Bytes::from_static(b"x")))
            .expect("the stream listens");
        let Some(Ok(first)) = stream.next().await else {
            panic!("the event goes through");
        };
        assert_eq!(&first[..], b"x");
        let before = Instant::now();
        let Some(Ok(comment)) = stream.next().await else {
            panic!("a keep-alive comes");
        };
        assert_eq!(&comment[..], KEEP_ALIVE);
        let waited = before.elapsed();
        assert!(waited >= every && waited < every * 2, "{waited:?}");
        drop(tx);
        assert!(stream.next().await.is_none());
    }
}
