//! POST /api/chat/completions and GET /api/chat/models against the sandbox LLM.

use std::time::Duration;

use chrono::{DateTime, Utc};
use paychat_chat_api::chat::upstream::fingerprint;
use paychat_common::testing::eventually;
use serde_json::{Value, json};

use crate::chat_support::{
    ChatTest, Streamed, expected_answer, marker, read_until, spawn_chat, spawn_chat_with,
};

#[derive(Debug, sqlx::FromRow)]
struct SavedMessage {
    message_id: String,
    parent_message_id: Option<String>,
    message_type: i32,
    chat_room_id: i64,
    content: String,
    status: i32,
    api_key: Option<String>,
    model_name: Option<String>,
    prompt_tokens: Option<i64>,
    completion_tokens: Option<i64>,
    total_tokens: Option<i64>,
    response_error_data: Option<String>,
    context_count: i64,
    ip: Option<String>,
}

async fn saved(t: &ChatTest, message_id: &str) -> SavedMessage {
    sqlx::query_as(
        "SELECT message_id, parent_message_id, message_type, chat_room_id, content, status, \
         api_key, model_name, prompt_tokens, completion_tokens, total_tokens, \
         response_error_data, context_count, ip FROM chat_message WHERE message_id = ?",
    )
    .bind(message_id)
    .fetch_one(&t.app.db)
    .await
    .unwrap()
}

/// The answer once it is closed. When the browser leaves, the rows are written
/// and closed by a task of their own, so they can land after the test looks.
async fn closed(t: &ChatTest, answer_id: &str) -> SavedMessage {
    let status = || async {
        let row: Option<(i32,)> =
            sqlx::query_as("SELECT status FROM chat_message WHERE message_id = ?")
                .bind(answer_id)
                .fetch_optional(&t.app.db)
                .await
                .unwrap();
        row.is_some_and(|(status,)| status != 1)
    };
    assert!(
        eventually(Duration::from_secs(5), status).await,
        "answer {answer_id} was never closed"
    );
    saved(t, answer_id).await
}

fn id_of(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {v}"))
        .to_owned()
}

#[tokio::test]
async fn a_completion_streams_meta_deltas_done_and_is_saved() {
    let t = spawn_chat().await;
    let user = t.user(3).await;
    let prompt = marker("hello world 你好");
    let res = t
        .complete(&user, &json!({ "prompt": prompt }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(res.headers()["x-accel-buffering"], "no");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let s = crate::chat_support::parse_sse(&res.text().await.unwrap());
    let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"meta"));
    assert_eq!(names.last(), Some(&"done"));
    assert!(names.len() >= 4, "{names:?}");
    assert!(
        names[1..names.len() - 1].iter().all(|n| *n == "delta"),
        "{names:?}"
    );
    let text: String = s
        .iter()
        .filter(|(n, _)| n == "delta")
        .map(|(_, d)| d["content"].as_str().unwrap())
        .collect();
    assert_eq!(text, expected_answer(&prompt));

    let meta = &s[0].1;
    assert_eq!(meta["model"], "sandbox-chat");
    let done = &s.last().unwrap().1;
    assert_eq!(done["remaining_times"], 2);
    assert_eq!(done["finish_reason"], "stop");
    assert_eq!(t.times(&user).await, 2);
    // The sandbox counts ceil(chars / 4) per message; its usage is what we store.
    let answer_tokens =
        i64::try_from(expected_answer(&prompt).chars().count().div_ceil(4)).unwrap();
    assert_eq!(done["usage"]["completion_tokens"], answer_tokens);

    let answer = saved(&t, &id_of(meta, "answer_id")).await;
    let question = saved(&t, &id_of(meta, "question_id")).await;
    assert_eq!(answer.content, text);
    assert_eq!(answer.status, 2);
    assert_eq!(answer.message_type, 2);
    assert_eq!(
        answer.parent_message_id.as_deref(),
        Some(question.message_id.as_str())
    );
    assert_eq!(answer.completion_tokens, Some(answer_tokens));
    assert_eq!(
        answer.prompt_tokens,
        done["usage"]["prompt_tokens"].as_i64()
    );
    assert_eq!(
        answer.total_tokens,
        Some(answer.prompt_tokens.unwrap() + answer_tokens)
    );
    assert_eq!(answer.model_name.as_deref(), Some("sandbox-chat"));
    assert_eq!(
        answer.api_key.as_deref(),
        Some(fingerprint("sk-test-good").as_str())
    );
    assert!(answer.response_error_data.is_none());
    assert_eq!(question.content, prompt);
    assert_eq!(question.message_type, 1);
    assert_eq!(question.parent_message_id, None);
    assert_eq!(question.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(answer.chat_room_id.to_string(), id_of(meta, "room_id"));
    let title: String =
        sqlx::query_scalar("SELECT title FROM chat_room WHERE id = ? AND user_id = ?")
            .bind(answer.chat_room_id)
            .bind(user.id)
            .fetch_one(&t.app.db)
            .await
            .unwrap();
    assert_eq!(title, prompt.chars().take(50).collect::<String>());

    // The upstream got the stream request with usage asked for, and the key.
    let got = t.llm.received(&prompt).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["stream"], true);
    assert_eq!(got[0]["include_usage"], true);
    assert_eq!(got[0]["key"], "sk-test-good");
    assert_eq!(got[0]["completed"], true);
}

