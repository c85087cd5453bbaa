//! Sealing upstream keys for the database: AES-256-GCM (aws-lc-rs, the crypto
//! stack already in the tree) under `llm_key_encryption_key`, a fresh random
//! 96-bit nonce per seal, and the row id as associated data, so a sealed
//! secret copied onto another row does not open.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};

/// The published sandbox value of `llm_key_encryption_key` (config/default.toml).
/// Accepted only while the upstream is a sandbox (see `RelaySettings::load`).
pub const SANDBOX_ENCRYPTION_KEY: &str = "U0FOREJPWC1PTkxZLWxsbS1rZXktc2VhbGluZy0wMDE=";

/// Why a sealed secret could not be opened; one case on purpose.
#[derive(Debug, thiserror::Error)]
#[error("the key cannot be opened with the configured encryption key")]
pub struct OpenFailed;

pub struct Sealer {
    key: LessSafeKey,
}

/// Decodes the configured key: base64 of exactly 32 bytes.
pub fn decode_key(text: &str) -> Option<[u8; 32]> {
    let bytes = STANDARD.decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

impl Sealer {
    pub fn new(configured: &SecretString) -> anyhow::Result<Self> {
        let bytes = decode_key(configured.expose_secret())
            .ok_or_else(|| anyhow::anyhow!("llm_key_encryption_key is not 32 bytes of base64"))?;
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| anyhow::anyhow!("llm_key_encryption_key is not an AES-256 key"))?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    /// `nonce || ciphertext || tag` of `secret`, bound to row `id`.
    pub fn seal(&self, id: i64, secret: &str) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| anyhow::anyhow!("no random nonce"))?;
        let mut data = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(id.to_be_bytes()),
                &mut data,
            )
            .map_err(|_| anyhow::anyhow!("sealing a key failed"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&data);
        Ok(sealed)
    }

    pub fn open(&self, id: i64, sealed: &[u8]) -> Result<SecretString, OpenFailed> {
        if sealed.len() < NONCE_LEN {
            return Err(OpenFailed);
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenFailed)?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(id.to_be_bytes()), &mut data)
            .map_err(|_| OpenFailed)?;
        let text = std::str::from_utf8(plain).map_err(|_| OpenFailed)?;
        Ok(SecretString::from(text.to_owned()))
    }
}

/// What a key looks like in every response and log: `sk-…abcd`. Short keys
/// show less, so that the mask never gives away most of one.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let n = chars.len();
    let (head, tail) = if n >= 16 {
        (3, 4)
    } else if n >= 8 {
        (2, 2)
    } else {
        (0, 0)
    };
    let head: String = chars[..head].iter().collect();
    let tail: String = chars[n - tail..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(&SecretString::from(SANDBOX_ENCRYPTION_KEY)).expect("the sandbox key decodes")
    }

    #[test]
    fn a_sealed_key_opens_only_on_its_own_row() {
        let s = sealer();
        let sealed = s.seal(7, "sk-live-123456789").expect("sealed");
        assert!(!sealed.windows(8).any(|w| w == b"live-123"));
        assert_eq!(
            s.open(7, &sealed).expect("opens").expose_secret(),
            "sk-live-123456789"
        );
        assert!(s.open(8, &sealed).is_err());
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(s.open(7, &tampered).is_err());
        // A fresh nonce each time.
        assert_ne!(sealed, s.seal(7, "sk-live-123456789").expect("sealed"));
    }

    #[test]
    fn another_encryption_key_cannot_open_it() {
        let sealed = sealer().seal(1, "sk-abc").expect("sealed");
        let other = SecretString::from(STANDARD.encode([7u8; 32]));
        assert!(Sealer::new(&other).expect("key").open(1, &sealed).is_err());
    }

    #[test]
    fn the_configured_key_must_be_32_bytes() {
        assert!(decode_key(SANDBOX_ENCRYPTION_KEY).is_some());
        assert!(decode_key(&STANDARD.encode([1u8; 16])).is_none());
        assert!(decode_key("not base64!").is_none());
    }

    #[test]
    fn masks_keep_the_key_hidden() {
        assert_eq!(mask("sk-proj-abcdefghijklmnopwxyz"), "sk-…wxyz");
        assert_eq!(mask("sk-short1"), "sk…t1");
        assert_eq!(mask("abc"), "…");
    }
}
