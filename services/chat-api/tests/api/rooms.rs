//! Rooms and history: listing with cursors, messages, rename, soft delete,
//! and another user's room answered as not found.

use serde_json::{Value, json};

use crate::chat_support::{ChatTest, User, expected_answer, spawn_chat};

async fn insert_room(t: &ChatTest, user: &User, id: i64, title: &str, minutes_ago: i64) {
    sqlx::query(
        "INSERT INTO chat_room (id, user_id, title, api_type, create_time, update_time) \
         VALUES (?, ?, ?, 'openai', NOW(3) - INTERVAL ? MINUTE, NOW(3) - INTERVAL ? MINUTE)",
    )
    .bind(id)
    .bind(user.id)
    .bind(title)
    .bind(minutes_ago)
    .bind(minutes_ago)
    .execute(&t.app.db)
    .await
    .unwrap();
}

async fn page(t: &ChatTest, user: &User, query: &str) -> Value {
    let res = t
        .get(user, &format!("/api/chat/rooms{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn rooms_are_listed_newest_first_in_pages() {
    let t = spawn_chat().await;
    let user = t.user(0).await;
    let other = t.user(0).await;
    for i in 0..5 {
        insert_room(&t, &user, 1000 + i, &format!("room {i}"), 10 - i).await;
    }
    // Same update time: the id breaks the tie.
    insert_room(&t, &user, 2000, "tie a", 30).await;
    insert_room(&t, &user, 2001, "tie b", 30).await;
    insert_room(&t, &other, 3000, "not mine", 1).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=2&cursor={c}"),
            None => "?limit=2".into(),
        };
        let p = page(&t, &user, &query).await;
        assert!(p["items"].as_array().unwrap().len() <= 2);
        seen.extend(titles(&p));
        pages += 1;
        match p["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(
        seen,
        [
            "room 4", "room 3", "room 2", "room 1", "room 0", "tie b", "tie a"
        ]
    );
    let first = page(&t, &user, "").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 7);
    assert!(first["next_cursor"].is_null());
    assert!(first["items"][0]["id"].is_string());
    for bad in ["?limit=0", "?limit=101", "?cursor=nonsense"] {
        let res = t
            .get(&user, &format!("/api/chat/rooms{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn history_rename_and_soft_delete() {
    let t = spawn_chat().await;
    let user = t.user(2).await;
    let s1 = t.ask(&user, "first question", None).await;
    let room = s1.event("meta")["room_id"].as_str().unwrap().to_owned();
    let s2 = t.ask(&user, "second question", Some(&room)).await;

    let path = format!("/api/chat/rooms/{room}/messages");
    let p1 = t.get_json(&user, &format!("{path}?limit=3")).await;
    let items = p1["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["role"], "user");
    assert_eq!(items[0]["content"], "first question");
    assert_eq!(items[0]["id"], s1.event("meta")["question_id"]);
    assert!(items[0]["parent_id"].is_null());
    assert!(items[0]["usage"].is_null());
    assert_eq!(items[1]["role"], "assistant");
    assert_eq!(
        items[1]["content"],
        json!(expected_answer("first question"))
    );
    assert_eq!(items[1]["status"], "done");
    assert_eq!(items[1]["model"], "sandbox-chat");
    assert_eq!(items[1]["parent_id"], items[0]["id"]);
    assert_eq!(items[1]["usage"], s1.event("done")["usage"]);
    assert_eq!(items[2]["content"], "second question");
    assert_eq!(items[2]["parent_id"], items[1]["id"]);
    let cursor = p1["next_cursor"].as_str().unwrap();
    let p2 = t
        .get_json(&user, &format!("{path}?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(p2["items"].as_array().unwrap().len(), 1);
    assert_eq!(p2["items"][0]["id"], s2.event("meta")["answer_id"]);
    assert!(p2["next_cursor"].is_null());

    let renamed = t.rename_room(&user, &room, "  Renamed  ").await;
    assert_eq!(renamed.status(), 200);
    let body: Value = renamed.json().await.unwrap();
    assert_eq!(body["title"], "Renamed");
    assert_eq!(body["id"], json!(room));
    let empty = t.rename_room(&user, &room, " ").await;
    assert_eq!(empty.status(), 400);

    let deleted = t.delete_room(&user, &room).await;
    assert_eq!(deleted.status(), 204);
    let flag: i8 = sqlx::query_scalar("SELECT is_deleted FROM chat_room WHERE id = ?")
        .bind(room.parse::<i64>().unwrap())
        .fetch_one(&t.app.db)
        .await
        .unwrap();
    assert_eq!(flag, 1);
    let list = t.get_json(&user, "/api/chat/rooms").await;
    assert!(list["items"].as_array().unwrap().is_empty());
    assert_eq!(t.get(&user, &path).send().await.unwrap().status(), 404);
    let again = t.delete_room(&user, &room).await;
    assert_eq!(again.status(), 404);
    // A deleted room takes no more questions.
    let s = t
        .stream(&user, json!({"prompt": "more", "room_id": room}))
        .await;
    assert_eq!(s.status, 404);
}

#[tokio::test]
async fn another_users_room_is_not_found() {
    let t = spawn_chat().await;
    let owner = t.user(1).await;
    let other = t.user(0).await;
    let s = t.ask(&owner, "private", None).await;
    let room = s.event("meta")["room_id"].as_str().unwrap().to_owned();
    let messages = t
        .get(&other, &format!("/api/chat/rooms/{room}/messages"))
        .send()
        .await
        .unwrap();
    assert_eq!(messages.status(), 404);
    let body: Value = messages.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let patch = t.rename_room(&other, &room, "mine now").await;
    assert_eq!(patch.status(), 404);
    let delete = t.delete_room(&other, &room).await;
    assert_eq!(delete.status(), 404);
    let list = t.get_json(&other, "/api/chat/rooms").await;
    assert!(list["items"].as_array().unwrap().is_empty());
    // Still the owner's, untouched.
    let title: String =
        sqlx::query_scalar("SELECT title FROM chat_room WHERE id = ? AND is_deleted = 0")
            .bind(room.parse::<i64>().unwrap())
            .fetch_one(&t.app.db)
            .await
            .unwrap();
    assert_eq!(title, "private");
    assert_eq!(
        t.get(&other, "/api/chat/rooms/not-a-number/messages")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn rooms_are_searched_by_title() {
    let t = spawn_chat().await;
    let user = t.user(0).await;
    let other = t.user(0).await;
    insert_room(&t, &user, 9_100_001, "Cats and DOGS", 5).await;
    insert_room(&t, &user, 9_100_002, "Dog training", 4).await;
    insert_room(&t, &user, 9_100_003, "100% juice_x", 3).await;
    insert_room(&t, &user, 9_100_004, "100 juices", 2).await;
    insert_room(&t, &other, 9_100_005, "dog of someone else", 1).await;

    // Case does not matter; newest first, as without a search.
    assert_eq!(
        titles(&page(&t, &user, "?q=dog").await),
        ["Dog training", "Cats and DOGS"]
    );
    // % and _ are plain characters, not wildcards.
    assert_eq!(
        titles(&page(&t, &user, "?q=100%25").await),
        ["100% juice_x"]
    );
    assert_eq!(titles(&page(&t, &user, "?q=_").await), ["100% juice_x"]);
    assert_eq!(titles(&page(&t, &user, "?q=%20%20").await).len(), 4);
    assert!(titles(&page(&t, &user, "?q=nothing").await).is_empty());

    // Pages of a search carry on with the search.
    let first = page(&t, &user, "?q=DOG&limit=1").await;
    assert_eq!(titles(&first), ["Dog training"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = page(&t, &user, &format!("?q=DOG&limit=1&cursor={cursor}")).await;
    assert_eq!(titles(&second), ["Cats and DOGS"]);
    assert!(second["next_cursor"].is_null());

    let res = t
        .get(&user, &format!("/api/chat/rooms?q={}", "x".repeat(101)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_request");
}
