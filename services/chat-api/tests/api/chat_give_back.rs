//! A completion that delivers no answer costs nothing: the chat time and the
//! stream slot come back however it ends — the browser gives up before the
//! upstream answers, the request deadline passes, the browser leaves before
//! the first token, or the exchange cannot be saved.

use std::time::Duration;

use paychat_common::testing::{self, eventually};
use serde_json::{Value, json};

use futures::StreamExt;
use paychat_chat_api::chat::slots::{self, Admission, Limits};
use paychat_common::redis::Keys;

use crate::chat_support::{ChatTest, User, marker, parse_sse, read_until, spawn_chat_with};

/// An upstream that holds its headers back far longer than anyone waits.
const SLOW_HEADERS: &str = "fault-headers-after-30000";

/// The first-byte wait is longer than the request timeout (15 s by default),
/// as in production, so only the give-back can free what the request took.
const LONG_FIRST_BYTE: (&str, &str) = ("llm_first_byte_timeout_ms", "20000");

/// Long enough to stay in the first-byte wait, short of any server timeout.
const CLIENT_PATIENCE: Duration = Duration::from_secs(1);

async fn spawn(extra: &[(&str, &str)]) -> ChatTest {
    let extra: Vec<(&str, String)> = extra.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    spawn_chat_with(2, &extra).await
}

/// Sends a completion on the slow upstream and gives up before its headers.
async fn give_up_waiting(t: &ChatTest, user: &User, prompt: &str) {
    let res = t
        .complete(user, &json!({ "prompt": prompt, "model": SLOW_HEADERS }))
        .timeout(CLIENT_PATIENCE)
        .send()
        .await;
    let error = res.expect_err("the slow upstream answered before the client gave up");
    assert!(error.is_timeout(), "{error}");
}

async fn times_become(t: &ChatTest, user: &User, times: i64) -> bool {
    eventually(Duration::from_secs(3), || async {
        t.times(user).await == times
    })
    .await
}

/// A normal completion goes through (the slot is free again) within a short
/// wait; the first one that is not refused is read to its end.
async fn chats_again(t: &ChatTest, user: &User) -> bool {
    eventually(Duration::from_secs(3), || async {
        let s = t.stream(user, json!({ "prompt": marker("again") })).await;
        assert!(
            s.status == 200 || s.status == 429,
            "unexpected answer: {s:?}"
        );
        s.status == 200 && s.names().last() == Some(&"done")
    })
    .await
}

#[tokio::test]
async fn a_client_that_gives_up_before_the_headers_gets_its_time_and_slot_back() {
    let t = spawn(&[LONG_FIRST_BYTE, ("chat_max_streams_per_user", "1")]).await;
    let user = t.user(2).await;
    let prompt = marker("slow headers");
    give_up_waiting(&t, &user, &prompt).await;

    assert!(
        times_become(&t, &user, 2).await,
        "the chat time was kept: {} left",
        t.times(&user).await
    );
    // The upstream request is let go with the browser's.
    let upstream_gone = eventually(Duration::from_secs(3), || async {
        t.llm
            .received(&prompt)
            .await
            .first()
            .is_some_and(|r| !r["client_disconnected_at"].is_null())
    })
    .await;
    assert!(upstream_gone, "{:?}", t.llm.received(&prompt).await);
    // One slot only: it must be free for the next question to stream.
    assert!(chats_again(&t, &user).await, "the stream slot was kept");
    assert_eq!(t.times(&user).await, 1);
    assert_eq!(t.message_count(&user).await, 2);
}

#[tokio::test]
async fn two_abandoned_tries_do_not_lock_the_user_out() {
    let t = spawn(&[LONG_FIRST_BYTE, ("chat_max_streams_per_user", "2")]).await;
    let user = t.user(3).await;
    give_up_waiting(&t, &user, &marker("first try")).await;
    give_up_waiting(&t, &user, &marker("second try")).await;

    assert!(chats_again(&t, &user).await, "locked out after two tries");
    assert!(times_become(&t, &user, 2).await);
}

#[tokio::test]
async fn the_header_wait_ends_within_the_request_deadline() {
    let t = spawn(&[LONG_FIRST_BYTE, ("request_timeout_ms", "1500")]).await;
    let user = t.user(1).await;
    let s = t
        .stream(
            &user,
            json!({ "prompt": marker("deadline"), "model": SLOW_HEADERS }),
        )
        .await;
    // The relay's own answer (nothing was used), not the generic request timeout.
    assert_eq!(s.status, 503, "{s:?}");
    assert_eq!(s.body["error"]["code"], "upstream_unavailable", "{s:?}");
    assert!(times_become(&t, &user, 1).await);
    assert!(chats_again(&t, &user).await);
}

