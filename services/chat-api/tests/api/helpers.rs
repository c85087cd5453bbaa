//! `spawn_app()` starts chat-api in-process on a free port with its own
//! database and Redis prefix.

use paychat_chat_api::app::Application;
use paychat_chat_api::config::Config;
use paychat_common::testing;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: sqlx::MySqlPool,
    pub config: Config,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra: &[(&str, String)]) -> TestApp {
    let database_url = testing::fresh_database().await.expect("test database");
    let mut overrides = testing::repo_config();
    overrides.extend([
        ("database_url", database_url.clone()),
        ("redis_prefix", testing::unique("t") + ":"),
        ("chat_bind", "127.0.0.1:0".into()),
        ("log_level", "warn".into()),
    ]);
    overrides.extend(extra.iter().cloned());
    let config = Config::load(&overrides).expect("test configuration");
    let app = Application::build(config.clone())
        .await
        .expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        db: sqlx::MySqlPool::connect(&database_url).await.expect("db"),
        config,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// GETs a path that needs no sign-in and reads the JSON answer.
    pub async fn get_public_json(&self, path: &str) -> serde_json::Value {
        self.read_json(self.client.get(self.url(path))).await
    }

    /// Sends the request and reads the JSON answer.
    pub async fn read_json(&self, request: reqwest::RequestBuilder) -> serde_json::Value {
        request.send().await.unwrap().json().await.unwrap()
    }
}
