//! `paychat-sandbox-mail`: the stand-in mail server, SMTP on `--smtp` (default
//! 127.0.0.1:2525) and its API and page on `--http` (default 127.0.0.1:8025).

use anyhow::Context;
use paychat_sandbox_mail::{Mailbox, Settings, serve_with};
use tokio::net::TcpListener;
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
    let smtp = TcpListener::bind(settings.smtp)
        .await
        .with_context(|| format!("binding SMTP on {}", settings.smtp))?;
    let http = TcpListener::bind(settings.http)
        .await
        .with_context(|| format!("binding HTTP on {}", settings.http))?;
    tracing::info!(smtp = %smtp.local_addr()?, http = %http.local_addr()?, capacity = settings.capacity, "sandbox mail listening");
    tokio::select! {
        result = serve_with(smtp, http, Mailbox::new(settings.capacity)) => result?,
        () = shutdown_signal() => tracing::info!("stopping on signal"),
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