#[tokio::test]
async fn models_are_listed() {
    let t = spawn_chat().await;
    let body = t.app.get_public_json("/api/chat/models").await;
    assert_eq!(
        body["items"][0],
        json!({"id": "sandbox-chat", "name": "sandbox-chat"})
    );
}

#[tokio::test]
async fn without_chat_times_it_is_402_and_nothing_is_saved() {
    let t = spawn_chat().await;
    let user = t.user(0).await;
    let prompt = marker("no times");
    let s = t.stream(&user, json!({ "prompt": prompt })).await;
    assert_eq!(s.status, 402);
    assert_eq!(s.body["error"]["code"], "no_chat_times");
    assert_eq!(t.times(&user).await, 0);
    assert_eq!(t.message_count(&user).await, 0);
    assert_eq!(t.room_count(&user).await, 0);
    assert!(t.llm.received(&prompt).await.is_empty());
}

#[tokio::test]
async fn bad_prompts_and_models_are_refused_without_taking_a_time() {
    let t = spawn_chat_with(2, &[("prompt_max_chars", "20".into())]).await;
    let user = t.user(1).await;
    let too_long = t.stream(&user, json!({ "prompt": "x".repeat(21) })).await;
    assert_eq!(too_long.status, 400);
    assert_eq!(too_long.body["error"]["code"], "prompt_too_long");
    let blank = t.stream(&user, json!({ "prompt": "   " })).await;
    assert_eq!(blank.status, 400);
    assert_eq!(blank.body["error"]["code"], "invalid_request");
    let model = t
        .stream(&user, json!({ "prompt": "hi", "model": "gpt-9" }))
        .await;
    assert_eq!(model.status, 400);
    let unauth = t
        .app
        .client
        .post(t.app.url("/api/chat/completions"))
        .json(&json!({ "prompt": "hi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status(), 401);
    assert_eq!(t.times(&user).await, 1);
    assert_eq!(t.message_count(&user).await, 0);
    // Exactly 20 characters is allowed.
    let ok = t.stream(&user, json!({ "prompt": "y".repeat(20) })).await;
    assert_eq!(ok.names().last(), Some(&"done"));
}

#[tokio::test]
async fn upstream_refusals_answer_503_and_give_the_time_back() {
    // No rest, so a key refused for one fault model is tried for the next.
    let t = spawn_chat_with(2, &[("llm_key_rest_secs", "0".into())]).await;
    let user = t.user(1).await;
    for model in ["fault-401", "fault-429", "fault-500"] {
        let prompt = marker(model);
        let s = t
            .stream(&user, json!({ "prompt": prompt, "model": model }))
            .await;
        assert_eq!(s.status, 503, "{model}: {s:?}");
        assert_eq!(s.body["error"]["code"], "upstream_unavailable");
        assert_eq!(t.times(&user).await, 1, "{model}");
        assert!(
            !t.llm.received(&prompt).await.is_empty(),
            "{model} reached the sandbox"
        );
    }
    assert_eq!(t.message_count(&user).await, 0);
}

#[tokio::test]
async fn refused_keys_answer_503_and_give_the_time_back() {
    let t = spawn_chat_with(2, &[("llm_api_keys", "sk-bad-1,sk-limited-2".into())]).await;
    let user = t.user(1).await;
    let prompt = marker("bad keys");
    let s = t.stream(&user, json!({ "prompt": prompt })).await;
    assert_eq!(s.status, 503);
    assert_eq!(s.body["error"]["code"], "upstream_unavailable");
    assert_eq!(t.times(&user).await, 1);
    let mut keys: Vec<String> = t
        .llm
        .received(&prompt)
        .await
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    assert_eq!(keys, ["sk-bad-1", "sk-limited-2"]);
    // Both keys now rest: the next request does not even reach the upstream.
    let again = marker("resting");
    let s = t.stream(&user, json!({ "prompt": again })).await;
    assert_eq!(s.status, 503);
    assert!(t.llm.received(&again).await.is_empty());
    assert_eq!(t.times(&user).await, 1);
}

#[tokio::test]
async fn a_refused_key_is_skipped_for_the_next_one() {
    let t = spawn_chat_with(2, &[("llm_api_keys", "sk-bad-1,sk-good".into())]).await;
    let user = t.user(2).await;
    let prompt = marker("rotation");
    let s = t.stream(&user, json!({ "prompt": prompt })).await;
    assert_eq!(s.names().last(), Some(&"done"), "{s:?}");
    assert_eq!(s.text(), expected_answer(&prompt));
    let got = t.llm.received(&prompt).await;
    let statuses: Vec<(String, i64)> = got
        .iter()
        .rev()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                r["status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [("sk-bad-1".into(), 401), ("sk-good".into(), 200)]
    );
    let answer = saved(&t, &id_of(s.event("meta"), "answer_id")).await;
    assert_eq!(
        answer.api_key.as_deref(),
        Some(fingerprint("sk-good").as_str())
    );
    assert_eq!(t.times(&user).await, 1);

    // The refused key is resting, so the next request goes straight to the good one.
    let second = marker("rotation-2");
    let s = t.stream(&user, json!({ "prompt": second })).await;
    assert_eq!(s.names().last(), Some(&"done"));
    let got = t.llm.received(&second).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["key"], "sk-good");
}

#[tokio::test]
async fn a_cut_mid_stream_ends_with_an_error_event_and_keeps_the_part() {
    let t = spawn_chat().await;
    let user = t.user(2).await;
    let prompt = marker("cut");
    let s = t
        .stream(
            &user,
            json!({ "prompt": prompt, "model": "fault-cut-after-2" }),
        )
        .await;
    assert_eq!(s.status, 200);
    let names = s.names();
    assert_eq!(names, ["meta", "delta", "delta", "error"], "{s:?}");
    let error = s.event("error");
    assert_eq!(error["code"], "upstream_error");
    let part = s.text();
    assert_eq!(
        part,
        expected_answer(&prompt)
            .chars()
            .take(16)
            .collect::<String>()
    );
    let answer = saved(&t, &id_of(s.event("meta"), "answer_id")).await;
    assert_eq!(answer.status, 3);
    assert_eq!(answer.content, part);
    assert!(answer.response_error_data.is_some());
    // Something was streamed, so the time stays spent.
    assert_eq!(t.times(&user).await, 1);
}

#[tokio::test]
async fn a_cut_before_the_first_token_gives_the_time_back_once() {
    let t = spawn_chat().await;
    let user = t.user(1).await;
    let s = t
        .stream(
            &user,
            json!({ "prompt": marker("cut0"), "model": "fault-cut-after-0" }),
        )
        .await;
    assert_eq!(s.names(), ["meta", "error"], "{s:?}");
    assert_eq!(s.event("error")["code"], "upstream_unavailable");
    let answer = saved(&t, &id_of(s.event("meta"), "answer_id")).await;
    assert_eq!(answer.status, 3);
    assert_eq!(answer.content, "");
    assert_eq!(t.times(&user).await, 1);
}

#[tokio::test]
async fn a_stream_ends_at_its_longest_and_keeps_the_part() {
    // A chunk every 400 ms, and one second for the whole stream.
    let t = spawn_chat_with(400, &[("chat_stream_max_secs", "1".into())]).await;
    let user = t.user(1).await;
    let s = t
        .stream(&user, json!({ "prompt": marker("endless") }))
        .await;
    assert_eq!(s.names().last(), Some(&"error"), "{s:?}");
    assert_eq!(s.event("error")["code"], "upstream_timeout");
    assert!(!s.text().is_empty(), "{s:?}");
    let answer = closed(&t, &id_of(s.event("meta"), "answer_id")).await;
    assert_eq!(answer.status, 3);
    assert_eq!(answer.content, s.text());
    assert_eq!(t.times(&user).await, 0);
}

#[tokio::test]
async fn a_silent_upstream_times_out_with_an_error_event() {
    let t = spawn_chat_with(2, &[("llm_first_byte_timeout_ms", "300".into())]).await;
    let user = t.user(1).await;
    let s = t
        .stream(
            &user,
            json!({ "prompt": marker("stall"), "model": "fault-stall" }),
        )
        .await;
    assert_eq!(s.names(), ["meta", "error"], "{s:?}");
    assert_eq!(s.event("error")["code"], "upstream_unavailable");
    assert_eq!(t.times(&user).await, 1);
}

#[tokio::test]
async fn a_browser_that_leaves_stops_the_upstream_and_the_part_is_saved_as_interrupted() {
    // Slow chunks: the answer takes seconds, the test leaves after the first one.
    let t = spawn_chat_with(150, &[]).await;
    let user = t.user(1).await;
    let prompt = marker("leaving");
    let res = t
        .complete(&user, &json!({ "prompt": prompt }))
        .send()
        .await
        .unwrap();
    let (events, body) = read_until(res, |e| e.iter().any(|(n, _)| n == "delta")).await;
    let answer_id = id_of(&events[0].1, "answer_id");
    drop(body);
    let left_at = Utc::now();

    let mut record = Value::Null;
    for _ in 0..60 {
        record = t.llm.received(&prompt).await.remove(0);
        if !record["client_disconnected_at"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let gone: DateTime<Utc> = record["client_disconnected_at"]
        .as_str()
        .unwrap_or_else(|| panic!("upstream still open: {record}"))
        .parse()
        .unwrap();
    assert!(
        gone - left_at < chrono::Duration::seconds(1),
        "upstream closed {} ms after the browser left",
        (gone - left_at).num_milliseconds()
    );
    assert_eq!(record["completed"], false);

    let answer = closed(&t, &answer_id).await;
    assert_eq!(answer.status, 4, "{answer:?}");
    assert!(!answer.content.is_empty());
    assert!(expected_answer(&prompt).starts_with(&answer.content));
    assert_eq!(t.times(&user).await, 0);
}

#[tokio::test]
async fn a_browser_that_leaves_before_the_first_token_still_gets_its_rows_saved() {
    // The upstream answers its headers and then says nothing: the browser has
    // only `meta` when it leaves, while the rows may still be on their way in.
    let t = spawn_chat_with(2, &[("chat_max_streams_per_user", "1".into())]).await;
    let user = t.user(2).await;
    let prompt = marker("gone early");
    let res = t
        .complete(&user, &json!({ "prompt": prompt, "model": "fault-stall" }))
        .send()
        .await
        .unwrap();
    let (events, body) = read_until(res, |e| e.iter().any(|(n, _)| n == "meta")).await;
    let meta = events[0].1.clone();
    drop(body);

    let answer_id = id_of(&meta, "answer_id");
    let answer = closed(&t, &answer_id).await;
    assert_eq!(answer.status, 4, "{answer:?}");
    assert_eq!(answer.content, "");
    let question = saved(&t, &id_of(&meta, "question_id")).await;
    assert_eq!(question.content, prompt);
    assert_eq!(question.status, 2);
    assert_eq!(
        answer.parent_message_id.as_deref(),
        Some(question.message_id.as_str())
    );
    assert_eq!(t.room_count(&user).await, 1);
    assert_eq!(answer.chat_room_id.to_string(), id_of(&meta, "room_id"));
    // No token reached the browser: the time comes back with the close, and
    // the slot is free again.
    assert_eq!(t.times(&user).await, 2);
    let next = t.ask(&user, &marker("after"), None).await;
    assert_eq!(next.event("done")["remaining_times"], 1);
}

#[tokio::test]
async fn continuing_a_room_by_id_follows_its_latest_answer() {
    let t = spawn_chat().await;
    let user = t.user(3).await;
    let first = marker("room first");
    let s1 = t.ask(&user, &first, None).await;
    let room = id_of(s1.event("meta"), "room_id");
    // A failed answer (nothing streamed) is no context, but is the latest answer.
    let failed = t
        .stream(
            &user,
            json!({ "prompt": marker("cut"), "room_id": room, "model": "fault-cut-after-0" }),
        )
        .await;
    assert_eq!(failed.names(), ["meta", "error"], "{failed:?}");
    let third = marker("room third");
    let s3 = t.ask(&user, &third, Some(&room)).await;
    let q3 = saved(&t, &id_of(s3.event("meta"), "question_id")).await;
    assert_eq!(
        q3.parent_message_id.as_deref(),
        Some(id_of(failed.event("meta"), "answer_id").as_str())
    );
    let got = t.llm.received(&third).await;
    let contents: Vec<&str> = got[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    // The failed exchange's question is sent; its empty answer is skipped.
    assert_eq!(contents.len(), 4, "{contents:?}");
    assert_eq!(contents[0], first);
    assert_eq!(contents[3], third);
    assert_eq!(t.times(&user).await, 1);
}

#[tokio::test]
async fn the_second_question_carries_the_first_exchange() {
    let t = spawn_chat().await;
    let user = t.user(3).await;
    let first = marker("first question");
    let s1 = t.ask(&user, &first, None).await;
    let room = id_of(s1.event("meta"), "room_id");
    let second = marker("second question");
    let s2 = t.ask(&user, &second, Some(&room)).await;
    assert_eq!(id_of(s2.event("meta"), "room_id"), room);

    let got = t.llm.received(&second).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0]["messages"],
        json!([
            {"role": "user", "content": first},
            {"role": "assistant", "content": expected_answer(&first)},
            {"role": "user", "content": second},
        ])
    );
    let q2 = saved(&t, &id_of(s2.event("meta"), "question_id")).await;
    assert_eq!(
        q2.parent_message_id.as_deref(),
        Some(id_of(s1.event("meta"), "answer_id").as_str())
    );
    assert_eq!(q2.context_count, 2);

    // An explicit parent branches from that point: the first question's answer.
    let third = marker("branch");
    let s3 = t
        .stream(
            &user,
            json!({ "prompt": third, "parent_message_id": id_of(s1.event("meta"), "answer_id") }),
        )
        .await;
    assert_eq!(s3.names().last(), Some(&"done"));
    let got = t.llm.received(&third).await;
    assert_eq!(got[0]["messages"].as_array().unwrap().len(), 3);
    assert_eq!(got[0]["messages"][0]["content"], json!(first));
}

#[tokio::test]
async fn the_context_respects_the_message_cap() {
    let t = spawn_chat_with(1, &[("context_max_messages", "2".into())]).await;
    let user = t.user(3).await;
    let s1 = t.ask(&user, &marker("one"), None).await;
    let room = id_of(s1.event("meta"), "room_id");
    let two = marker("two");
    t.ask(&user, &two, Some(&room)).await;
    let three = marker("three");
    t.ask(&user, &three, Some(&room)).await;
    let got = t.llm.received(&three).await;
    let messages = got[0]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0]["content"], json!(two));
}

#[tokio::test]
async fn another_users_room_is_not_found() {
    let t = spawn_chat().await;
    let owner = t.user(1).await;
    let other = t.user(1).await;
    let s = t.ask(&owner, &marker("mine"), None).await;
    let room = id_of(s.event("meta"), "room_id");
    let answer = id_of(s.event("meta"), "answer_id");
    let by_room = t
        .stream(&other, json!({ "prompt": "hi", "room_id": room }))
        .await;
    assert_eq!(by_room.status, 404);
    assert_eq!(by_room.body["error"]["code"], "not_found");
    let by_parent = t
        .stream(
            &other,
            json!({ "prompt": "hi", "parent_message_id": answer }),
        )
        .await;
    assert_eq!(by_parent.status, 404);
    let unknown = t
        .stream(&other, json!({ "prompt": "hi", "room_id": "12345" }))
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(t.times(&other).await, 1);
    assert_eq!(t.message_count(&other).await, 0);
}

#[tokio::test]
async fn a_hundred_requests_on_fifty_times_make_exactly_fifty_streams() {
    let t = spawn_chat_with(
        1,
        &[
            ("chat_max_streams_per_user", "1000".into()),
            ("chat_requests_per_minute", "1000".into()),
        ],
    )
    .await;
    let user = t.user(50).await;
    let runs = (0..100).map(|i| t.stream(&user, json!({ "prompt": format!("race {i}") })));
    let results = futures::future::join_all(runs).await;
    let done = results
        .iter()
        .filter(|s| s.status == 200 && s.names().last() == Some(&"done"))
        .count();
    let refused = results
        .iter()
        .filter(|s| s.status == 402 && s.body["error"]["code"] == "no_chat_times")
        .count();
    assert_eq!((done, refused), (50, 50));
    assert_eq!(t.times(&user).await, 0);
    let answers: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM chat_message WHERE user_id = ? AND message_type = 2 AND status = 2",
    )
    .bind(user.id)
    .fetch_one(&t.app.db)
    .await
    .unwrap();
    assert_eq!(answers, 50);
    let mut remaining: Vec<i64> = results
        .iter()
        .filter(|s| s.status == 200)
        .map(|s| s.event("done")["remaining_times"].as_i64().unwrap())
        .collect();
    remaining.sort_unstable();
    assert!(
        remaining.iter().all(|r| (0..50).contains(r)),
        "{remaining:?}"
    );
}

