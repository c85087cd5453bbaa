//! Sales dashboard benchmark. Seeds a fresh database on the local stack with
//! 1,000,000 orders spread over the last year (about 60 % paid, 35 % closed,
//! the rest unpaid), their items, 100,000 users and 300,000 answers, with
//! multi-row INSERTs; starts the real service in-process and times each panel
//! of the dashboard over HTTP as an admin (p50 / p99 of `BENCH_STATS_CALLS`
//! calls, default 20, after one warm-up call), plus the Redis rebuild.
//!
//! Run from the repository root: `cargo run --release -p paychat-orders --bin bench_stats`.
//! `BENCH_STATS_ORDERS` (default 1,000,000) sets the number of orders.

use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta, Utc};
use paychat_common::auth::{Role, Sessions};
use paychat_common::redis::Keys;
use paychat_common::testing;
use paychat_orders::app::Application;
use paychat_orders::config::Config;
use paychat_orders::states::OrderStatus;
use rust_decimal::Decimal;
use sqlx::{MySqlPool, QueryBuilder};

const BATCH: usize = 5_000;
const PRODUCTS: i64 = 20;
const DAY_SECS: i64 = 86_400;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a short list"
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A small deterministic generator: the same data on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

fn secs(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(0)
}

async fn seed(db: &MySqlPool, orders: usize, now: NaiveDateTime) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut products = QueryBuilder::new(
        "INSERT INTO chat_product (id, name, reward_use_times, price, description, stock, sale, status) ",
    );
    products.push_values(1..=PRODUCTS, |mut row, id| {
        row.push_bind(id)
            .push_bind(format!("Product {id}"))
            .push_bind(10)
            .push_bind(Decimal::new(100 * id, 2))
            .push_bind("")
            .push_bind(1_000_000)
            .push_bind(0)
            .push_bind(1);
    });
    products.build().execute(db).await?;

    let mut rng = Lcg(42);
    let users: i64 = 100_000;
    let ids: Vec<i64> = (1..=users).collect();
    for chunk in ids.chunks(BATCH) {
        let mut q = QueryBuilder::new("INSERT INTO chat_user (id, nickname, create_time) ");
        let times: Vec<NaiveDateTime> = chunk
            .iter()
            .map(|_| now - TimeDelta::seconds(secs(rng.next(365 * 86_400))))
            .collect();
        q.push_values(chunk.iter().zip(times), |mut row, (id, at)| {
            row.push_bind(*id).push_bind(format!("u{id}")).push_bind(at);
        });
        q.build().execute(db).await?;
    }

    let mut next_unpaid_user = users + 1;
    let order_ids: Vec<i64> = (1..=i64::try_from(orders)?).collect();
    for chunk in order_ids.chunks(BATCH) {
        // (id, user, amount, status, created, pay time, product, units, price)
        let rows: Vec<_> = chunk
            .iter()
            .map(|id| {
                let created = now - TimeDelta::seconds(secs(rng.next(365 * 86_400)));
                let product = secs(rng.next(20)) + 1;
                let units = secs(rng.next(3)) + 1;
                let price = Decimal::new(100 * product, 2);
                let amount = price * Decimal::from(units);
                let roll = rng.next(100);
                let (status, user, pay_time) = if roll < 60 {
                    let pay = created + TimeDelta::seconds(secs(rng.next(600)));
                    (
                        OrderStatus::Completed,
                        secs(rng.next(100_000)) + 1,
                        Some(pay),
                    )
                } else if roll < 95 || next_unpaid_user > users + 10_000 {
                    (OrderStatus::Closed, secs(rng.next(100_000)) + 1, None)
                } else {
                    // One unpaid order per user, by the database's own rule.
                    next_unpaid_user += 1;
                    (OrderStatus::AwaitingConfirmation, next_unpaid_user, None)
                };
                (
                    *id, user, amount, status, created, pay_time, product, units, price,
                )
            })
            .collect();
        let mut q = QueryBuilder::new(
            "INSERT INTO chat_order (id, user_id, total_amount, pay_amount, status, pay_time, \
             expire_time, create_time, update_time) ",
        );
        q.push_values(&rows, |mut row, r| {
            let updated = r.5.unwrap_or(r.4 + TimeDelta::minutes(15));
            row.push_bind(r.0)
                .push_bind(r.1)
                .push_bind(r.2)
                .push_bind(if r.5.is_some() { r.2 } else { Decimal::ZERO })
                .push_bind(r.3)
                .push_bind(r.5)
                .push_bind(r.4 + TimeDelta::minutes(15))
                .push_bind(r.4)
                .push_bind(updated);
        });
        q.build().execute(db).await?;
        let mut q = QueryBuilder::new(
            "INSERT INTO chat_order_item (id, order_id, product_id, exchange_num, product_name, \
             product_price, create_time) ",
        );
        q.push_values(&rows, |mut row, r| {
            row.push_bind(r.0)
                .push_bind(r.0)
                .push_bind(r.6)
                .push_bind(r.7)
                .push_bind(format!("Product {}", r.6))
                .push_bind(r.8)
                .push_bind(r.4);
        });
        q.build().execute(db).await?;
    }

    let answers: Vec<i64> = (1..=300_000).collect();
    for chunk in answers.chunks(BATCH) {
        let mut q = QueryBuilder::new(
            "INSERT INTO chat_message (id, user_id, message_id, message_type, chat_room_id, \
             api_type, content, status, total_tokens, create_time) ",
        );
        let rows: Vec<(i64, i64, NaiveDateTime)> = chunk
            .iter()
            .map(|id| {
                (
                    *id,
                    secs(rng.next(2_000)),
                    now - TimeDelta::seconds(secs(rng.next(365 * 86_400))),
                )
            })
            .collect();
        q.push_values(&rows, |mut row, (id, tokens, at)| {
            row.push_bind(*id)
                .push_bind(1)
                .push_bind(format!("m{id}"))
                .push_bind(2)
                .push_bind(1)
                .push_bind("api")
                .push_bind("an answer")
                .push_bind(2)
                .push_bind(*tokens)
                .push_bind(*at);
        });
        q.build().execute(db).await?;
    }
    sqlx::query("ANALYZE TABLE chat_order, chat_order_item, chat_user, chat_message")
        .execute(db)
        .await?;
    println!(
        "seeded {orders} orders, {users} users, 300000 answers in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn time_calls(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    calls: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let warm = client.get(url).bearer_auth(token).send().await?;
    anyhow::ensure!(warm.status() == 200, "{url}: {}", warm.status());
    let mut took = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let res = client.get(url).bearer_auth(token).send().await?;
        anyhow::ensure!(res.status() == 200, "{url}: {}", res.status());
        res.bytes().await?;
        took.push(started.elapsed());
    }
    took.sort();
    Ok((percentile(&took, 0.5), percentile(&took, 0.99)))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let orders: usize = std::env::var("BENCH_STATS_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let calls: usize = std::env::var("BENCH_STATS_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let database_url = testing::fresh_database().await?;
    let db = MySqlPool::connect(&database_url).await?;
    let now = Utc::now().naive_utc() - TimeDelta::seconds(DAY_SECS / 24);
    seed(&db, orders, now).await?;

    let overrides: Vec<(&str, String)> = vec![
        ("database_url", database_url.clone()),
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
    let state = app.state.clone();
    tokio::spawn(app.run_until_stopped());
    let sessions = Sessions::new(
        paychat_common::redis::connect(&config.common.redis_url)?,
        Keys::new(config.common.redis_prefix.clone()),
        Duration::from_secs(3600),
    );
    let admin_id = 9_000_000_000;
    sqlx::query("INSERT INTO chat_user (id, nickname, role) VALUES (?, 'bench', ?)")
        .bind(admin_id)
        .bind(Role::Admin.as_str())
        .execute(&db)
        .await?;
    let token = sessions.create(admin_id, Role::Admin).await?.token;
    let client = reqwest::Client::new();

    let started = Instant::now();
    let (days, paid) = paychat_orders::stats::ledger::rebuild(&state).await?;
    println!(
        "rebuild of the Redis counters: {days} days, {paid} paid orders in {:.0} ms",
        ms(started.elapsed())
    );
    println!("| panel | p50 | p99 |");
    println!("|---|---|---|");
    for path in [
        "/api/admin/stats/summary",
        "/api/admin/stats/daily?days=30",
        "/api/admin/stats/daily?days=366",
        "/api/admin/stats/hot-products?by=units&days=30&limit=10",
        "/api/admin/stats/hot-products?by=revenue&days=366&limit=10",
        "/api/admin/stats/problems",
    ] {
        let (p50, p99) = time_calls(&client, &format!("{base}{path}"), &token, calls).await?;
        println!("| `{path}` | {:.1} ms | {:.1} ms |", ms(p50), ms(p99));
    }
    Ok(())
}
