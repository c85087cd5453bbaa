//! Settings: defaults, overridden by `PAYCHAT_SANDBOX_MAIL_*` environment
//! variables, overridden in turn by command-line flags. A port alone (`2525`)
//! means that port on 127.0.0.1.
//!
//! | flag | environment | default |
//! |---|---|---|
//! | `--smtp` | `PAYCHAT_SANDBOX_MAIL_SMTP` | `127.0.0.1:2525` |
//! | `--http` | `PAYCHAT_SANDBOX_MAIL_HTTP` | `127.0.0.1:8025` |
//! | `--capacity` | `PAYCHAT_SANDBOX_MAIL_CAPACITY` | `5000` |

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::{Context, bail};

use crate::store::DEFAULT_CAPACITY;

pub const DEFAULT_SMTP: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 2525);
pub const DEFAULT_HTTP: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8025);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub smtp: SocketAddr,
    pub http: SocketAddr,
    pub capacity: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            smtp: DEFAULT_SMTP,
            http: DEFAULT_HTTP,
            capacity: DEFAULT_CAPACITY,
        }
    }
}

const OPTIONS: [(&str, &str); 3] = [
    ("--smtp", "PAYCHAT_SANDBOX_MAIL_SMTP"),
    ("--http", "PAYCHAT_SANDBOX_MAIL_HTTP"),
    ("--capacity", "PAYCHAT_SANDBOX_MAIL_CAPACITY"),
];

/// `2525` → 127.0.0.1:2525; `0.0.0.0:2525` as given.
fn address(value: &str) -> anyhow::Result<SocketAddr> {
    let value = value.trim();
    if let Ok(port) = value.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    value
        .parse()
        .with_context(|| format!("{value:?} is neither a port nor an address like 127.0.0.1:2525"))
}

pub const USAGE: &str =
    "usage: paychat-sandbox-mail [--smtp PORT|ADDR] [--http PORT|ADDR] [--capacity N]";

impl Settings {
    /// Reads `args` (without the program name) over `env`.
    pub fn load(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let mut values: Vec<(&str, String)> = Vec::new();
        for (flag, var) in OPTIONS {
            if let Some(v) = env(var).filter(|v| !v.trim().is_empty()) {
                values.push((flag, v));
            }
        }
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--help" || arg == "-h" {
                bail!("{USAGE}");
            }
            let (name, value) = match arg.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => {
                    let value = args
                        .next()
                        .with_context(|| format!("{arg} needs a value\n{USAGE}"))?;
                    (arg, value)
                }
            };
            let Some((flag, _)) = OPTIONS.iter().find(|(f, _)| *f == name) else {
                bail!("unknown option {name}\n{USAGE}");
            };
            values.push((flag, value));
        }
        let mut settings = Self::default();
        for (flag, value) in values {
            match flag {
                "--smtp" => settings.smtp = address(&value).context("--smtp")?,
                "--http" => settings.http = address(&value).context("--http")?,
                _ => {
                    settings.capacity = value
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .context("--capacity must be a positive number")?;
                }
            }
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn defaults_then_environment_then_flags() {
        let none = |_: &str| None;
        assert_eq!(
            Settings::load(args(&[]), none).unwrap_or_default(),
            Settings::default()
        );
        let env = |name: &str| (name == "PAYCHAT_SANDBOX_MAIL_SMTP").then(|| "2626".to_owned());
        let s =
            Settings::load(args(&["--http=0.0.0.0:9025", "--capacity", "7"]), env).expect("valid");
        assert_eq!(s.smtp, "127.0.0.1:2626".parse().expect("addr"));
        assert_eq!(s.http, "0.0.0.0:9025".parse().expect("addr"));
        assert_eq!(s.capacity, 7);
        let s = Settings::load(args(&["--smtp", "2727"]), env).expect("valid");
        assert_eq!(s.smtp.port(), 2727);
    }

    #[test]
    fn bad_values_are_refused() {
        let none = |_: &str| None;
        assert!(Settings::load(args(&["--smtp", "nope"]), none).is_err());
        assert!(Settings::load(args(&["--capacity", "0"]), none).is_err());
        assert!(Settings::load(args(&["--what", "1"]), none).is_err());
        assert!(Settings::load(args(&["--http"]), none).is_err());
    }
}
