//! orders: products, Redis stock, orders, timeouts, redemption codes and admin.

use paychat_orders::app::Application;
use paychat_orders::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load(&[])?;
    paychat_common::telemetry::init_logging(&config.common);
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), "orders listening");
    app.run_until_stopped().await
}
