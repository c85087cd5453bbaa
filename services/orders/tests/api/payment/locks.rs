//! Deterministic interleavings against the real database: a test holds a row
//! lock, lets the code under test run up to a statement that needs that row,
//! sees it waiting there (in the process list), then lets go.

use std::time::Duration;

use sqlx::{MySql, MySqlPool, Transaction};

use crate::helpers::eventually;

/// Locks one order row until the transaction is committed or dropped.
pub async fn lock_order(db: &MySqlPool, order_id: i64) -> Transaction<'static, MySql> {
    let mut tx = db.begin().await.unwrap();
    let _: i64 = sqlx::query_scalar("SELECT id FROM chat_order WHERE id = ? FOR UPDATE")
        .bind(order_id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx
}

/// How many other connections of this test's database are running a
/// statement that starts with `prefix`. A statement on a locked row keeps
/// running until the lock goes, so a count that holds means they wait there.
async fn running(db: &MySqlPool, prefix: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
         WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND INFO LIKE CONCAT(?, '%')",
    )
    .bind(prefix)
    .fetch_one(db)
    .await
    .unwrap()
}

/// Waits until `n` connections are held at a statement starting with `prefix`.
pub async fn wait_blocked(db: &MySqlPool, prefix: &str, n: i64) {
    let held = eventually(Duration::from_secs(20), || async {
        running(db, prefix).await >= n
    })
    .await;
    assert!(held, "never saw {n} connection(s) waiting at {prefix:?}");
}
