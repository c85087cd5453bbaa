//! The relay's group-committed writes: many streams' chat times, exchanges and
//! closes share transactions, and each still gets exactly the answer it would
//! have had alone.

use std::sync::Arc;

use paychat_chat_api::chat::queries::NewExchange;
use paychat_chat_api::chat::types::MessageStatus;
use paychat_chat_api::chat::writer::{ChatWriter, Closing};

use crate::chat_support::spawn_chat;

fn exchange(user_id: i64, n: i64) -> Arc<NewExchange> {
    static IDS: std::sync::LazyLock<paychat_common::ids::IdGenerator> =
        std::sync::LazyLock::new(|| paychat_common::ids::IdGenerator::with_worker(1022));
    Arc::new(NewExchange {
        user_id,
        room_id: IDS.next(),
        new_room_title: Some(format!("room {n}")),
        question_id: IDS.next(),
        answer_id: IDS.next(),
        parent_message_id: None,
        prompt: format!("question {n}"),
        model: "sandbox-chat".into(),
        key_fingerprint: "sha256:000000000000".into(),
        ip: "127.0.0.1".into(),
        context_count: 0,
    })
}

fn closing(x: &NewExchange, content: &str, refund: bool) -> Closing {
    Closing {
        user_id: x.user_id,
        answer_id: x.answer_id,
        content: content.into(),
        status: if refund {
            MessageStatus::Error
        } else {
            MessageStatus::Done
        },
        error_data: refund.then(|| "no answer".to_owned()),
        prompt_tokens: 3,
        completion_tokens: 2,
        refund,
        recorded: true,
    }
}

#[tokio::test]
async fn concurrent_takes_share_commits_and_grant_exactly_the_balance() {
    let t = spawn_chat().await;
    let (poor, rich) = (t.user(5).await, t.user(40).await);
    let writer = ChatWriter::spawn(&t.app.db);
    let takes = (0..30).flat_map(|_| {
        [poor.id, rich.id].map(|id| {
            let writer = writer.clone();
            tokio::spawn(async move { (id, writer.take(id).await.unwrap()) })
        })
    });
    let results: Vec<(i64, bool)> = futures::future::join_all(takes)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let granted = |id: i64| results.iter().filter(|(u, g)| *u == id && *g).count();
    // The same user several times in one batch: no more than the balance.
    assert_eq!(granted(poor.id), 5);
    assert_eq!(granted(rich.id), 30);
    assert_eq!(t.times(&poor).await, 0);
    assert_eq!(t.times(&rich).await, 10);
    // Sixty takes, far fewer commits.
    let commits = writer.commits();
    assert!(commits < 30, "{commits} commits for 60 takes");
}

#[tokio::test]
async fn exchanges_and_closes_in_one_batch_give_a_time_back_exactly_once() {
    let t = spawn_chat().await;
    let user = t.user(10).await;
    let writer = ChatWriter::spawn(&t.app.db);
    for _ in 0..4 {
        assert!(writer.take(user.id).await.unwrap());
    }
    let xs: Vec<Arc<NewExchange>> = (0..4).map(|n| exchange(user.id, n)).collect();
    let inserts = xs.iter().map(|x| writer.insert(x.clone(), 2));
    for inserted in futures::future::join_all(inserts).await {
        inserted.unwrap();
    }
    assert_eq!(t.message_count(&user).await, 8);
    assert_eq!(t.room_count(&user).await, 4);

    // Two answers delivered, two refunded; all closed together.
    let closes = xs
        .iter()
        .enumerate()
        .map(|(n, x)| writer.close(closing(x, if n < 2 { "an answer" } else { "" }, n >= 2)));
    let closed = futures::future::join_all(closes).await;
    let given: Vec<bool> = closed
        .iter()
        .map(|c| c.as_ref().unwrap().given_back)
        .collect();
    assert_eq!(given, [false, false, true, true]);
    assert_eq!(t.times(&user).await, 8);
    for c in &closed {
        assert_eq!(c.as_ref().unwrap().remaining, 8);
    }
    let statuses: Vec<(i64, i32, String)> = sqlx::query_as(
        "SELECT id, status, content FROM chat_message WHERE user_id = ? AND message_type = 2 ORDER BY id",
    )
    .bind(user.id)
    .fetch_all(&t.app.db)
    .await
    .unwrap();
    for x in &xs {
        let (_, status, _) = statuses.iter().find(|(id, ..)| *id == x.answer_id).unwrap();
        assert_ne!(*status, MessageStatus::Streaming.code());
    }

    // Closing an answer again (the other end of the stream got there first)
    // gives nothing back a second time.
    let again = writer.close(closing(&xs[3], "", true)).await.unwrap();
    assert!(!again.given_back);
    assert_eq!(again.remaining, 8);
    assert_eq!(t.times(&user).await, 8);
}
