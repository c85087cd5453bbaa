//! Orders benchmark. Starts the real service in-process (its own fresh
//! database, Redis prefix and AMQP prefix on the local stack) and drives it
//! over HTTP:
//!
//! (a) flash sale: 10,000 distinct buyers, one product with stock 100, all
//!     released at once with bounded concurrency;
//! (b) sustained ordering: 64 concurrent buyers on ample stock, next to the raw
//!     MariaDB limit measured in the same run: the same five INSERTs the
//!     service writes per order, one order per transaction, on 64 connections
//!     of their own with their statements prepared once (see `raw_mariadb`);
//! (c) sold-out rejections, answered from Redis without any SQL.
//!
//! It prints the MariaDB settings it ran on first: the raw figure depends on
//! them (innodb_flush_log_at_trx_commit above all).
//!
//! Run from the repository root: `cargo run --release -p paychat-orders --bin bench_orders`.
//! One file of more than 300 lines: a program that reads top to bottom, part by part.
//! `BENCH_SUSTAINED_ORDERS` (default 6400) sets the size of (b).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{SubsecRound, Utc};
use futures::StreamExt;
use paychat_common::auth::{Role, Sessions};
use paychat_common::redis::Keys;
use paychat_common::testing;
use paychat_orders::app::Application;
use paychat_orders::config::Config;
use paychat_orders::orders::queries::{self, NewItem, NewOrderRow, OrderRecord};
use paychat_orders::orders::timeout_message::TimeoutMessage;
use paychat_orders::orders::types::OrderType;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::{Connection, MySqlConnection, MySqlPool, QueryBuilder};

const FLASH_BUYERS: usize = 10_000;
const FLASH_STOCK: i64 = 100;
const FLASH_CONCURRENCY: usize = 256;
const SUSTAINED_CONCURRENCY: usize = 64;

struct Bench {
    base: String,
    client: reqwest::Client,
    db: MySqlPool,
    sessions: Sessions,
    next_user: i64,
}

struct Outcome {
    status: u16,
    latency: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

impl Bench {
    /// Inserts `n` users directly (accounts live in chat-api) and signs them in.
    async fn users(&mut self, n: usize, role: Role) -> anyhow::Result<Vec<(i64, String)>> {
        let ids: Vec<i64> = (0..n as i64).map(|i| self.next_user + i).collect();
        self.next_user += n as i64;
        for chunk in ids.chunks(1000) {
            let mut qb = QueryBuilder::new("INSERT INTO chat_user (id, nickname, role) ");
            qb.push_values(chunk, |mut row, id| {
                row.push_bind(*id)
                    .push_bind(format!("b{id}"))
                    .push_bind(role.as_str());
            });
            qb.build().execute(&self.db).await?;
        }
        let sessions = self.sessions.clone();
        let tokens: Vec<anyhow::Result<(i64, String)>> = futures::stream::iter(ids)
            .map(|id| {
                let sessions = sessions.clone();
                async move {
                    let issued = sessions.create(id, role).await?;
                    Ok((id, issued.token))
                }
            })
            .buffer_unordered(64)
            .collect()
            .await;
        tokens.into_iter().collect()
    }

    async fn product(&self, admin: &str, stock: i64, seckill: bool) -> anyhow::Result<String> {
        let res = self
            .client
            .post(format!("{}/api/admin/products", self.base))
            .bearer_auth(admin)
            .json(&json!({"name": "Bench", "description": "", "price": "1.00",
                          "reward_use_times": 10, "stock": stock, "expires_days": 0, "seckill": seckill}))
            .send()
            .await?;
        anyhow::ensure!(res.status() == 201, "creating a product: {}", res.status());
        let body: Value = res.json().await?;
        body["id"].as_str().map(str::to_owned).context("product id")
    }

    async fn order(&self, token: &str, key: &str, product: &str) -> Outcome {
        let started = Instant::now();
        let status = self
            .client
            .post(format!("{}/api/orders", self.base))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&json!({"items": [{"product_id": product, "quantity": 1}]}))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        Outcome {
            status,
            latency: started.elapsed(),
        }
    }

