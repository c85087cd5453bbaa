//! Copies of a service starting together on an empty database apply the
//! schema once, in turn, and all start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use paychat_common::{db, testing};

#[tokio::test]
async fn copies_starting_together_on_an_empty_database_all_migrate() {
    let url = testing::empty_database().await.unwrap();
    let mut copies = Vec::new();
    for _ in 0..4 {
        let url = url.clone();
        copies.push(tokio::spawn(async move {
            let pool = sqlx::MySqlPool::connect(&url).await?;
            db::migrate(&pool).await
        }));
    }
    for copy in copies {
        copy.await.unwrap().expect("a copy failed to migrate");
    }
    let pool = sqlx::MySqlPool::connect(&url).await.unwrap();
    let (applied, failed): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(success = 0), 0) AS SIGNED) FROM _sqlx_migrations",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(applied, db::MIGRATOR.iter().count() as i64);
    assert_eq!(failed, 0);
}
