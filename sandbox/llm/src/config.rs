//! Settings: defaults, overridden by `PAYCHAT_SANDBOX_LLM_*` environment
//! variables, overridden in turn by command-line flags.
//!
//! | flag | environment | default |
//! |---|---|---|
//! | `--listen` | `PAYCHAT_SANDBOX_LLM_LISTEN` | `127.0.0.1:8091` |
//! | `--chunk-delay-ms` | `PAYCHAT_SANDBOX_LLM_CHUNK_DELAY_MS` | `20` |
//! | `--chunk-chars` | `PAYCHAT_SANDBOX_LLM_CHUNK_CHARS` | `8` |
//! | `--chunks` | `PAYCHAT_SANDBOX_LLM_CHUNKS` | unset: as many as the answer needs |
//! | `--api-keys` (comma-separated) | `PAYCHAT_SANDBOX_LLM_API_KEYS` | unset: any non-empty key |
//! | `--retry-after-secs` | `PAYCHAT_SANDBOX_LLM_RETRY_AFTER_SECS` | `1` |
//! | `--record-capacity` | `PAYCHAT_SANDBOX_LLM_RECORD_CAPACITY` | `10000` |

use std::{net::SocketAddr, time::Duration};

use anyhow::{Context, bail};

/// Where the server listens when nothing else is said.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8091";

/// How the server answers.
#[derive(Debug, Clone)]
pub struct Config {
    /// Pause before each content chunk (per request: `x-sandbox-chunk-delay-ms`).
    pub chunk_delay: Duration,
    /// Characters per content chunk (per request: `x-sandbox-chunk-chars`).
    pub chunk_chars: usize,
    /// When set, every answer is exactly this many full content chunks: the
    /// answer repeated (or cut) to `chunks * chunk_chars` characters
    /// (per request: `x-sandbox-chunks`). Benchmarks use it for a fixed shape.
    pub chunks: Option<usize>,
    /// When set, only these keys are accepted; otherwise any non-empty key is.
    pub api_keys: Option<Vec<String>>,
    /// `Retry-After` of a 429 (per request: `x-sandbox-retry-after-secs`).
    pub retry_after_secs: u64,
    /// How many requests `/sim/requests` remembers.
    pub record_capacity: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            chunk_delay: Duration::from_millis(20),
            chunk_chars: 8,
            chunks: None,
            api_keys: None,
            retry_after_secs: 1,
            record_capacity: 10_000,
        }
    }
}

/// Everything `main` needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub config: Config,
}

const OPTIONS: [(&str, &str); 7] = [
    ("--listen", "PAYCHAT_SANDBOX_LLM_LISTEN"),
    ("--chunk-delay-ms", "PAYCHAT_SANDBOX_LLM_CHUNK_DELAY_MS"),
    ("--chunk-chars", "PAYCHAT_SANDBOX_LLM_CHUNK_CHARS"),
    ("--chunks", "PAYCHAT_SANDBOX_LLM_CHUNKS"),
    ("--api-keys", "PAYCHAT_SANDBOX_LLM_API_KEYS"),
    ("--retry-after-secs", "PAYCHAT_SANDBOX_LLM_RETRY_AFTER_SECS"),
    ("--record-capacity", "PAYCHAT_SANDBOX_LLM_RECORD_CAPACITY"),
];

impl Settings {
    /// Reads `args` (without the program name) over `env`.
    pub fn load(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let mut flags: Vec<(String, String)> = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, value) = match arg.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => {
                    let value = args
                        .next()
                        .with_context(|| format!("{arg} needs a value"))?;
                    (arg, value)
                }
            };
            if !OPTIONS.iter().any(|(flag, _)| *flag == name) {
                bail!(
                    "unknown option {name}; known: {}",
                    OPTIONS.map(|o| o.0).join(", ")
                );
            }
            flags.push((name, value));
        }
        let get = |flag: &str| -> Option<(String, String)> {
            let (_, var) = OPTIONS.iter().find(|(f, _)| *f == flag)?;
            flags
                .iter()
                .rev()
                .find(|(name, _)| name == flag)
                .map(|(_, v)| (flag.to_owned(), v.clone()))
                .or_else(|| env(var).map(|v| ((*var).to_owned(), v)))
        };
        let defaults = Config::default();
        let listen = match get("--listen") {
            Some((from, v)) => v
                .parse()
                .with_context(|| format!("{from}: `{v}` is not an address"))?,
            None => DEFAULT_LISTEN.parse().context("default listen address")?,
        };
        let number = |flag: &str, default: u64| -> anyhow::Result<u64> {
            match get(flag) {
                Some((from, v)) => v
                    .trim()
                    .parse()
                    .with_context(|| format!("{from}: `{v}` is not a whole number")),
                None => Ok(default),
            }
        };
        let chunk_chars = number("--chunk-chars", defaults.chunk_chars as u64)?;
        if chunk_chars == 0 {
            bail!("chunk chars must be at least 1");
        }
        let chunks = match get("--chunks") {
            Some(_) => match number("--chunks", 0)? {
                0 => bail!("chunks must be at least 1"),
                n => Some(usize::try_from(n).context("chunks too large")?),
            },
            None => None,
        };
        let api_keys = get("--api-keys").map(|(_, v)| {
            v.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        });
        Ok(Self {
            listen,
            config: Config {
                chunk_delay: Duration::from_millis(number("--chunk-delay-ms", 20)?),
                chunk_chars: usize::try_from(chunk_chars).context("chunk chars too large")?,
                chunks,
                api_keys: api_keys.filter(|keys| !keys.is_empty()),
                retry_after_secs: number("--retry-after-secs", defaults.retry_after_secs)?,
                record_capacity: usize::try_from(number(
                    "--record-capacity",
                    defaults.record_capacity as u64,
                )?)
                .context("record capacity too large")?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_override_environment_over_defaults() {
        let env = |name: &str| match name {
            "PAYCHAT_SANDBOX_LLM_LISTEN" => Some("127.0.0.1:9000".to_owned()),
            "PAYCHAT_SANDBOX_LLM_CHUNK_CHARS" => Some("3".to_owned()),
            "PAYCHAT_SANDBOX_LLM_API_KEYS" => Some("sk-a, sk-b".to_owned()),
            _ => None,
        };
        let settings = Settings::load(
            args(&[
                "--listen",
                "127.0.0.1:9001",
                "--chunk-delay-ms=5",
                "--chunks",
                "200",
            ]),
            env,
        )
        .expect("valid settings");
        assert_eq!(settings.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(settings.config.chunk_chars, 3);
        assert_eq!(settings.config.chunks, Some(200));
        assert_eq!(settings.config.chunk_delay, Duration::from_millis(5));
        assert_eq!(
            settings.config.api_keys,
            Some(vec!["sk-a".to_owned(), "sk-b".to_owned()])
        );
        assert_eq!(settings.config.record_capacity, 10_000);
    }

    #[test]
    fn rejects_bad_values_and_unknown_flags() {
        assert!(Settings::load(args(&["--chunk-chars", "0"]), |_| None).is_err());
        assert!(Settings::load(args(&["--chunks", "0"]), |_| None).is_err());
        assert!(Settings::load(args(&["--listen", "nowhere"]), |_| None).is_err());
        assert!(Settings::load(args(&["--verbose", "1"]), |_| None).is_err());
    }
}