#[tokio::test]
async fn a_client_leaving_before_the_first_token_gets_its_time_back() {
    // Slow chunks: the browser has `meta` but no token when it leaves.
    let t = spawn_chat_with(3000, &[("chat_max_streams_per_user", "1".into())]).await;
    let user = t.user(1).await;
    let res = t
        .complete(&user, &json!({ "prompt": marker("leaves early") }))
        .send()
        .await
        .unwrap();
    let (events, body) = read_until(res, |e| e.iter().any(|(n, _)| n == "meta")).await;
    assert!(events.iter().all(|(n, _)| n != "delta"), "{events:?}");
    drop(body);

    assert!(times_become(&t, &user, 1).await, "the chat time was kept");
    assert!(
        chats_again_slowly(&t, &user).await,
        "the stream slot was kept"
    );
}

/// [`chats_again`] on a slow upstream: only the start of the answer is read.
async fn chats_again_slowly(t: &ChatTest, user: &User) -> bool {
    eventually(Duration::from_secs(3), || async {
        let res = t
            .complete(user, &json!({ "prompt": marker("again") }))
            .send()
            .await
            .unwrap();
        res.status() == 200
    })
    .await
}

#[tokio::test]
async fn a_failed_exchange_insert_gives_the_time_back() {
    // The rows are written at the first token; a message that already holds
    // the question's id makes that insert fail on the unique message id, as a
    // real constraint would.
    let t = spawn_chat_with(600, &[]).await;
    let user = t.user(1).await;
    let res = t
        .complete(&user, &json!({ "prompt": marker("unsaved") }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut events = Events::new(res);
    let meta = events.until("meta").await;
    assert!(
        events.seen.iter().all(|(n, _)| n != "delta"),
        "{:?}",
        events.seen
    );
    let question_id = meta["question_id"].as_str().unwrap().to_owned();
    sqlx::query(
        "INSERT INTO chat_message (id, user_id, message_id, message_type, chat_room_id, \
         api_type, content, status) VALUES (?, ?, ?, 1, 1, 'openai', 'in the way', 2)",
    )
    .bind(i64::from_str_radix(&testing::unique("")[..12], 16).unwrap())
    .bind(user.id)
    .bind(&question_id)
    .execute(&t.app.db)
    .await
    .unwrap();

    // The answer streams to its end; only saving it failed.
    let done = events.until("done").await;
    assert_eq!(done["remaining_times"], 1, "{:?}", events.seen);
    assert!(times_become(&t, &user, 1).await, "the chat time was kept");
    let answers: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM chat_message WHERE user_id = ? AND message_type = 2",
    )
    .bind(user.id)
    .fetch_one(&t.app.db)
    .await
    .unwrap();
    assert_eq!(answers, 0);
}

#[tokio::test]
async fn a_slot_nobody_gives_back_lapses_on_its_own_while_the_user_keeps_chatting() {
    let t = spawn(&[]).await;
    let redis = paychat_common::redis::connect(&t.app.config.common.redis_url).unwrap();
    let keys = Keys::new(t.app.config.common.redis_prefix.clone());
    let limits = Limits {
        per_window: 1000,
        window: Duration::from_secs(60),
        max_streams: 2,
        slot_lifetime: Duration::from_secs(1),
    };
    let next_id = std::sync::atomic::AtomicI64::new(1);
    let admit = || {
        let id = next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        slots::admit(&redis, &keys, 7, id, limits)
    };
    // A copy that died mid-stream: its slot is never given back.
    let Admission::Admitted(slot) = admit().await.unwrap() else {
        panic!("the first slot was refused");
    };
    let _held_by_a_dead_copy = std::mem::ManuallyDrop::new(slot);
    // The user keeps chatting on the other slot, and now and then holds two
    // at once: were the dead slot renewed by the others, that never works.
    let both_free = eventually(Duration::from_secs(4), || async {
        let Admission::Admitted(first) = admit().await.unwrap() else {
            panic!("the second slot was refused");
        };
        let second = admit().await.unwrap();
        first.release().await;
        match second {
            Admission::Admitted(second) => {
                second.release().await;
                true
            }
            Admission::TooManyStreams => false,
            Admission::RateLimited { .. } => panic!("rate limited"),
        }
    })
    .await;
    assert!(both_free, "the lapsed slot still counts");
}

/// An event stream read a piece at a time.
struct Events {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    text: String,
    seen: Vec<(String, Value)>,
}

impl Events {
    fn new(res: reqwest::Response) -> Self {
        Self {
            body: Box::pin(res.bytes_stream()),
            text: String::new(),
            seen: Vec::new(),
        }
    }

    /// Reads on to the first event called `name`; answers its data.
    async fn until(&mut self, name: &str) -> Value {
        loop {
            if let Some((_, data)) = self.seen.iter().find(|(n, _)| n == name) {
                return data.clone();
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.body.next())
                .await
                .expect("the stream went silent")
                .unwrap_or_else(|| panic!("the stream ended without {name}: {:?}", self.seen))
                .unwrap();
            self.text.push_str(std::str::from_utf8(&chunk).unwrap());
            // Only whole blocks are parsed.
            if let Some((whole, rest)) = self.text.rsplit_once("\n\n") {
                self.seen.extend(parse_sse(whole));
                self.text = rest.to_owned();
            }
        }
    }
}
