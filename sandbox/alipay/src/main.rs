//! `paychat-sandbox-alipay`: runs the stand-in Alipay on `--listen` (default
//! 127.0.0.1:8092). Local runs and tests only, never production.

use anyhow::Context;
use paychat_sandbox_alipay::{Settings, router, state};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let settings = Settings::load(std::env::args().skip(1), |name| std::env::var(name).ok())
        .context("reading settings")?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    let bound = listener.local_addr()?;
    let state = state(&settings, bound)?;
    // Tests (and scripts) read this line to learn the port when started on port 0.
    println!("paychat-sandbox-alipay listening on http://{bound}");
    tracing::info!(address = %bound, base_url = %state.base_url, "sandbox Alipay listening");
    tokio::select! {
        result = axum::serve(listener, router(state)) => result.context("serving")?,
        _ = shutdown_signal() => tracing::info!("stopping on signal"),
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
