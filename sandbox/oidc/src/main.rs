//! `paychat-sandbox-oidc`: runs the stand-in sign-in providers on `--listen`
//! (default 127.0.0.1:8093). Local runs and tests only, never production.

use anyhow::Context;
use paychat_sandbox_oidc::{Settings, router, state};
use paychat_sandbox_support::serve_until_signal;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // stdout carries only the "listening on" line below.
    paychat_sandbox_support::init_logging(std::io::stderr);
    let settings = Settings::load(std::env::args().skip(1), |name| std::env::var(name).ok())
        .context("reading settings")?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("binding {}", settings.listen))?;
    let bound = listener.local_addr()?;
    let state = state(&settings, bound)?;
    // Tests (and scripts) read this line to learn the port when started on port 0.
    println!("paychat-sandbox-oidc listening on http://{bound}");
    tracing::info!(address = %bound, issuer = %state.issuer, "sandbox OIDC provider listening");
    serve_until_signal(axum::serve(listener, router(state)).into_future())
        .await
        .context("serving")
}
