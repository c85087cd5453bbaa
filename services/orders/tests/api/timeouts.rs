use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use lapin::options::{BasicGetOptions, BasicPublishOptions};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use paychat_orders::payments::gateway::{PaymentPort, TradeState};
use paychat_orders::states::{OrderStatus, OutboxStatus};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{AMQP_TEST_URL, eventually, spawn_app_full, spawn_app_with};

/// A TCP proxy to the shared RabbitMQ that the test can cut and restore,
/// so the broker "goes away" for this service only.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Proxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = watch::channel(0u64);
        let (up2, cut2) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let mut cuts = cut2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect("127.0.0.1:35672").await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self { port, up, cut }
    }

    fn url(&self) -> String {
        format!(
            "amqp://paychat:paychat@127.0.0.1:{}/paychat_test",
            self.port
        )
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn broker() -> Connection {
    Connection::connect(AMQP_TEST_URL, ConnectionProperties::default())
        .await
        .unwrap()
}

/// Every durable queue declared as a quorum queue, the delays through TTL
/// wait queues and dead-lettering (what a RabbitMQ cluster without the
/// delayed-message plugin runs).
fn on_quorum_queues(extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut all = vec![
        ("amqp_queue_type", "quorum".to_owned()),
        ("order_delay_mode", "ttl".to_owned()),
    ];
    all.extend(extra.iter().cloned());
    all
}

/// The queue exists as a quorum queue: redeclaring it as classic is refused.
async fn assert_quorum(queue: &str) {
    let conn = broker().await;
    let ch = conn.create_channel().await.unwrap();
    let mut args = lapin::types::FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        lapin::types::AMQPValue::LongString("classic".into()),
    );
    let declared = ch
        .queue_declare(
            queue.into(),
            lapin::options::QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            args,
        )
        .await;
    assert!(declared.is_err(), "{queue} is a classic queue");
}

#[tokio::test]
async fn an_unpaid_order_is_closed_by_its_rabbitmq_message() {
    closes_by_its_message(&[]).await;
}

#[tokio::test]
async fn an_unpaid_order_is_closed_through_a_quorum_wait_queue() {
    let app = closes_by_its_message(&on_quorum_queues(&[])).await;
    let names = app.state.broker.names();
    for queue in [
        names.timeout_queue.clone(),
        names.dead_queue.clone(),
        names.wait_queue(2),
        paychat_common::payment::succeeded_queue(&app.config.common.amqp_prefix),
    ] {
        assert_quorum(&queue).await;
    }
}

async fn closes_by_its_message(extra: &[(&'static str, String)]) -> crate::helpers::TestApp {
    let mut config = vec![
        ("payment_window_secs", "2".into()),
        ("sweeper_interval_secs", "3600".into()),
    ];
    config.extend(extra.iter().cloned());
    let app = spawn_app_with(&config).await;
    let product = app.product(5, "1.00").await;
    let user = app.user().await;
    let id = app.order_id(&user, &product, 2).await;
    assert_eq!(app.redis_stock(&product).await, 3);
    assert!(
        eventually(Duration::from_secs(5), || async {
            app.count(&format!(
                "SELECT COUNT(*) FROM chat_order_outbox WHERE status = {}",
                OutboxStatus::Sent.code()
            ))
            .await
                == 1
        })
        .await,
        "the outbox row was not published"
    );
    assert!(
        app.order_reaches(&id, OrderStatus::Closed, Duration::from_secs(15))
            .await
    );
    assert!(app.redis_stock_reaches(&product, 5).await);
    assert_eq!(app.db_available(&product).await, 5);
    let reason = app.close_reason(&id).await;
    assert_eq!(reason, "payment window expired");
    app
}

#[tokio::test]
async fn orders_succeed_while_rabbitmq_is_away_and_close_once_it_is_back() {
    let proxy = Proxy::start().await;
    let app = spawn_app_with(&[
        ("amqp_url", proxy.url()),
        ("payment_window_secs", "2".into()),
        ("sweeper_interval_secs", "3600".into()),
        ("amqp_connect_timeout_ms", "500".into()),
    ])
    .await;
    let product = app.product(5, "1.00").await;
    // Let the service connect first, then take the broker away.
    assert!(app.becomes_ready().await);
    proxy.cut();
    let user = app.user().await;
    let res = app.order_one(&user, &product, 1).await;
    assert_eq!(res.status(), 201);
    let order: Value = res.json().await.unwrap();
    let id = order["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        app.order_status(&id).await,
        OrderStatus::AwaitingPayment,
        "closed without a broker?"
    );
    assert_eq!(app.outbox_pending().await, 1);
    assert_eq!(app.get_anonymous("/readyz").await.status(), 503);

    proxy.restore();
    assert!(
        app.order_reaches(&id, OrderStatus::Closed, Duration::from_secs(20))
            .await
    );
    assert_eq!(app.outbox_pending().await, 0);
    assert!(app.redis_stock_reaches(&product, 5).await);
}

#[tokio::test]
async fn a_poison_message_ends_in_the_failure_table_not_a_loop() {
    let app = spawn_app_with(&[("sweeper_interval_secs", "3600".into())]).await;
    // The service declares its queues once it connects.
    assert!(app.becomes_ready().await);
    let conn = broker().await;
    let ch = conn.create_channel().await.unwrap();
    let queue = app.state.broker.names().timeout_queue.clone();
    ch.basic_publish(
        "".into(),
        queue.as_str().into(),
        BasicPublishOptions::default(),
        b"{not json",
        BasicProperties::default(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            app.count("SELECT COUNT(*) FROM chat_order_delay_failure_record")
                .await
                == 1
        })
        .await
    );
    let payload: String =
        sqlx::query_scalar("SELECT message_payload FROM chat_order_delay_failure_record")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(payload, "{not json");
    // Handled once: no second record, and the queue is empty.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM chat_order_delay_failure_record")
            .await,
        1
    );
    let left = ch
        .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap();
    assert!(left.is_none());
}

