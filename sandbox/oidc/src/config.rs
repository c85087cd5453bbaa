//! Settings: defaults, overridden by `PAYCHAT_SANDBOX_OIDC_*` environment
//! variables, overridden in turn by command-line flags.
//!
//! | flag | environment | default |
//! |---|---|---|
//! | `--listen` | `PAYCHAT_SANDBOX_OIDC_LISTEN` | `127.0.0.1:8093` |
//! | `--issuer` | `PAYCHAT_SANDBOX_OIDC_ISSUER` | `http://<the bound address>` |
//! | `--client-id` | `PAYCHAT_SANDBOX_OIDC_CLIENT_ID` | `paychat-sandbox` |
//! | `--client-secret` | `PAYCHAT_SANDBOX_OIDC_CLIENT_SECRET` | `sandbox-secret-not-real` |
//!
//! The one client (id and secret) is used by both the OIDC provider and the
//! GitHub stand-in.

use std::net::SocketAddr;

use anyhow::{Context, bail};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8093";
pub const DEFAULT_CLIENT_ID: &str = "paychat-sandbox";
/// SANDBOX VALUE, worthless anywhere else.
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-secret-not-real";

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub issuer: Option<String>,
    pub client_id: String,
    pub client_secret: String,
}

const OPTIONS: [(&str, &str); 4] = [
    ("--listen", "PAYCHAT_SANDBOX_OIDC_LISTEN"),
    ("--issuer", "PAYCHAT_SANDBOX_OIDC_ISSUER"),
    ("--client-id", "PAYCHAT_SANDBOX_OIDC_CLIENT_ID"),
    ("--client-secret", "PAYCHAT_SANDBOX_OIDC_CLIENT_SECRET"),
];

impl Settings {
    pub fn load(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let mut values: Vec<Option<String>> = OPTIONS.iter().map(|(_, var)| env(var)).collect();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let Some(i) = OPTIONS.iter().position(|(f, _)| *f == flag) else {
                bail!("unknown flag {flag}; known: --listen --issuer --client-id --client-secret");
            };
            values[i] = Some(
                args.next()
                    .with_context(|| format!("{flag} needs a value"))?,
            );
        }
        let listen = values[0].clone().unwrap_or_else(|| DEFAULT_LISTEN.into());
        Ok(Self {
            listen: listen
                .parse()
                .with_context(|| format!("--listen {listen:?} is not an address"))?,
            issuer: values[1].clone().filter(|v| !v.is_empty()),
            client_id: values[2]
                .clone()
                .unwrap_or_else(|| DEFAULT_CLIENT_ID.into()),
            client_secret: values[3]
                .clone()
                .unwrap_or_else(|| DEFAULT_CLIENT_SECRET.into()),
        })
    }
}
