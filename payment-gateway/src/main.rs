//! payment-gateway: the Alipay merchant keys, the sealed endpoints for orders
//! and Alipay's notify webhook.

use paychat_payment_gateway::app::Application;
use paychat_payment_gateway::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(&[])?;
    paychat_common::telemetry::init_logging(&config.common);
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), "payment-gateway listening");
    app.run_until_stopped().await
}
