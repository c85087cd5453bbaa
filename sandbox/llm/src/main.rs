//! `paychat-sandbox-llm`: runs the stand-in LLM on `--listen` (default 127.0.0.1:8091).

use anyhow::Context;
use paychat_sandbox_llm::{Settings, serve};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let settings = Settings::load(std::env::args().skip(1), |name| std::env::var(name).ok())
        .context("reading settings")?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    tracing::info!(address = %listener.local_addr()?, config = ?settings.config, "sandbox LLM listening");
    tokio::select! {
        result = serve(listener, settings.config) => result.context("serving")?,
        // A stand-in holds nothing worth draining, and stalled streams never end by themselves.
        _ = shutdown_signal() => tracing::info!("stopping on signal"),
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
