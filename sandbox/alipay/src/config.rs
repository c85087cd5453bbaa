//! Settings: `--flag value` on the command line, else `PAYCHAT_SANDBOX_ALIPAY_<FLAG>`,
//! else the default.
//!
//! | flag | env | default |
//! |---|---|---|
//! | `--listen` | `PAYCHAT_SANDBOX_ALIPAY_LISTEN` | `127.0.0.1:8092` |
//! | `--public-base-url` | `..._PUBLIC_BASE_URL` | `http://<bound address>` (QR codes point there) |
//! | `--merchant-public-key` | `..._MERCHANT_PUBLIC_KEY` | `deploy/sandbox-keys/merchant_app_public.pem` |
//! | `--alipay-private-key` | `..._ALIPAY_PRIVATE_KEY` | `deploy/sandbox-keys/alipay_private.pem` |
//! | `--retry-scale` | `..._RETRY_SCALE` | `1` (notify retry intervals are divided by it) |
//! | `--seller-id` | `..._SELLER_ID` | `2088000000000001` |

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub public_base_url: Option<String>,
    pub merchant_public_key: PathBuf,
    pub alipay_private_key: PathBuf,
    pub retry_scale: f64,
    pub seller_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("unknown argument {0}")]
    UnknownArgument(String),
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("{name} is invalid: {value}")]
    Invalid { name: String, value: String },
}

const FLAGS: [&str; 6] = [
    "listen",
    "public-base-url",
    "merchant-public-key",
    "alipay-private-key",
    "retry-scale",
    "seller-id",
];

/// The shipped sandbox key: relative to the working directory when run from the
/// checkout root, else next to the sources this binary was built from.
fn default_key(file: &str) -> PathBuf {
    let relative = Path::new("deploy/sandbox-keys").join(file);
    if relative.exists() {
        return relative;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/sandbox-keys")
        .join(file)
}

impl Settings {
    pub fn load(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SettingsError> {
        let mut given = std::collections::HashMap::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let name = arg
                .strip_prefix("--")
                .filter(|n| FLAGS.contains(n))
                .ok_or_else(|| SettingsError::UnknownArgument(arg.clone()))?
                .to_owned();
            let value = args.next().ok_or(SettingsError::MissingValue(arg))?;
            given.insert(name, value);
        }
        let get = |name: &str| {
            given.get(name).cloned().or_else(|| {
                env(&format!(
                    "PAYCHAT_SANDBOX_ALIPAY_{}",
                    name.replace('-', "_").to_uppercase()
                ))
            })
        };
        let invalid = |name: &str, value: String| SettingsError::Invalid {
            name: name.to_owned(),
            value,
        };
        let listen = match get("listen") {
            Some(v) => v.parse().map_err(|_| invalid("listen", v))?,
            None => SocketAddr::from(([127, 0, 0, 1], 8092)),
        };
        let retry_scale = match get("retry-scale") {
            Some(v) => match v.parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 => s,
                _ => return Err(invalid("retry-scale", v)),
            },
            None => 1.0,
        };
        Ok(Self {
            listen,
            public_base_url: get("public-base-url").map(|u| u.trim_end_matches('/').to_owned()),
            merchant_public_key: get("merchant-public-key")
                .map_or_else(|| default_key("merchant_app_public.pem"), PathBuf::from),
            alipay_private_key: get("alipay-private-key")
                .map_or_else(|| default_key("alipay_private.pem"), PathBuf::from),
            retry_scale,
            seller_id: get("seller-id").unwrap_or_else(|| "2088000000000001".into()),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_env_beat_defaults() {
        let env = |k: &str| match k {
            "PAYCHAT_SANDBOX_ALIPAY_RETRY_SCALE" => Some("1000".to_owned()),
            "PAYCHAT_SANDBOX_ALIPAY_LISTEN" => Some("127.0.0.1:1".to_owned()),
            _ => None,
        };
        let s = Settings::load(["--listen".to_owned(), "127.0.0.1:0".to_owned()], env).unwrap();
        assert_eq!(s.listen.port(), 0);
        assert!((s.retry_scale - 1000.0).abs() < f64::EPSILON);
        assert!(s.merchant_public_key.ends_with("merchant_app_public.pem"));
        let d = Settings::load(Vec::new(), |_| None).unwrap();
        assert_eq!(d.listen.port(), 8092);
        assert!(Settings::load(["--nope".to_owned()], |_| None).is_err());
        assert!(Settings::load(["--retry-scale".to_owned(), "0".to_owned()], |_| None).is_err());
    }
}
