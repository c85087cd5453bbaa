//! `paychat-sandbox-alipay`: runs the stand-in Alipay on `--listen` (default
//! 127.0.0.1:8092). Local runs and tests only, never production.

use anyhow::Context;
use paychat_sandbox_alipay::{Settings, router, state};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // stdout carries only the "listening on" line.
    paychat_sandbox_support::init_logging(std::io::stderr);
    let settings = Settings::load(std::env::args().skip(1), |name| std::env::var(name).ok())
        .context("reading settings")?;
    paychat_sandbox_support::serve_http("paychat-sandbox-alipay", settings.listen, |bound| {
        let state = state(&settings, bound)?;
        tracing::info!(address = %bound, base_url = %state.base_url, "sandbox Alipay listening");
        Ok(router(state))
    })
    .await
}
