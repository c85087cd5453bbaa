//! The scale-out run (`make test-cluster`): two copies of each service behind
//! nginx, on a Redis Cluster (3 masters, a replica each) and a 3-node RabbitMQ
//! cluster with quorum queues, all started by `scripts/cluster.sh test`, which
//! passes the edge and the database here. Without `PAYCHAT_CLUSTER_EDGE` (a
//! plain `cargo nextest run`) this test says it is skipped and passes: that
//! script is where it runs, and `make test` runs that script.
//!
//! A flash sale across both order copies and payments whose notifies land on
//! either gateway copy, while one copy of each service is killed, a Redis
//! master fails over to its replica and a RabbitMQ node stops. Then: exactly
//! the stock sold, no buyer with two orders, every paid order fulfilled once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use paychat_common::auth::{Role, Sessions};
use paychat_common::redis::Keys;
use serde_json::{Value, json};

const STOCK: i64 = 60;
const BUYERS: usize = 150;
const PAID: usize = 20;
/// Completions one user asks for at once; `chat_max_streams_per_user` is 2.
const STREAMS: usize = 6;
const MAX_STREAMS: usize = 2;

struct Run {
    edge: String,
    db: sqlx::MySqlPool,
    sessions: Sessions,
    http: reqwest::Client,
    root: String,
    next_id: std::sync::atomic::AtomicI64,
}

impl Run {
    async fn user(&self, role: Role) -> (i64, String) {
        self.user_with_times(role, 0).await
    }

    async fn user_with_times(&self, role: Role, times: i32) -> (i64, String) {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        sqlx::query(
            "INSERT INTO chat_user (id, nickname, can_conversation_times, role) VALUES (?, ?, ?, ?)",
        )
        .bind(id)
        .bind(format!("c{}", id % 1_000_000))
        .bind(times)
        .bind(role.as_str())
        .execute(&self.db)
        .await
        .unwrap();
        (id, self.sessions.create(id, role).await.unwrap().token)
    }

