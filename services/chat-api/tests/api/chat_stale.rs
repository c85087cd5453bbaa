//! Answers a dead copy left `streaming` (it was killed mid-stream, or its
//! closing transaction failed) are settled by the sweep once no stream can own
//! them: closed, and an empty one's chat time given back, exactly once.

use std::time::Duration;

use paychat_chat_api::chat::queries::{NewExchange, give_held_time_back};
use paychat_chat_api::chat::stale::{settle_stale_answers, settle_stale_holds};
use paychat_chat_api::chat::writer::ChatWriter;
use paychat_common::testing;
use sqlx::MySqlPool;

const STREAMING: i32 = 1;
const ERROR: i32 = 3;
const INTERRUPTED: i32 = 4;

async fn answer(db: &MySqlPool, id: i64, user_id: i64, content: &str, age_secs: i64) {
    sqlx::query(
        "INSERT INTO chat_message (id, user_id, message_id, message_type, chat_room_id, api_type, \
         content, status, create_time, update_time) \
         VALUES (?, ?, ?, 2, 1, 'openai', ?, ?, UTC_TIMESTAMP(3) - INTERVAL ? SECOND, UTC_TIMESTAMP(3))",
    )
    .bind(id)
    .bind(user_id)
    .bind(format!("a{id}"))
    .bind(content)
    .bind(STREAMING)
    .bind(age_secs)
    .execute(db)
    .await
    .unwrap();
}

async fn status(db: &MySqlPool, id: i64) -> i32 {
    sqlx::query_scalar("SELECT status FROM chat_message WHERE id = ?")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
}

async fn times(db: &MySqlPool, user_id: i64) -> i32 {
    sqlx::query_scalar("SELECT can_conversation_times FROM chat_user WHERE id = ?")
        .bind(user_id)
        .fetch_one(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn answers_left_streaming_are_closed_and_their_times_given_back_once() {
    let db = MySqlPool::connect(&testing::fresh_database().await.unwrap())
        .await
        .unwrap();
    let user = 7;
    // Three times left after three answers took one each.
    sqlx::query("INSERT INTO chat_user (id, nickname, can_conversation_times) VALUES (?, 'u', 3)")
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
    answer(&db, 101, user, "", 3600).await; // its copy died before any content was saved
    answer(&db, 102, user, "a partial answer", 3600).await; // content saved: the time stays spent
    answer(&db, 103, user, "", 5).await; // may still be streaming somewhere

    let settled = settle_stale_answers(&db, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(settled, 2);
    assert_eq!(status(&db, 101).await, ERROR);
    assert_eq!(status(&db, 102).await, INTERRUPTED);
    assert_eq!(
        status(&db, 103).await,
        STREAMING,
        "a live stream was closed"
    );
    assert_eq!(
        times(&db, user).await,
        4,
        "the empty answer's time came back"
    );

    // Another copy's sweep (or a second pass) settles nothing twice.
    assert_eq!(
        settle_stale_answers(&db, Duration::from_secs(60))
            .await
            .unwrap(),
        0
    );
    assert_eq!(times(&db, user).await, 4);
}

async fn user_with_times(db: &MySqlPool, user: i64, n: i32) {
    sqlx::query("INSERT INTO chat_user (id, nickname, can_conversation_times) VALUES (?, 'u', ?)")
        .bind(user)
        .bind(n)
        .execute(db)
        .await
        .unwrap();
}

/// A copy killed after taking a time and before recording its exchange (it was
/// waiting for the first token) left nothing in `chat_message` for the answer
/// sweep to find: the time is held on the user's row until the exchange is
/// recorded or the time goes back, and a held time no stream can still own
/// comes back, once.
#[tokio::test]
async fn a_time_taken_by_a_copy_that_died_before_its_first_token_comes_back_once() {
    let db = MySqlPool::connect(&testing::fresh_database().await.unwrap())
        .await
        .unwrap();
    let (dead, alive) = (21, 22);
    user_with_times(&db, dead, 2).await;
    user_with_times(&db, alive, 2).await;
    let writer = ChatWriter::spawn(&db);
    // Taken, then the process "dies": nothing gives either time back.
    assert!(writer.take(dead).await.unwrap());
    assert!(writer.take(alive).await.unwrap());
    assert_eq!(times(&db, dead).await, 1);

    // Still within a stream's lifetime: nothing moves.
    assert_eq!(
        settle_stale_holds(&db, Duration::from_secs(60))
            .await
            .unwrap(),
        0
    );
    assert_eq!(times(&db, dead).await, 1);

    // The live stream records its exchange: its time is spent, no longer held.
    writer
        .insert(std::sync::Arc::new(exchange(alive, 301)), 1)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        settle_stale_holds(&db, Duration::ZERO).await.unwrap(),
        1,
        "only the dead copy's held time is stale"
    );
    assert_eq!(times(&db, dead).await, 2, "the held time came back");
    assert_eq!(
        times(&db, alive).await,
        1,
        "a recorded exchange's time stays spent"
    );

    // A second pass, or another copy's, gives nothing twice.
    assert_eq!(settle_stale_holds(&db, Duration::ZERO).await.unwrap(), 0);
    assert_eq!(times(&db, dead).await, 2);
}

/// A give-back that comes after the sweep already returned the held time (a
/// stream slower than its lifetime) gives nothing twice.
#[tokio::test]
async fn a_give_back_after_the_sweep_gives_nothing_twice() {
    let db = MySqlPool::connect(&testing::fresh_database().await.unwrap())
        .await
        .unwrap();
    let user = 31;
    user_with_times(&db, user, 1).await;
    let writer = ChatWriter::spawn(&db);
    assert!(writer.take(user).await.unwrap());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(settle_stale_holds(&db, Duration::ZERO).await.unwrap(), 1);
    let mut conn = db.acquire().await.unwrap();
    let given = give_held_time_back(&mut conn, user).await.unwrap();
    assert!(!given, "the sweep had already given it back");
    assert_eq!(times(&db, user).await, 1);
}

fn exchange(user_id: i64, id: i64) -> NewExchange {
    NewExchange {
        user_id,
        room_id: id,
        new_room_title: Some("t".into()),
        question_id: id * 10,
        answer_id: id * 10 + 1,
        parent_message_id: None,
        context_count: 0,
        model: "m".into(),
        key_fingerprint: "k".into(),
        prompt: "q".into(),
        ip: "127.0.0.1".into(),
    }
}
