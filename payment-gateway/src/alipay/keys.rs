//! Loading the merchant app private key and Alipay's public key.
//!
//! Alipay's console hands keys out as bare base64 (no PEM armour): the app private
//! key as PKCS#1 or PKCS#8, Alipay's public key as X.509 SubjectPublicKeyInfo. Both
//! forms, with or without PEM armour, are accepted here.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key is neither PEM nor base64 DER")]
    Encoding,
    #[error("the key was rejected: {0}")]
    Rejected(String),
}

/// The merchant's app private key, used for RSA2 (SHA256withRSA) request signatures.
#[derive(Clone)]
pub struct AppPrivateKey {
    pair: Arc<RsaKeyPair>,
}

impl fmt::Debug for AppPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppPrivateKey(..)")
    }
}

impl AppPrivateKey {
    /// PKCS#8 or PKCS#1, PEM or bare base64 DER.
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        let der = decode_key_text(text)?;
        let pair = RsaKeyPair::from_pkcs8(&der)
            .or_else(|_| RsaKeyPair::from_der(&der))
            .map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(Self {
            pair: Arc::new(pair),
        })
    }

    /// SHA256withRSA (PKCS#1 v1.5) over `content`, standard base64 with padding.
    pub fn sign(&self, content: &[u8]) -> Result<String, KeyError> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), content, &mut sig)
            .map_err(|_| KeyError::Rejected("signing failed".into()))?;
        Ok(B64.encode(sig))
    }

    /// The matching public key (SPKI), e.g. to configure a sandbox.
    pub fn public_key(&self) -> Result<AlipayPublicKey, KeyError> {
        let der = self
            .pair
            .public_key()
            .as_der()
            .map_err(|e| KeyError::Rejected(e.to_string()))?;
        AlipayPublicKey::from_spki_der(der.as_ref())
    }
}

/// An RSA public key that verifies SHA256withRSA signatures: Alipay's key (from the
/// console, or from the Alipay public-key certificate).
#[derive(Clone, PartialEq, Eq)]
pub struct AlipayPublicKey {
    spki: Arc<[u8]>,
}

impl fmt::Debug for AlipayPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AlipayPublicKey({} bytes)", self.spki.len())
    }
}

impl AlipayPublicKey {
    /// X.509 SubjectPublicKeyInfo, PEM or bare base64 DER.
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        Self::from_spki_der(&decode_key_text(text)?)
    }

    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        // aws-lc-rs takes SPKI as it is (ring would want the inner PKCS#1 key), but
        // it only parses at verify time: check the key once here so a bad file fails
        // at start-up rather than on the first notify.
        aws_lc_rs::rsa::PublicEncryptingKey::from_der(der)
            .map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(Self { spki: der.into() })
    }

    /// Verifies a base64 SHA256withRSA signature over `content`.
    pub fn verify(&self, content: &[u8], sign_b64: &str) -> bool {
        let Ok(sig) = B64.decode(sign_b64.trim()) else {
            return false;
        };
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &*self.spki)
            .verify(content, &sig)
            .is_ok()
    }

    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }
}

/// PEM (any label) or bare base64 → DER.
pub(crate) fn decode_key_text(text: &str) -> Result<Vec<u8>, KeyError> {
    let body: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if body.is_empty() {
        return Err(KeyError::Encoding);
    }
    B64.decode(body).map_err(|_| KeyError::Encoding)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/sandbox-keys/");

    #[test]
    fn pem_and_bare_base64_load_the_same_key() {
        let pem = std::fs::read_to_string(format!("{KEYS}alipay_public.pem")).unwrap();
        let bare: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("");
        assert_eq!(
            AlipayPublicKey::from_text(&pem).unwrap(),
            AlipayPublicKey::from_text(&bare).unwrap()
        );
    }

    #[test]
    fn sign_then_verify_with_the_sandbox_pair() {
        let private = std::fs::read_to_string(format!("{KEYS}merchant_app_private.pem")).unwrap();
        let public = std::fs::read_to_string(format!("{KEYS}merchant_app_public.pem")).unwrap();
        let key = AppPrivateKey::from_text(&private).unwrap();
        let public = AlipayPublicKey::from_text(&public).unwrap();
        assert_eq!(key.public_key().unwrap(), public);
        let sig = key.sign(b"a=1&b=2").unwrap();
        assert!(public.verify(b"a=1&b=2", &sig));
        assert!(!public.verify(b"a=1&b=3", &sig));
        assert!(!public.verify(b"a=1&b=2", "not base64!"));
        assert_eq!(format!("{key:?}"), "AppPrivateKey(..)");
    }

    #[test]
    fn garbage_is_refused() {
        assert!(AlipayPublicKey::from_text("").is_err());
        assert!(AlipayPublicKey::from_text("!!!").is_err());
        assert!(AlipayPublicKey::from_text("AAAA").is_err());
        assert!(AppPrivateKey::from_text("AAAA").is_err());
    }
}
