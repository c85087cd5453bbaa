//! The payment harness: the sandbox Alipay (its own process,
//! `target/debug/paychat-sandbox-alipay`), the payment gateway and orders
//! (in-process, real HTTP) on one fresh database, Redis and the `paychat_test`
//! RabbitMQ vhost under unique prefixes, and the shared mail sink; with the
//! typed helpers the payment tests drive them through.

use std::time::Duration;

use paychat_common::testing;
use paychat_orders::app::Application;
use paychat_orders::config::Config;
use paychat_orders::states::{OrderStatus, PayStatus};
use paychat_payment_gateway::alipay::AppPrivateKey;
use paychat_payment_gateway::alipay::sign::notify_sign_content;
use serde_json::{Value, json};

use crate::helpers::{AMQP_TEST_URL, TestApp, User, eventually};

pub const APP_ID: &str = testing::SANDBOX_ALIPAY_APP_ID;
pub const SELLER_ID: &str = testing::SANDBOX_ALIPAY_SELLER_ID;
pub const MAIL_API: &str = "http://127.0.0.1:8025/api/messages";
pub const WAIT: Duration = Duration::from_secs(30);

pub fn key(name: &str) -> String {
    testing::sandbox_key(name).unwrap()
}

/// The sandbox Alipay process; killed (by its own handle) when the test ends.
pub type Sandbox = testing::SandboxProcess;

/// Everything the payment tests drive.
pub struct PayApp {
    pub app: TestApp,
    pub sandbox: Sandbox,
    pub gateway: String,
    pub gateway_port: u16,
    pub database_url: String,
    pub redis_prefix: String,
    pub amqp_prefix: String,
    pub http: reqwest::Client,
}

pub async fn start_gateway(
    database_url: &str,
    redis_prefix: &str,
    amqp_prefix: &str,
    port: u16,
    sandbox: &Sandbox,
) {
    let mut overrides = testing::repo_config();
    overrides.extend([
        ("database_url", database_url.to_owned()),
        ("redis_prefix", redis_prefix.to_owned()),
        ("amqp_url", AMQP_TEST_URL.into()),
        ("amqp_prefix", amqp_prefix.to_owned()),
        ("gateway_bind", format!("127.0.0.1:{port}")),
        ("alipay_gateway_url", format!("{}/gateway.do", sandbox.base)),
        (
            "alipay_notify_url",
            format!("http://127.0.0.1:{port}/api/alipay/notify"),
        ),
        ("alipay_app_id", APP_ID.into()),
        ("alipay_seller_id", SELLER_ID.into()),
        ("log_level", "warn".into()),
    ]);
    let config = paychat_payment_gateway::config::Config::load(&overrides).unwrap();
    let gateway = paychat_payment_gateway::app::Application::build(config)
        .await
        .expect("gateway builds");
    tokio::spawn(gateway.run_until_stopped());
}

pub async fn pay_app_with(extra: &[(&str, String)], gateway_up: bool) -> PayApp {
    let sandbox = Sandbox::alipay().unwrap();
    let database_url = testing::fresh_database().await.expect("test database");
    let redis_prefix = testing::unique("t") + ":";
    let amqp_prefix = testing::unique("t");
    let gateway_port = testing::free_port().unwrap();
    if gateway_up {
        start_gateway(
            &database_url,
            &redis_prefix,
            &amqp_prefix,
            gateway_port,
            &sandbox,
        )
        .await;
    }
    let mut overrides = testing::repo_config();
    overrides.extend([
        ("database_url", database_url.clone()),
        ("redis_prefix", redis_prefix.clone()),
        ("amqp_url", AMQP_TEST_URL.into()),
        ("amqp_prefix", amqp_prefix.clone()),
        ("orders_bind", "127.0.0.1:0".into()),
        ("log_level", "warn".into()),
        ("outbox_interval_ms", "200".into()),
        ("gateway_url", format!("http://127.0.0.1:{gateway_port}")),
    ]);
    overrides.extend(extra.iter().cloned());
    let config = Config::load(&overrides).expect("test configuration");
    paychat_common::telemetry::init_logging(&config.common);
    let app = Application::build(config.clone())
        .await
        .expect("app builds");
    let app = TestApp::serve(app, config, &database_url).await;
    PayApp {
        app,
        sandbox,
        gateway: format!("http://127.0.0.1:{gateway_port}"),
        gateway_port,
        database_url,
        redis_prefix,
        amqp_prefix,
        http: reqwest::Client::new(),
    }
}

