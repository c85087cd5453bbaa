//! `spawn_app()` starts orders in-process on a free port with its own
//! database, Redis prefix and AMQP prefix, plus helpers to sign users in
//! (accounts live in chat-api: we insert `chat_user` and create a session).

use std::sync::Arc;
use std::time::Duration;

use paychat_common::auth::{Role, Sessions};
use paychat_common::redis::Keys;
use paychat_common::testing;
use paychat_orders::app::Application;
use paychat_orders::config::Config;
use paychat_orders::payments::gateway::{NoPayment, PaymentPort};
use paychat_orders::state::AppState;
use paychat_orders::states::OrderStatus;
use serde_json::{Value, json};

pub const AMQP_TEST_URL: &str = "amqp://paychat:paychat@127.0.0.1:35672/paychat_test";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: sqlx::MySqlPool,
    pub config: Config,
    pub state: AppState,
    pub sessions: Sessions,
}

pub struct User {
    pub id: i64,
    pub token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, String)]) -> TestApp {
    spawn_app_full(extra, Arc::new(NoPayment)).await
}

pub async fn spawn_app_full(extra: &[(&str, String)], payment: Arc<dyn PaymentPort>) -> TestApp {
    let database_url = testing::fresh_database().await.expect("test database");
    let mut overrides = testing::repo_config();
    overrides.extend([
        ("database_url", database_url.clone()),
        ("redis_prefix", testing::unique("t") + ":"),
        ("amqp_url", AMQP_TEST_URL.into()),
        ("amqp_prefix", testing::unique("t")),
        ("orders_bind", "127.0.0.1:0".into()),
        ("log_level", "warn".into()),
        ("outbox_interval_ms", "200".into()),
        // No gateway listens here: payment stays unavailable unless a test starts one.
        ("gateway_url", "http://127.0.0.1:9".into()),
    ]);
    // Later entries win: the test's own settings override the defaults above.
    overrides.extend(extra.iter().cloned());
    let config = Config::load(&overrides).expect("test configuration");
    paychat_common::telemetry::init_logging(&config.common);
    let app = Application::build_with(config.clone(), payment)
        .await
        .expect("app builds");
    TestApp::serve(app, config, &database_url).await
}