    async fn run(
        self: &Arc<Self>,
        buyers: &[(i64, String)],
        product: &str,
        concurrency: usize,
    ) -> (Vec<Outcome>, Duration) {
        let started = Instant::now();
        let outcomes = futures::stream::iter(buyers.iter().cloned())
            .map(|(id, token)| {
                let bench = self.clone();
                let product = product.to_owned();
                async move { bench.order(&token, &format!("bench-{id}"), &product).await }
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<_>>()
            .await;
        (outcomes, started.elapsed())
    }
}

fn report(name: &str, outcomes: &[Outcome], elapsed: Duration) -> (usize, usize) {
    let accepted = outcomes.iter().filter(|o| o.status == 201).count();
    let rejected = outcomes.iter().filter(|o| o.status == 409).count();
    let other = outcomes.len() - accepted - rejected;
    let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.latency).collect();
    latencies.sort_unstable();
    println!(
        "{name}: {} requests in {:.2} s = {:.0} req/s; accepted {accepted}, rejected 409 {rejected}, other {other}; \
         latency p50 {:.1} ms, p99 {:.1} ms",
        outcomes.len(),
        elapsed.as_secs_f64(),
        outcomes.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
    );
    (accepted, rejected)
}

/// One order's rows as the service builds them, with ids of their own.
fn raw_record(n: i64) -> OrderRecord {
    // Far above the service's snowflake ids and the benchmark's users.
    let id = 4_000_000_000_000_000 + n * 8;
    let price = Decimal::new(100, 2);
    let create_time = Utc::now().trunc_subsecs(3).naive_utc();
    let expire_time = create_time + chrono::Duration::minutes(30);
    OrderRecord {
        row: NewOrderRow {
            id,
            user_id: id,
            total: price,
            kind: OrderType::Normal,
            remark: None,
            expire_time,
            create_time,
        },
        items: vec![NewItem {
            id: id + 1,
            product_id: 1,
            quantity: 1,
            name: "Bench".into(),
            price,
        }],
        history_id: id + 2,
        idempotency_id: id + 3,
        key: format!("raw-{n}"),
        outbox_id: id + 4,
        message: TimeoutMessage::new(id, 1800, expire_time.and_utc()),
        reserved: vec![(1, 1)],
    }
}

/// One order in one transaction: the five INSERTs the service's writer runs
/// for an order (order, item, history, idempotency key, timeout message in the
/// outbox), the very same statements, then COMMIT.
async fn raw_order(conn: &mut MySqlConnection, record: &OrderRecord) -> sqlx::Result<()> {
    let records = [record];
    let mut tx = conn.begin().await?;
    queries::insert_orders(&mut tx, &records).await?;
    queries::insert_items(&mut tx, &records).await?;
    queries::insert_histories(&mut tx, &records).await?;
    queries::insert_idempotency_keys(&mut tx, &records).await?;
    queries::insert_outbox(&mut tx, &records).await?;
    tx.commit().await
}

/// The database's limit for placing orders, as a plain client reaches it:
/// `concurrency` connections of their own (as many as the service's pool),
/// each opened and its statements prepared before the clock starts, then
/// running one order per transaction back to back — no pool, so no ping
/// before a transaction, and each connection's prepared statements reused.
async fn raw_mariadb(url: &str, total: usize, concurrency: usize) -> anyhow::Result<f64> {
    let mut conns = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        conns.push(MySqlConnection::connect(url).await?);
    }
    let per_conn = total.div_ceil(concurrency) as i64;
    let warm_base = i64::try_from(total)? + 1_000;
    for (c, conn) in conns.iter_mut().enumerate() {
        raw_order(conn, &raw_record(warm_base + c as i64)).await?;
    }
    let started = Instant::now();
    let done: Vec<anyhow::Result<usize>> = futures::future::join_all(
        conns
            .into_iter()
            .enumerate()
            .map(|(c, mut conn)| async move {
                let first = c as i64 * per_conn;
                let last = (first + per_conn).min(total as i64);
                for n in first..last {
                    raw_order(&mut conn, &raw_record(n)).await?;
                }
                Ok(usize::try_from(last - first).unwrap_or(0))
            }),
    )
    .await;
    let elapsed = started.elapsed();
    let mut written = 0;
    for d in done {
        written += d?;
    }
    Ok(written as f64 / elapsed.as_secs_f64())
}