    /// A POST through the edge, retried with the same body and key while the
    /// answer is a 5xx or the connection fails (a copy just died, Redis is
    /// failing over): what a client does, and the idempotency key keeps it
    /// one order.
    async fn post(&self, token: &str, path: &str, key: &str, body: &Value) -> (u16, Value) {
        let started = Instant::now();
        loop {
            let sent = self
                .http
                .post(format!("{}{path}", self.edge))
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(body)
                .send()
                .await;
            if let Ok(res) = sent {
                let status = res.status().as_u16();
                if status < 500 || started.elapsed() > Duration::from_secs(60) {
                    return (status, res.json().await.unwrap_or(Value::Null));
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// `STREAMS` completions of one user at once through the edge, so over
    /// both chat-api copies; each long enough (a long prompt streams for a
    /// few seconds) that they overlap. Returns (streams served, refused with
    /// 429, chat times spent).
    async fn chat_burst(&self, times: i32) -> (usize, usize, i64) {
        let (user, token) = self.user_with_times(Role::User, times).await;
        let prompt = "stream ".repeat(150);
        let answers = join_all((0..STREAMS).map(|_| async {
            let res = self
                .http
                .post(format!("{}/api/chat/completions", self.edge))
                .bearer_auth(&token)
                .json(&json!({ "prompt": prompt }))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body = res.text().await.unwrap_or_default();
            (status, body.contains("[DONE]") || body.contains("\"done\""))
        }))
        .await;
        let served = answers.iter().filter(|(s, _)| *s == 200).count();
        let refused = answers.iter().filter(|(s, _)| *s == 429).count();
        let left: i32 =
            sqlx::query_scalar("SELECT can_conversation_times FROM chat_user WHERE id = ?")
                .bind(user)
                .fetch_one(&self.db)
                .await
                .unwrap();
        (served, refused, i64::from(times - left))
    }

    async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Runs `scripts/cluster.sh ARGS` (a kill, a failover); prints what it did.
    fn chaos(&self, what: &str, args: &[&str]) {
        let started = Instant::now();
        let out = Command::new(format!("{}/scripts/cluster.sh", self.root))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        println!(
            "KILLED/FAILED: {what} ({}) in {:.1} s",
            String::from_utf8_lossy(&out.stdout).trim(),
            started.elapsed().as_secs_f64()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flash_sale_and_payments_survive_losing_a_copy_of_everything() {
    let Ok(edge) = std::env::var("PAYCHAT_CLUSTER_EDGE") else {
        eprintln!("SKIPPED: PAYCHAT_CLUSTER_EDGE unset; make test-cluster runs this");
        return;
    };
    let started = Instant::now();
    let database = std::env::var("PAYCHAT_CLUSTER_DATABASE_URL").unwrap();
    let nodes = std::env::var("PAYCHAT_CLUSTER_REDIS_NODES").unwrap();
    let prefix = std::env::var("PAYCHAT_CLUSTER_REDIS_PREFIX").unwrap();
    let nodes: Vec<secrecy::SecretString> = paychat_common::config::split_list(&nodes)
        .map(|n| secrecy::SecretString::from(n.to_owned()))
        .collect();
    let redis = paychat_common::redis::connect_cluster(&nodes).unwrap();
    let run = Arc::new(Run {
        edge,
        db: sqlx::MySqlPool::connect(&database).await.unwrap(),
        sessions: Sessions::new(
            redis.clone(),
            Keys::new(prefix.clone()),
            Duration::from_secs(3600),
        ),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        root: format!("{}/../..", env!("CARGO_MANIFEST_DIR")),
        next_id: std::sync::atomic::AtomicI64::new(
            1_000_000_000 + i64::from(rand::random::<u16>()) * 10_000,
        ),
    });

    // A flash-sale product, created through the edge.
    let (_, admin) = run.user(Role::Admin).await;
    let (status, product) = run
        .post(
            &admin,
            "/api/admin/products",
            &paychat_common::testing::unique("p"),
            &json!({"name": "Flash", "description": "cluster run", "price": "1.00",
                    "reward_use_times": 5, "stock": STOCK, "expires_days": 30, "seckill": true}),
        )
        .await;
    assert_eq!(status, 201, "{product}");
    let product = product["id"].as_str().unwrap().to_owned();
    let product_id: i64 = product.parse().unwrap();

    // Chat while both copies are up: the per-user cap holds across copies.
    let chat_before = run.chat_burst(10).await;
    println!(
        "chat, both copies up: {STREAMS} streams at once -> {} served, {} refused (429), {} chat times spent",
        chat_before.0, chat_before.1, chat_before.2
    );

    let mut buyers = Vec::new();
    for _ in 0..BUYERS {
        buyers.push(run.user(Role::User).await);
    }
    println!(
        "flash sale: {BUYERS} buyers on {STOCK} units of product {product}, through {}",
        run.edge
    );

    // The sale, with the first losses in the middle of it.
    let sale = {
        let run = run.clone();
        let product = product.clone();
        let buyers = buyers.clone();
        tokio::spawn(async move {
            join_all(buyers.iter().map(|(_, token)| {
                let run = run.clone();
                let product = product.clone();
                async move {
                    // Arrivals spread over 1.5 s, so the losses land mid-sale.
                    tokio::time::sleep(Duration::from_millis(rand::random_range(0..1500))).await;
                    let key = paychat_common::testing::unique("k");
                    run.post(
                        token,
                        "/api/orders",
                        &key,
                        &json!({"items": [{"product_id": product, "quantity": 1}]}),
                    )
                    .await
                }
            }))
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(600)).await;
    run.chaos("orders copy 1 (SIGKILL)", &["kill", "orders-1"]);
    run.chaos("chat-api copy 1 (SIGKILL)", &["kill", "chat-api-1"]);
    run.chaos(
        "the Redis master holding the stock keys' slot",
        &["failover"],
    );
    let answers = sale.await.unwrap();
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    let mut orders = Vec::new();
    for ((user, token), (status, body)) in buyers.iter().zip(&answers) {
        *by_status.entry(*status).or_default() += 1;
        if *status == 201 {
            orders.push((
                *user,
                token.clone(),
                body["id"].as_str().unwrap().to_owned(),
            ));
        }
    }
    println!("flash sale answers by status: {by_status:?}");

    // Units a failed request reserved in Redis but never sold (its give-back
    // failed too, during the failover) come back with the stock
    // reconciliation (every 5 s in this run); late buyers then take them.
    let mut late = 0;
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let sold = run
            .scalar(&format!(
                "SELECT CAST(COALESCE(SUM(exchange_num), 0) AS SIGNED) FROM chat_order_item WHERE product_id = {product_id}"
            ))
            .await;
        assert!(sold <= STOCK, "oversold: {sold} of {STOCK}");
        if sold == STOCK || Instant::now() > deadline {
            break;
        }
        let (user, token) = run.user(Role::User).await;
        let (status, body) = run
            .post(
                &token,
                "/api/orders",
                &paychat_common::testing::unique("k"),
                &json!({"items": [{"product_id": product, "quantity": 1}]}),
            )
            .await;
        if status == 201 {
            late += 1;
            orders.push((user, token, body["id"].as_str().unwrap().to_owned()));
        } else {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    println!("late buyers served after the reconciliation: {late}");

    // Chat again on the surviving copy.
    let chat_after = run.chat_burst(10).await;
    println!(
        "chat, one copy left: {STREAMS} streams at once -> {} served, {} refused (429), {} chat times spent",
        chat_after.0, chat_after.1, chat_after.2
    );

    // Payments, spread over 3 s, with a gateway copy and a RabbitMQ node
    // gone in the middle of them (after a third of the notifies).
    let paid: Vec<_> = orders.iter().take(PAID).cloned().collect();
    let chaos = {
        let run = run.clone();
        tokio::spawn(async move {
            // Once some notifies have been taken (by either copy), so both
            // copies take some and the rest land on the survivor.
            let deadline = Instant::now() + Duration::from_secs(20);
            while run.scalar("SELECT COUNT(*) FROM pay_alipay_notify").await < (PAID / 3) as i64
                && Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            tokio::task::spawn_blocking(move || {
                run.chaos(
                    "payment-gateway copy 1 (SIGKILL)",
                    &["kill", "payment-gateway-1"],
                );
                run.chaos("RabbitMQ node rq3 (stopped)", &["rabbit-stop", "3"]);
            })
            .await
            .unwrap();
        })
    };
    let payments = join_all(paid.iter().enumerate().map(|(i, (_, token, order))| {
        let run = run.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(150 * i as u64)).await;
            let (status, body) = run
                .post(
                    token,
                    &format!("/api/orders/{order}/pay"),
                    &paychat_common::testing::unique("pay"),
                    &json!({}),
                )
                .await;
            assert_eq!(status, 200, "pay {order}: {body}");
            let trade = body["out_trade_no"].as_str().unwrap().to_owned();
            // The buyer pays; the sandbox's notify goes to the edge, so to either gateway.
            let res = run
                .http
                .post(format!("http://127.0.0.1:8092/sim/pay/{trade}"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "sandbox pay {trade}");
        }
    }));
    payments.await;
    chaos.await.unwrap();
    let ids: Vec<String> = paid.iter().map(|(_, _, o)| o.clone()).collect();
    let list = ids.join(",");
    let deadline = Instant::now() + Duration::from_secs(90);
    let completed = loop {
        let n = run
            .scalar(&format!(
                "SELECT COUNT(*) FROM chat_order WHERE id IN ({list}) AND status = {}",
                paychat_orders::states::OrderStatus::Completed.code()
            ))
            .await;
        if n == PAID as i64 || Instant::now() > deadline {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };

    // The invariants.
    let placed = run
        .scalar(&format!(
            "SELECT COUNT(*) FROM chat_order_item WHERE product_id = {product_id}"
        ))
        .await;
    let units = run
        .scalar(&format!(
            "SELECT CAST(COALESCE(SUM(exchange_num), 0) AS SIGNED) FROM chat_order_item WHERE product_id = {product_id}"
        ))
        .await;
    let buyers_twice = run
        .scalar(&format!(
            "SELECT COUNT(*) FROM (SELECT o.user_id FROM chat_order o JOIN chat_order_item i ON i.order_id = o.id \
             WHERE i.product_id = {product_id} GROUP BY o.user_id HAVING COUNT(*) > 1) t"
        ))
        .await;
    let mut conn = redis.clone();
    let left: Option<i64> = redis::cmd("GET")
        .arg(format!("{prefix}stock:{{stock}}:{product_id}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let paid_rows = run
        .scalar(&format!(
            "SELECT COUNT(*) FROM chat_order_history WHERE order_id IN ({list}) AND pay_status = {}",
            paychat_orders::states::PayStatus::Paid.code()
        ))
        .await;
    let codes = run
        .scalar(&format!(
            "SELECT COUNT(*) FROM chat_exchange WHERE order_id IN ({list})"
        ))
        .await;
    let sale_count = run
        .scalar(&format!(
            "SELECT CAST(sale AS SIGNED) FROM chat_product WHERE id = {product_id}"
        ))
        .await;
    println!("INVARIANTS:");
    println!(
        "  orders created (201)            {} ({late} of them after the reconciliation)",
        orders.len()
    );
    println!("  order items for the product      {placed} ({units} units), stock {STOCK}");
    println!("  Redis stock left                 {left:?}");
    println!("  buyers holding two orders        {buyers_twice}");
    println!("  paid orders completed            {completed} of {PAID}");
    println!("  'paid' history rows              {paid_rows} (one per paid order)");
    println!("  codes issued to paid orders      {codes} (one per paid order)");
    println!("  product sale count               {sale_count}");
    println!("  run took {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "  chat bursts (served, refused, times spent) {chat_before:?} then {chat_after:?}, cap {MAX_STREAMS}"
    );
    for (served, refused, spent) in [chat_before, chat_after] {
        assert_eq!(served, MAX_STREAMS, "the stream cap holds across copies");
        assert_eq!(refused, STREAMS - MAX_STREAMS);
        assert_eq!(spent, served as i64, "one chat time per stream served");
    }
    assert_eq!(units, STOCK, "exactly the stock sold");
    assert_eq!(
        orders.len() as i64,
        placed,
        "every 201 is one order, no more"
    );
    assert_eq!(left, Some(0), "Redis agrees nothing is left");
    assert_eq!(buyers_twice, 0, "nobody got two orders");
    assert_eq!(completed, PAID as i64, "every paid order completed");
    assert_eq!(paid_rows, PAID as i64, "each paid once");
    assert_eq!(codes, PAID as i64, "each fulfilled once");
    assert_eq!(sale_count, PAID as i64, "sold counted once per paid order");
}
