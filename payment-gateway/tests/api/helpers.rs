//! `spawn_app()`: the gateway on a free port against a fresh database, with
//! the sandbox Alipay as a process, and typed helpers to talk to it.

use paychat_common::envelope::{EnvelopePrivateKey, EnvelopePublicKey};
use paychat_common::testing::{self, SandboxProcess};
use paychat_payment_gateway::app::Application;
use paychat_payment_gateway::config::Config;
use serde_json::Value;
use sqlx::MySqlPool;

pub const AMQP_TEST_URL: &str = "amqp://paychat:paychat@127.0.0.1:35672/paychat_test";

/// A running gateway and what a test needs to talk to it and look behind it.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub db: MySqlPool,
    pub sandbox: SandboxProcess,
    pub orders_key: EnvelopePrivateKey,
    pub gateway_pub: EnvelopePublicKey,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, String)]) -> TestApp {
    let sandbox = SandboxProcess::alipay().unwrap();
    let database_url = testing::fresh_database().await.expect("test database");
    let mut overrides = testing::repo_config();
    overrides.extend([
        ("database_url", database_url.clone()),
        ("redis_prefix", testing::unique("t") + ":"),
        ("amqp_url", AMQP_TEST_URL.into()),
        ("amqp_prefix", testing::unique("t")),
        ("gateway_bind", "127.0.0.1:0".into()),
        ("alipay_gateway_url", format!("{}/gateway.do", sandbox.base)),
        (
            "alipay_notify_url",
            "http://127.0.0.1:9/api/alipay/notify".into(),
        ),
        ("alipay_app_id", testing::SANDBOX_ALIPAY_APP_ID.into()),
        ("alipay_seller_id", testing::SANDBOX_ALIPAY_SELLER_ID.into()),
        ("log_level", "warn".into()),
    ]);
    overrides.extend(extra.iter().cloned());
    let config = Config::load(&overrides).expect("test configuration");
    let app = Application::build(config).await.expect("gateway builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        http: reqwest::Client::new(),
        db: MySqlPool::connect(&database_url).await.unwrap(),
        sandbox,
        orders_key: EnvelopePrivateKey::from_pkcs8_pem(
            &testing::sandbox_key("orders_envelope_private.pem").unwrap(),
        )
        .unwrap(),
        gateway_pub: EnvelopePublicKey::from_spki_pem(
            &testing::sandbox_key("gateway_envelope_public.pem").unwrap(),
        )
        .unwrap(),
    }
}

impl TestApp {
    pub async fn post_json(&self, path: &str, body: &impl serde::Serialize) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Posts a notify form as Alipay would.
    pub async fn notify(&self, form: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(format!("{}/api/alipay/notify", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn notify_rows(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM pay_alipay_notify")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// The sandbox Alipay's view of a trade: HTTP status and the trade.
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
}

/// Asserts the answer is the given status and error code.
pub async fn assert_error(res: reqwest::Response, status: u16, code: &str) {
    let actual = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(
        (actual, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
}