/// A payment side that is down: every query fails.
struct BrokenPayment;

#[async_trait]
impl PaymentPort for BrokenPayment {
    async fn query_trade(&self, _order_id: i64) -> anyhow::Result<TradeState> {
        anyhow::bail!("gateway unreachable")
    }

    async fn close_trade(&self, _order_id: i64) -> anyhow::Result<()> {
        anyhow::bail!("gateway unreachable")
    }
}

#[tokio::test]
async fn a_message_failing_three_times_is_dead_lettered_and_recorded() {
    dead_letters_after_three_failures(&[]).await;
}

#[tokio::test]
async fn on_quorum_queues_a_message_failing_three_times_is_dead_lettered_and_recorded() {
    dead_letters_after_three_failures(&on_quorum_queues(&[])).await;
}

async fn dead_letters_after_three_failures(extra: &[(&'static str, String)]) {
    let mut config = vec![
        ("payment_window_secs", "1".into()),
        ("sweeper_interval_secs", "3600".into()),
    ];
    config.extend(extra.iter().cloned());
    let app = spawn_app_full(&config, Arc::new(BrokenPayment)).await;
    let product = app.product(5, "1.00").await;
    let user = app.user().await;
    let id = app.order_id(&user, &product, 1).await;
    assert!(
        eventually(Duration::from_secs(20), || async {
            app.count("SELECT COUNT(*) FROM chat_order_delay_failure_record")
                .await
                == 1
        })
        .await
    );
    let (retries, payload): (i32, String) =
        sqlx::query_as("SELECT retry_count, message_payload FROM chat_order_delay_failure_record")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(retries, 3);
    assert!(payload.contains(&id));
    let conn = broker().await;
    let ch = conn.create_channel().await.unwrap();
    let dead = ch
        .basic_get(
            app.state.broker.names().dead_queue.as_str().into(),
            BasicGetOptions { no_ack: true },
        )
        .await
        .unwrap();
    assert!(dead.is_some(), "nothing in the dead-letter queue");
    // Never closed without the payment side's answer; stock still held.
    assert_eq!(app.order_status(&id).await, OrderStatus::AwaitingPayment);
    assert_eq!(app.redis_stock(&product).await, 4);
}

#[tokio::test]
async fn the_sweeper_closes_an_order_whose_message_was_lost() {
    // A broker address where nothing listens: no message is ever published.
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = spawn_app_with(&[
        (
            "amqp_url",
            format!("amqp://paychat:paychat@127.0.0.1:{closed_port}/paychat_test"),
        ),
        ("payment_window_secs", "1".into()),
        ("sweeper_interval_secs", "1".into()),
        ("sweeper_grace_secs", "0".into()),
        ("amqp_connect_timeout_ms", "300".into()),
    ])
    .await;
    let product = app.product(5, "1.00").await;
    let user = app.user().await;
    let id = app.order_id(&user, &product, 3).await;
    assert!(
        app.order_reaches(&id, OrderStatus::Closed, Duration::from_secs(10))
            .await
    );
    assert_eq!(app.outbox_pending().await, 1);
    assert!(app.redis_stock_reaches(&product, 5).await);
    let reason = app.close_reason(&id).await;
    assert!(reason.contains("sweeper"));
}
