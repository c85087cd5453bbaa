//! `paychat-sandbox-mail`: the stand-in mail server, SMTP on `--smtp` (default
//! 127.0.0.1:2525) and its API and page on `--http` (default 127.0.0.1:8025).

use anyhow::Context;
use paychat_sandbox_mail::{Mailbox, Settings, serve_with};
use paychat_sandbox_support::serve_until_signal;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    paychat_sandbox_support::init_logging(std::io::stdout);
    let settings = Settings::load(std::env::args().skip(1), |name| std::env::var(name).ok())
        .context("reading settings")?;
    let smtp = TcpListener::bind(settings.smtp)
        .await
        .with_context(|| format!("binding SMTP on {}", settings.smtp))?;
    let http = TcpListener::bind(settings.http)
        .await
        .with_context(|| format!("binding HTTP on {}", settings.http))?;
    tracing::info!(smtp = %smtp.local_addr()?, http = %http.local_addr()?, capacity = settings.capacity, "sandbox mail listening");
    serve_until_signal(serve_with(smtp, http, Mailbox::new(settings.capacity))).await
}
