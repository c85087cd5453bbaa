//! Verified notifies per second through the whole notify path of a real gateway:
//! HTTP POST → store the raw notify → verify the RSA2 signature → check it against
//! `chat_order` → publish the "payment succeeded" event and wait for the broker's
//! confirm → answer `success`. Needs the local stack (MariaDB, Redis, RabbitMQ); it
//! uses a fresh `paychat_test_*` database and the `paychat_test` vhost under a unique
//! prefix, and removes both when done. Run in release:
//! `cargo run --release -p paychat-payment-gateway --bin bench_notify [notifies] [concurrency]`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use lapin::options::QueueDeleteOptions;
use paychat_common::payment::succeeded_queue;
use paychat_common::testing;
use paychat_payment_gateway::alipay::AppPrivateKey;
use paychat_payment_gateway::alipay::sign::notify_sign_content;
use paychat_payment_gateway::app::Application;
use paychat_payment_gateway::config::Config;
use secrecy::SecretString;
use sqlx::QueryBuilder;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const AMQP_TEST_URL: &str = "amqp://paychat:paychat@127.0.0.1:35672/paychat_test";
const APP_ID: &str = "2021000000000001";
const SELLER_ID: &str = "2088000000000001";
const FIRST_ORDER: i64 = 7_300_000_000_000_000_000;

fn arg(n: usize, default: usize) -> anyhow::Result<usize> {
    std::env::args()
        .nth(n)
        .map(|s| s.parse())
        .transpose()
        .context("usage: bench_notify [notifies] [concurrency]")
        .map(|v| v.unwrap_or(default))
}

/// A paid-trade notify for order `FIRST_ORDER + i`, signed like the sandbox signs.
fn notify_body(signer: &AppPrivateKey, i: usize) -> anyhow::Result<String> {
    let order_id = FIRST_ORDER + i64::try_from(i)?;
    let mut params: Vec<(String, String)> = vec![
        ("app_id".into(), APP_ID.into()),
        ("buyer_id".into(), "2088102000000001".into()),
        ("buyer_logon_id".into(), "sandbox***@example.com".into()),
        ("charset".into(), "utf-8".into()),
        ("gmt_payment".into(), "2026-11-23 10:00:05".into()),
        ("notify_id".into(), format!("bench{i:012}")),
        ("notify_time".into(), "2026-11-23 10:00:06".into()),
        ("notify_type".into(), "trade_status_sync".into()),
        ("out_trade_no".into(), format!("{order_id}_1")),
        ("seller_id".into(), SELLER_ID.into()),
        ("subject".into(), "PayChat chat times".into()),
        ("total_amount".into(), "29.90".into()),
        ("trade_no".into(), format!("2026112322001{i:015}")),
        ("trade_status".into(), "TRADE_SUCCESS".into()),
        ("version".into(), "1.0".into()),
        ("sign_type".into(), "RSA2".into()),
    ];
    let content = notify_sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .context("duplicate notify field")?;
    params.push(("sign".into(), signer.sign(content.as_bytes())?));
    Ok(serde_urlencoded::to_string(&params)?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total = arg(1, 2000)?;
    let concurrency = arg(2, 32)?.max(1);
    std::env::set_current_dir(ROOT).context("entering the repository root")?;

    let database_url = testing::fresh_database().await?;
    let prefix = testing::unique("bench");
    let overrides: Vec<(&str, String)> = vec![
        ("database_url", database_url.clone()),
        ("redis_prefix", format!("{prefix}:")),
        ("amqp_url", AMQP_TEST_URL.into()),
        ("amqp_prefix", prefix.clone()),
        ("gateway_bind", "127.0.0.1:0".into()),
        ("alipay_app_id", APP_ID.into()),
        ("alipay_seller_id", SELLER_ID.into()),
        ("log_level", "error".into()),
    ];
    let config = Config::load(&overrides)?;
    paychat_common::telemetry::init_logging(&config.common);
    let app = Application::build(config).await?;
    let url = format!("http://127.0.0.1:{}/api/alipay/notify", app.port());
    let db = app.state.db.clone();
    tokio::spawn(app.run_until_stopped());

    // The orders the notifies pay, awaiting confirmation.
    for chunk in (0..total).collect::<Vec<_>>().chunks(500) {
        let mut qb = QueryBuilder::new(
            "INSERT INTO chat_order (id, user_id, total_amount, pay_amount, status, expire_time) ",
        );
        qb.push_values(chunk, |mut row, i| {
            let id = FIRST_ORDER + i64::try_from(*i).unwrap_or(0);
            // One unpaid order per user: each order its own buyer.
            row.push_bind(id)
                .push_bind(id)
                .push_bind(rust_decimal::Decimal::new(2990, 2))
                .push_bind(rust_decimal::Decimal::new(2990, 2))
                .push_bind(1_i8)
                .push_bind(chrono::Utc::now().naive_utc() + chrono::Duration::minutes(30));
        });
        qb.build().execute(&db).await.context("inserting orders")?;
    }
    let signer = AppPrivateKey::from_text(&std::fs::read_to_string(
        "deploy/sandbox-keys/alipay_private.pem",
    )?)?;
    let bodies: Arc<Vec<String>> = Arc::new(
        (0..total)
            .map(|i| notify_body(&signer, i))
            .collect::<anyhow::Result<_>>()?,
    );

    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, bodies, next) =
            (client.clone(), url.clone(), bodies.clone(), next.clone());
        workers.spawn(async move {
            let mut accepted = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return Ok::<_, anyhow::Error>(accepted);
                };
                let answer = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone())
                    .send()
                    .await?
                    .text()
                    .await?;
                if answer == "success" {
                    accepted += 1;
                }
            }
        });
    }
    let mut accepted = 0;
    while let Some(done) = workers.join_next().await {
        accepted += done??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let handed_over: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pay_alipay_notify WHERE handed_over = 1")
            .fetch_one(&db)
            .await?;

    // Clean up: the queue of events nobody consumes, and the database.
    let conn = paychat_common::amqp::connect(
        &SecretString::from(AMQP_TEST_URL),
        std::time::Duration::from_secs(3),
    )
    .await?;
    let channel = conn.create_channel().await?;
    channel
        .queue_delete(
            succeeded_queue(&prefix).as_str().into(),
            QueueDeleteOptions::default(),
        )
        .await?;
    let _ = conn.close(200, "bench done".into()).await;
    if let Some((_, name)) = database_url.rsplit_once('/') {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE `{name}`")))
            .execute(&db)
            .await?;
    }

    println!(
        "notifies: {total}, concurrency: {concurrency}, accepted: {accepted}, events confirmed: {handed_over}"
    );
    println!(
        "verified notifies/s (store + RSA2 verify + order check + confirmed event): {:.0}",
        accepted as f64 / elapsed
    );
    anyhow::ensure!(accepted == total, "some notifies were not accepted");
    Ok(())
}
