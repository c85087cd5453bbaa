//! MariaDB/MySQL pool set-up and the embedded migrations shared by every service.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::Connection;
use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions};

use crate::config::CommonConfig;

/// The schema, from `migrations/` at the repository root.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

pub fn options(config: &CommonConfig) -> anyhow::Result<MySqlConnectOptions> {
    Ok(
        MySqlConnectOptions::from_str(config.database_url.expose_secret())
            .context("parsing database_url")?
            .charset("utf8mb4")
            .timezone(Some(String::from("+00:00"))),
    )
}

/// A lazily connecting pool: the service starts while the database is down and
/// `/readyz` reports it.
///
/// A connection is pinged before use only after sitting idle a while: a ping
/// on every acquire is one more database round trip on the way to every
/// order and every streamed answer's first token, and a busy connection has
/// just proved itself alive.
pub fn pool(config: &CommonConfig) -> anyhow::Result<MySqlPool> {
    Ok(ping_when_idle(MySqlPoolOptions::new())
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_millis(config.database_connect_timeout_ms))
        .idle_timeout(Duration::from_secs(300))
        .connect_lazy_with(options(config)?))
}

/// Pool options that ping a connection before use only after it sat idle.
pub fn ping_when_idle(options: MySqlPoolOptions) -> MySqlPoolOptions {
    options
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > IDLE_BEFORE_PING {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// A connection idle this long may have been dropped by the server or a proxy.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

/// How long a copy waits for another copy's migrations before giving up.
const MIGRATION_LOCK_WAIT_SECS: i64 = 300;

/// Applies the migrations, one copy at a time per database.
///
/// sqlx's own migration lock is `GET_LOCK(name, -1)`, which MariaDB answers at
/// once with NULL (a negative wait is not "forever" there), so copies starting
/// together on an empty database would apply the same migration side by side.
/// A named lock of our own, held on a connection of its own while the pool
/// applies them, makes them take turns; the later copies find nothing to do.
pub async fn migrate(pool: &MySqlPool) -> anyhow::Result<()> {
    let mut lock = MySqlConnection::connect_with(&pool.connect_options())
        .await
        .context("connecting to take the migration lock")?;
    let got: Option<i64> =
        sqlx::query_scalar("SELECT GET_LOCK(CONCAT('paychat_migrate:', DATABASE()), ?)")
            .bind(MIGRATION_LOCK_WAIT_SECS)
            .fetch_one(&mut lock)
            .await
            .context("taking the migration lock")?;
    if got != Some(1) {
        anyhow::bail!(
            "another copy held the migration lock for {MIGRATION_LOCK_WAIT_SECS} s; is one stuck?"
        );
    }
    let applied = MIGRATOR.run(pool).await.context("applying migrations");
    // Closing the connection releases the lock, whatever happened above.
    let _ = lock.close().await;
    applied
}

pub async fn ping(pool: &MySqlPool) -> anyhow::Result<()> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}
