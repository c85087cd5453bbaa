//! Answers a dead copy left `streaming` (it was killed mid-stream, or its
//! closing transaction failed) are settled by the sweep once no stream can own
//! them: closed, and an empty one's chat time given back, exactly once.

use std::time::Duration;

use paychat_chat_api::chat::stale::settle_stale_answers;
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
