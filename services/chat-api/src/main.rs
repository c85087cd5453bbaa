//! chat-api: accounts, sessions, chat rooms and the streaming relay.

use paychat_chat_api::app::Application;
use paychat_chat_api::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(&[])?;
    paychat_common::telemetry::init_logging(&config.common);
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), "chat-api listening");
    app.run_until_stopped().await
}
