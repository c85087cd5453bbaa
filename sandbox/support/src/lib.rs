//! Start-up pieces the sandbox stand-ins share: logging set from `RUST_LOG`
//! (default `info`) and running a server until SIGTERM or Ctrl-C. Kept apart
//! from `paychat-common` so no sandbox links service code.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;

use anyhow::Context;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Logs to `writer` at the level `RUST_LOG` asks for, `info` when it is unset or unreadable.
pub fn init_logging<W>(writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(writer)
        .init();
}

/// Runs `server` until it ends or a stop signal arrives. A stand-in holds nothing
/// worth draining, and stalled streams never end by themselves, so a signal stops
/// it at once.
pub async fn serve_until_signal<E>(server: impl Future<Output = Result<(), E>>) -> Result<(), E> {
    tokio::select! {
        result = server => result,
        () = shutdown_signal() => {
            tracing::info!("stopping on signal");
            Ok(())
        }
    }
}

/// Binds `listen` (port 0 picks one), builds the stand-in's router for the bound
/// address with `app`, prints `<name> listening on http://<address>` on stdout
/// (tests and scripts read that line to learn the port) and serves until a stop
/// signal.
pub async fn serve_http(
    name: &str,
    listen: SocketAddr,
    app: impl FnOnce(SocketAddr) -> anyhow::Result<axum::Router>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let bound = listener.local_addr()?;
    let router = app(bound)?;
    println!("{name} listening on http://{bound}");
    serve_until_signal(axum::serve(listener, router).into_future())
        .await
        .context("serving")
}

/// Resolves on SIGTERM or Ctrl-C (only Ctrl-C where SIGTERM cannot be watched).
pub async fn shutdown_signal() {
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