#[tokio::test]
async fn the_open_stream_cap_is_enforced_and_freed() {
    // A loose request rate: the polling below must not run into it.
    let t = spawn_chat_with(
        200,
        &[
            ("chat_max_streams_per_user", "1".into()),
            ("chat_requests_per_minute", "1000".into()),
        ],
    )
    .await;
    let user = t.user(10).await;
    let res = t
        .complete(&user, &json!({ "prompt": marker("open") }))
        .send()
        .await
        .unwrap();
    let (_, open) = read_until(res, |e| !e.is_empty()).await;
    let second = t.stream(&user, json!({ "prompt": "second" })).await;
    assert_eq!(second.status, 429);
    assert_eq!(second.body["error"]["code"], "rate_limited");
    assert_eq!(t.times(&user).await, 9);
    drop(open);
    // The slot comes back once the first stream is saved as interrupted.
    let mut status = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let res = t
            .complete(&user, &json!({ "prompt": "third" }))
            .send()
            .await
            .unwrap();
        status = res.status().as_u16();
        if status != 429 {
            break;
        }
    }
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_request_rate_is_enforced() {
    let t = spawn_chat_with(1, &[("chat_requests_per_minute", "2".into())]).await;
    let user = t.user(10).await;
    t.ask(&user, "one", None).await;
    t.ask(&user, "two", None).await;
    let res = t
        .complete(&user, &json!({ "prompt": "three" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(t.times(&user).await, 8);
}

#[tokio::test]
async fn a_stream_outlives_the_request_timeout_and_silence_gets_keep_alives() {
    // The request timeout bounds the wait for headers only, not the SSE body.
    let t = spawn_chat_with(
        100,
        &[
            ("request_timeout_ms", "300".into()),
            ("chat_keepalive_secs", "1".into()),
        ],
    )
    .await;
    let user = t.user(2).await;
    let prompt = marker("slow");
    let s = t.stream(&user, json!({ "prompt": prompt })).await;
    assert_eq!(s.names().last(), Some(&"done"), "{s:?}");
    assert_eq!(s.text(), expected_answer(&prompt));

    let res = t
        .complete(&user, &json!({ "prompt": "quiet", "model": "fault-stall" }))
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert!(
        text.contains("\n: keep-alive\n") || text.contains(":keep-alive"),
        "{text}"
    );
    assert!(text.contains("event: error"), "{text}");
}

/// The contents the model was sent for the exchange asked with `prompt`.
async fn context_of(t: &ChatTest, prompt: &str) -> Vec<String> {
    let got = t.llm.received(prompt).await;
    got.last().unwrap()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_answer_is_regenerated_and_a_question_edited_from_the_same_parent() {
    let t = spawn_chat().await;
    let user = t.user(5).await;
    let first = marker("regen first");
    let s1 = t.ask(&user, &first, None).await;
    let room = id_of(s1.event("meta"), "room_id");
    let a1 = id_of(s1.event("meta"), "answer_id");
    let second = marker("regen second");
    let s2 = t.ask(&user, &second, Some(&room)).await;
    let a2 = id_of(s2.event("meta"), "answer_id");

    // Regenerating the second answer: the same question from the same parent
    // (the first answer), a new exchange that does not see the old answer.
    let again = t
        .stream(
            &user,
            json!({ "prompt": second, "room_id": room, "parent_message_id": a1 }),
        )
        .await;
    assert_eq!(again.names().last(), Some(&"done"), "{again:?}");
    let q = saved(&t, &id_of(again.event("meta"), "question_id")).await;
    assert_eq!(q.parent_message_id.as_deref(), Some(a1.as_str()));
    let context = context_of(&t, &second).await;
    assert_eq!(context.len(), 3, "{context:?}");
    assert_eq!(context[0], first);
    assert!(!context.iter().any(|c| c.contains(&a2)));

    // Editing the first question: a new thread from the room's root, which
    // sees nothing said before it.
    let edited = marker("regen first, edited");
    let s3 = t
        .stream(
            &user,
            json!({ "prompt": edited, "room_id": room, "from_root": true }),
        )
        .await;
    assert_eq!(s3.names().last(), Some(&"done"), "{s3:?}");
    assert_eq!(id_of(s3.event("meta"), "room_id"), room);
    let q = saved(&t, &id_of(s3.event("meta"), "question_id")).await;
    assert_eq!(q.parent_message_id, None);
    assert_eq!(context_of(&t, &edited).await, vec![edited]);

    // Each is one exchange, charged one chat time.
    assert_eq!(t.times(&user).await, 1);
    // Without from_root a question in a room still follows its latest answer.
    let next = marker("regen next");
    let s4 = t.ask(&user, &next, Some(&room)).await;
    let q = saved(&t, &id_of(s4.event("meta"), "question_id")).await;
    assert_eq!(
        q.parent_message_id.as_deref(),
        Some(id_of(s3.event("meta"), "answer_id").as_str())
    );
}

/// The deltas of a finished answer streamed in 8-character chunks 5 ms apart,
/// and the number of content chunks the upstream sent.
async fn deltas_with_flush(flush_ms: u64) -> (Streamed, usize) {
    let t = spawn_chat_with(5, &[("chat_flush_ms", flush_ms.to_string())]).await;
    let user = t.user(1).await;
    let prompt = marker(&"a question long enough for many chunks ".repeat(4));
    let s = t.ask(&user, &prompt, None).await;
    assert_eq!(s.text(), expected_answer(&prompt));
    (s, expected_answer(&prompt).chars().count().div_ceil(8))
}

fn count_deltas(s: &Streamed) -> usize {
    s.names().iter().filter(|n| **n == "delta").count()
}

#[tokio::test]
async fn after_the_first_delta_the_answer_arrives_once_per_flush_window() {
    let (paced, chunks) = deltas_with_flush(40).await;
    assert!(chunks >= 25, "{chunks} chunks");
    // The first chunk goes out alone, at once; then about 8 chunks (40 ms) a delta.
    assert_eq!(paced.events[1].1["content"].as_str().map(str::len), Some(8));
    let deltas = count_deltas(&paced);
    let sizes: Vec<usize> = paced
        .events
        .iter()
        .filter(|(n, _)| n == "delta")
        .map(|(_, d)| d["content"].as_str().map_or(0, str::len))
        .collect();
    assert!(
        deltas * 3 <= chunks,
        "{deltas} deltas for {chunks} chunks: {sizes:?}"
    );

    let (every, chunks) = deltas_with_flush(0).await;
    assert_eq!(
        count_deltas(&every),
        chunks,
        "one delta per chunk without a window"
    );
}

#[tokio::test]
async fn an_upstream_slower_than_the_window_is_relayed_event_by_event() {
    // Chunks 100 ms apart, a 10 ms window: the relay waits for each one.
    let t = spawn_chat_with(100, &[("chat_flush_ms", "10".into())]).await;
    let user = t.user(1).await;
    let prompt = marker("slow chunks");
    let s = t.ask(&user, &prompt, None).await;
    let expected = expected_answer(&prompt);
    assert_eq!(s.text(), expected);
    assert_eq!(count_deltas(&s), expected.chars().count().div_ceil(8));
}