/// The MariaDB settings the figures depend on.
async fn server_settings(db: &MySqlPool) -> anyhow::Result<String> {
    const SETTINGS: [&str; 6] = [
        "version",
        "innodb_flush_log_at_trx_commit",
        "sync_binlog",
        "log_bin",
        "innodb_buffer_pool_size",
        "max_connections",
    ];
    let mut shown = Vec::with_capacity(SETTINGS.len());
    for name in SETTINGS {
        // Read as text: these are of several (often unsigned) types.
        let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(@@{name} AS CHAR)"
        )))
        .fetch_one(db)
        .await?;
        shown.push(match (name, value.parse::<u64>()) {
            ("innodb_buffer_pool_size", Ok(bytes)) => format!("{name}={} MiB", bytes >> 20),
            _ => format!("{name}={value}"),
        });
    }
    Ok(format!("MariaDB settings: {}", shown.join(", ")))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sustained: usize = std::env::var("BENCH_SUSTAINED_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6400);
    let database_url = testing::fresh_database().await?;
    let overrides: Vec<(&str, String)> = vec![
        ("database_url", database_url.clone()),
        ("database_max_connections", "64".into()),
        ("redis_prefix", testing::unique("bench") + ":"),
        (
            "amqp_url",
            "amqp://paychat:paychat@127.0.0.1:35672/paychat_test".into(),
        ),
        ("amqp_prefix", testing::unique("bench")),
        ("orders_bind", "127.0.0.1:0".into()),
        ("log_level", "error".into()),
        ("request_timeout_ms", "60000".into()),
    ];
    let config = Config::load(&overrides)?;
    paychat_common::telemetry::init_logging(&config.common);
    let app = Application::build(config.clone()).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let db = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(64)
        .connect(&database_url)
        .await?;
    let redis = paychat_common::redis::connect(&config.common.redis_url)?;
    let mut bench = Bench {
        base,
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .build()?,
        db: db.clone(),
        sessions: Sessions::new(
            redis,
            Keys::new(config.common.redis_prefix.clone()),
            Duration::from_secs(3600),
        ),
        next_user: 1_000_000,
    };
    println!(
        "orders benchmark: service in-process at {}, database {database_url}",
        bench.base
    );
    println!("{}", server_settings(&db).await?);
    println!(
        "service: {SUSTAINED_CONCURRENCY} request connections, {} order writers (group commit)",
        paychat_orders::orders::writer::WRITERS
    );
    let (_, admin) = bench.users(1, Role::Admin).await?.remove(0);
    let started = Instant::now();
    let flash_buyers = bench.users(FLASH_BUYERS, Role::User).await?;
    let sustained_buyers = bench.users(sustained, Role::User).await?;
    println!(
        "set-up: {} buyers inserted and signed in in {:.1} s",
        FLASH_BUYERS + sustained,
        started.elapsed().as_secs_f64()
    );
    let flash = bench.product(&admin, FLASH_STOCK, true).await?;
    let started = Instant::now();
    let ample = bench.product(&admin, 100_000, false).await?;
    println!(
        "product with 100,000 redemption codes created in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let bench = Arc::new(bench);

    // (a) flash sale
    let (outcomes, elapsed) = bench.run(&flash_buyers, &flash, FLASH_CONCURRENCY).await;
    let (accepted, _) = report(
        &format!(
            "(a) flash sale, {FLASH_BUYERS} buyers, stock {FLASH_STOCK}, concurrency {FLASH_CONCURRENCY}"
        ),
        &outcomes,
        elapsed,
    );
    let in_db: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chat_order")
        .fetch_one(&db)
        .await?;
    println!(
        "    accepted {accepted} (must be exactly {FLASH_STOCK}): {}; orders in the database: {in_db}",
        if accepted as i64 == FLASH_STOCK && in_db == FLASH_STOCK {
            "OK"
        } else {
            "WRONG"
        }
    );

    // (b) sustained ordering vs raw MariaDB
    let raw = raw_mariadb(&database_url, sustained, SUSTAINED_CONCURRENCY).await?;
    let (outcomes, elapsed) = bench
        .run(&sustained_buyers, &ample, SUSTAINED_CONCURRENCY)
        .await;
    let (accepted, _) = report(
        &format!("(b) sustained, {sustained} buyers, concurrency {SUSTAINED_CONCURRENCY}"),
        &outcomes,
        elapsed,
    );
    let per_sec = accepted as f64 / elapsed.as_secs_f64();
    println!(
        "    accepted orders/s {per_sec:.0} vs raw MariaDB, one order (5 rows) per transaction on \
         {SUSTAINED_CONCURRENCY} connections, {raw:.0}/s: {:.0}% (target >= 70%)",
        per_sec / raw * 100.0
    );

    // (c) sold-out rejections: the flash sale's losers try again.
    let losers: Vec<(i64, String)> = flash_buyers
        .iter()
        .zip(&outcomes_statuses(&bench, &flash_buyers).await)
        .filter(|(_, has_order)| !**has_order)
        .map(|(b, _)| b.clone())
        .collect();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chat_order")
        .fetch_one(&db)
        .await?;
    let (outcomes, elapsed) = bench.run(&losers, &flash, SUSTAINED_CONCURRENCY).await;
    let (_, rejected) = report(
        &format!(
            "(c) sold out, {} buyers, concurrency {SUSTAINED_CONCURRENCY}",
            losers.len()
        ),
        &outcomes,
        elapsed,
    );
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chat_order")
        .fetch_one(&db)
        .await?;
    println!(
        "    rejections/s {:.0}; orders written meanwhile: {}",
        rejected as f64 / elapsed.as_secs_f64(),
        after - before
    );
    Ok(())
}

/// Which of these buyers hold an order.
async fn outcomes_statuses(bench: &Bench, buyers: &[(i64, String)]) -> Vec<bool> {
    let holders: std::collections::HashSet<i64> =
        sqlx::query_scalar::<_, i64>("SELECT user_id FROM chat_order")
            .fetch_all(&bench.db)
            .await
            .unwrap_or_default()
            .into_iter()
            .collect();
    buyers.iter().map(|(id, _)| holders.contains(id)).collect()
}
