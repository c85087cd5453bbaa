//! `paychat-sandbox-llm`: runs the stand-in LLM on `--listen` (default 127.0.0.1:8091).

use anyhow::Context;
use paychat_sandbox_llm::{Settings, serve};
use paychat_sandbox_support::serve_until_signal;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    paychat_sandbox_support::init_logging(std::io::stdout);
    let settings = Settings::load(std::env::args().skip(1), |name| std::env::var(name).ok())
        .context("reading settings")?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    tracing::info!(address = %listener.local_addr()?, config = ?settings.config, "sandbox LLM listening");
    serve_until_signal(serve(listener, settings.config))
        .await
        .context("serving")
}