pub async fn pay_app() -> PayApp {
    pay_app_with(&[], true).await
}

impl PayApp {
    /// A buyer with a verified email address (where the codes go).
    pub async fn buyer(&self) -> (User, String) {
        let user = self.app.user().await;
        let email = format!("{}@example.com", testing::unique("buyer"));
        let email_id = self.app.state.ids.next();
        sqlx::query(
            "INSERT INTO chat_user_binding_email (id, username, password, verified) VALUES (?, ?, 'x', 1)",
        )
        .bind(email_id)
        .bind(&email)
        .execute(&self.app.db)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO chat_user_binding (id, binding_type, user_binding_email_id, user_id) \
             VALUES (?, 'email', ?, ?)",
        )
        .bind(self.app.state.ids.next())
        .bind(email_id)
        .bind(user.id)
        .execute(&self.app.db)
        .await
        .unwrap();
        (user, email)
    }

    /// Places an order and returns its id.
    pub async fn order(&self, user: &User, product: &str, quantity: i64) -> String {
        self.app.order_id(user, product, quantity).await
    }

    pub async fn pay(&self, user: &User, order_id: &str) -> reqwest::Response {
        self.app
            .post(user, &format!("/api/orders/{order_id}/pay"), json!({}))
            .await
    }

    /// Pays through the API and returns the answer (asserting 200).
    pub async fn pay_ok(&self, user: &User, order_id: &str) -> Value {
        let res = self.pay(user, order_id).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Pays through the API and returns the trade number of the QR code.
    pub async fn out_trade_no(&self, user: &User, order_id: &str) -> String {
        self.pay_ok(user, order_id).await["out_trade_no"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A buyer with an order of `quantity` that has a QR code to pay:
    /// the buyer, the order id and the trade number.
    pub async fn order_with_qr(&self, product: &str, quantity: i64) -> (User, String, String) {
        let (buyer, _) = self.buyer().await;
        let order_id = self.order(&buyer, product, quantity).await;
        let out_trade_no = self.out_trade_no(&buyer, &order_id).await;
        (buyer, order_id, out_trade_no)
    }

    /// The order as its buyer reads it (`GET /api/orders/{id}`).
    pub async fn order_json(&self, user: &User, order_id: &str) -> Value {
        self.app
            .get(user, &format!("/api/orders/{order_id}"))
            .await
            .json()
            .await
            .unwrap()
    }

    /// Lets the QR code of this trade run out here (Alipay's copy stays payable).
    pub async fn expire_qr(&self, out_trade_no: &str) {
        sqlx::query(
            "UPDATE chat_order_history SET qr_expire_time = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND \
             WHERE out_trade_no = ?",
        )
        .bind(out_trade_no)
        .execute(&self.app.db)
        .await
        .unwrap();
    }

    /// Whether exactly one mail to this address (of this business type, when
    /// given) is in the send log within the wait.
    pub async fn one_mail_logged(&self, to: &str, biz_type: Option<i32>) -> bool {
        eventually(WAIT, || async {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sys_email_send_log WHERE to_email_address = ? \
                 AND (? IS NULL OR biz_type = ?)",
            )
            .bind(to)
            .bind(biz_type)
            .bind(biz_type)
            .fetch_one(&self.app.db)
            .await
            .unwrap();
            n == 1
        })
        .await
    }

    /// How many refunds the order's payment history records.
    pub async fn refunded_history_rows(&self, order_id: &str) -> i64 {
        self.history_rows(order_id, PayStatus::Refunded).await
    }

    /// The buyer scans and pays at the sandbox (`drop`: no notify is sent).
    pub async fn sandbox_pays(&self, out_trade_no: &str, drop: bool) -> Value {
        let query = if drop { "?notify=drop" } else { "" };
        let res = self
            .http
            .post(format!(
                "{}/sim/pay/{out_trade_no}{query}",
                self.sandbox.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    pub async fn sandbox_trade(&self, out_trade_no: &str) -> (u16, Value) {
        let res = self
            .http
            .get(format!("{}/sim/trades/{out_trade_no}", self.sandbox.base))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Alipay's side of the trade is in `status` (TRADE_SUCCESS, TRADE_CLOSED).
    pub async fn assert_trade_status(&self, out_trade_no: &str, status: &str) {
        let (_, trade) = self.sandbox_trade(out_trade_no).await;
        assert_eq!(trade["trade_status"], json!(status), "{trade}");
    }

    /// Whether one refund of the order is recorded within the wait.
    pub async fn refund_recorded(&self, order_id: &str) -> bool {
        eventually(WAIT, || async {
            self.refunded_history_rows(order_id).await == 1
        })
        .await
    }

    pub async fn wait_for_status(&self, order_id: &str, status: OrderStatus) -> bool {
        self.app.order_reaches(order_id, status, WAIT).await
    }

    pub async fn notify(&self, body: String) -> String {
        self.http
            .post(format!("{}/api/alipay/notify", self.gateway))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn scalar_i64(&self, sql: &str, id: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
            .bind(id.parse::<i64>().unwrap())
            .fetch_one(&self.app.db)
            .await
            .unwrap()
    }

    pub async fn owned_codes(&self, user: &User, order_id: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT code FROM chat_exchange WHERE owner_user_id = ? AND order_id = ? \
             AND is_occupied = 1 AND activation_time IS NOT NULL ORDER BY id",
        )
        .bind(user.id)
        .bind(order_id.parse::<i64>().unwrap())
        .fetch_all(&self.app.db)
        .await
        .unwrap()
    }

    pub async fn product_stock_sale(&self, product: &str) -> (i32, i32) {
        sqlx::query_as("SELECT stock, sale FROM chat_product WHERE id = ?")
            .bind(product.parse::<i64>().unwrap())
            .fetch_one(&self.app.db)
            .await
            .unwrap()
    }

    pub async fn paid_history_rows(&self, order_id: &str) -> i64 {
        self.history_rows(order_id, PayStatus::Paid).await
    }

    /// The order's history rows with this pay status.
    pub async fn history_rows(&self, order_id: &str, status: PayStatus) -> i64 {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM chat_order_history WHERE order_id = ? AND pay_status = ?",
        )
        .bind(order_id.parse::<i64>().unwrap())
        .bind(status)
        .fetch_one(&self.app.db)
        .await
        .unwrap()
    }

    /// The raw body of the notify the gateway handed over for this trade.
    pub async fn captured_notify(&self, out_trade_no: &str) -> String {
        sqlx::query_scalar(
            "SELECT raw_body FROM pay_alipay_notify WHERE out_trade_no = ? AND handed_over = 1 \
             ORDER BY id LIMIT 1",
        )
        .bind(out_trade_no)
        .fetch_one(&self.app.db)
        .await
        .unwrap()
    }

    pub async fn mails_to(&self, to: &str) -> Vec<Value> {
        let res = self
            .http
            .get(format!(
                "{MAIL_API}?{}",
                serde_urlencoded::to_string([("to", to)]).unwrap()
            ))
            .send()
            .await
            .unwrap();
        res.json::<Vec<Value>>().await.unwrap_or_default()
    }
}

/// A stored code as the buyer sees it: groups of four joined by dashes.
pub fn grouped(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A notify signed with the sandbox's "Alipay" key, as Alipay would send it.
pub fn signed_notify(fields: &[(&str, &str)], tamper: Option<(&str, &str)>) -> String {
    let alipay_key = AppPrivateKey::from_text(&key("alipay_private.pem")).unwrap();
    let mut params: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    params.push(("sign_type".into(), "RSA2".into()));
    let content =
        notify_sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
    params.push(("sign".into(), alipay_key.sign(content.as_bytes()).unwrap()));
    if let Some((k, v)) = tamper {
        for p in &mut params {
            if p.0 == k {
                p.1 = v.to_owned();
            }
        }
    }
    serde_urlencoded::to_string(&params).unwrap()
}
