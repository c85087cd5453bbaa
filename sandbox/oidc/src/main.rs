//! `paychat-sandbox-oidc`: runs the stand-in sign-in providers on `--listen`
//! (default 127.0.0.1:8093). Local runs and tests only, never production.

use anyhow::Context;
use paychat_sandbox_oidc::{Settings, router, state};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // stdout carries only the "listening on" line.
    paychat_sandbox_support::init_logging(std::io::stderr);
    let settings = Settings::load(std::env::args().skip(1), |name| std::env::var(name).ok())
        .context("reading settings")?;
    paychat_sandbox_support::serve_http("paychat-sandbox-oidc", settings.listen, |bound| {
        let state = state(&settings, bound)?;
        tracing::info!(address = %bound, issuer = %state.issuer, "sandbox OIDC provider listening");
        Ok(router(state))
    })
    .await
}