impl TestApp {
    /// Runs a built app in the background, with clients for its database
    /// and sessions.
    pub async fn serve(app: Application, config: Config, database_url: &str) -> TestApp {
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state.clone();
        tokio::spawn(app.run_until_stopped());
        // The app's own Redis: one node, or the cluster a test configured.
        let redis = paychat_common::redis::open(&config.common).unwrap();
        TestApp {
            address,
            client: reqwest::Client::new(),
            db: sqlx::MySqlPool::connect(database_url).await.expect("db"),
            sessions: Sessions::new(
                redis,
                Keys::new(config.common.redis_prefix.clone()),
                Duration::from_secs(3600),
            ),
            config,
            state,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn user_with_role(&self, role: Role) -> User {
        let id = self.state.ids.next();
        sqlx::query("INSERT INTO chat_user (id, nickname, role) VALUES (?, ?, ?)")
            .bind(id)
            .bind(format!("u{}", id % 100_000))
            .bind(role.as_str())
            .execute(&self.db)
            .await
            .unwrap();
        let issued = self.sessions.create(id, role).await.unwrap();
        User {
            id,
            token: issued.token,
        }
    }

    pub async fn user(&self) -> User {
        self.user_with_role(Role::User).await
    }

    pub async fn admin(&self) -> User {
        self.user_with_role(Role::Admin).await
    }

    pub async fn create_product(&self, admin: &User, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/admin/products"))
            .bearer_auth(&admin.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A product with the given stock and price; returns its id.
    pub async fn product(&self, stock: i64, price: &str) -> String {
        let admin = self.admin().await;
        let res = self
            .create_product(
                &admin,
                json!({"name": "Pack", "description": "chat times", "price": price,
                       "reward_use_times": 10, "stock": stock, "expires_days": 30}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn place_order(&self, user: &User, key: &str, items: Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/orders"))
            .bearer_auth(&user.token)
            .header("Idempotency-Key", key)
            .json(&json!({ "items": items }))
            .send()
            .await
            .unwrap()
    }

    pub async fn order_one(
        &self,
        user: &User,
        product_id: &str,
        quantity: i64,
    ) -> reqwest::Response {
        self.place_order(
            user,
            &testing::unique("k"),
            json!([{"product_id": product_id, "quantity": quantity}]),
        )
        .await
    }

    /// Places an order of one product, asserting it is created; returns its body.
    pub async fn order_body(&self, user: &User, product_id: &str, quantity: i64) -> Value {
        let res = self.order_one(user, product_id, quantity).await;
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
    }

    /// Places an order of one product, asserting it is created; returns its id.
    pub async fn order_id(&self, user: &User, product_id: &str, quantity: i64) -> String {
        let body = self.order_body(user, product_id, quantity).await;
        body["id"].as_str().unwrap().to_owned()
    }

    /// The user closes the order through the API.
    pub async fn close(&self, user: &User, order_id: &str) -> reqwest::Response {
        self.post(user, &format!("/api/orders/{order_id}/close"), json!({}))
            .await
    }

    /// A GET without a session.
    pub async fn get_anonymous(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get(&self, user: &User, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, user: &User, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&user.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// The Redis count of a product.
    pub async fn redis_stock(&self, product_id: &str) -> i64 {
        let id: i64 = product_id.parse().unwrap();
        let map = self.state.stock.available(&[id]).await.unwrap();
        map.get(&id).copied().unwrap_or(-1)
    }

    /// Whether Redis shows `units` available within five seconds: a closed
    /// order's status commits first and its stock goes back right after.
    pub async fn redis_stock_reaches(&self, product_id: &str, units: i64) -> bool {
        eventually(Duration::from_secs(5), || async {
            self.redis_stock(product_id).await == units
        })
        .await
    }

    /// What the database says is available.
    pub async fn db_available(&self, product_id: &str) -> i64 {
        let id: i64 = product_id.parse().unwrap();
        let expected = paychat_orders::stock::reconcile::expected(&self.db)
            .await
            .unwrap();
        expected[&id]
    }

    pub async fn order_status(&self, order_id: &str) -> OrderStatus {
        let code: i8 = sqlx::query_scalar("SELECT status FROM chat_order WHERE id = ?")
            .bind(order_id.parse::<i64>().unwrap())
            .fetch_one(&self.db)
            .await
            .unwrap();
        OrderStatus::from_code(code)
    }

    /// Whether the order reaches `status` within `within`.
    pub async fn order_reaches(
        &self,
        order_id: &str,
        status: OrderStatus,
        within: Duration,
    ) -> bool {
        eventually(within, || async {
            self.order_status(order_id).await == status
        })
        .await
    }

    /// Whether the service reports ready within five seconds.
    pub async fn becomes_ready(&self) -> bool {
        eventually(Duration::from_secs(5), || async {
            self.get_anonymous("/readyz").await.status() == 200
        })
        .await
    }

    /// Timeout messages written to the outbox and not yet published.
    pub async fn outbox_pending(&self) -> i64 {
        paychat_orders::timeouts::outbox::pending(&self.db)
            .await
            .unwrap()
    }

    /// The remark the order's history gives for closing it.
    pub async fn close_reason(&self, order_id: &str) -> String {
        sqlx::query_scalar(
            "SELECT remark FROM chat_order_history WHERE order_id = ? AND order_status = ?",
        )
        .bind(order_id.parse::<i64>().unwrap())
        .bind(OrderStatus::Closed)
        .fetch_one(&self.db)
        .await
        .unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.db)
            .await
            .unwrap()
    }
}

pub use paychat_common::testing::eventually;

pub async fn error_code(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    (status, body)
}

/// Asserts the answer is the given status and error code; returns its body.
pub async fn assert_error(res: reqwest::Response, status: u16, code: &str) -> Value {
    let (actual, body) = error_code(res).await;
    assert_eq!(
        (actual, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    body
}
