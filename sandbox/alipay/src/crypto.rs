//! RSA2 for the stand-in: verifying the merchant's request signatures and signing
//! as "Alipay". Written independently of the gateway's client so the two check
//! each other in the cross tests.

use std::collections::BTreeMap;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

pub struct Keys {
    alipay: RsaKeyPair,
    merchant_spki: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

fn pem_body(pem: &str) -> anyhow::Result<Vec<u8>> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    Ok(B64.decode(body.trim())?)
}

impl Keys {
    /// `alipay_private_pem`: PKCS#8; `merchant_public_pem`: SPKI.
    pub fn from_pem(alipay_private_pem: &str, merchant_public_pem: &str) -> anyhow::Result<Self> {
        let alipay = RsaKeyPair::from_pkcs8(&pem_body(alipay_private_pem)?)
            .map_err(|e| anyhow::anyhow!("sandbox Alipay private key: {e}"))?;
        let merchant_spki = pem_body(merchant_public_pem)?;
        aws_lc_rs::rsa::PublicEncryptingKey::from_der(&merchant_spki)
            .map_err(|e| anyhow::anyhow!("merchant public key: {e}"))?;
        Ok(Self {
            alipay,
            merchant_spki,
        })
    }

    pub fn sign(&self, content: &str) -> String {
        let mut sig = vec![0u8; self.alipay.public_modulus_len()];
        self.alipay
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                content.as_bytes(),
                &mut sig,
            )
            .expect("signing with a loaded 2048-bit key cannot fail");
        B64.encode(sig)
    }

    pub fn verify_merchant(&self, content: &str, sign: &str) -> bool {
        let Ok(sig) = B64.decode(sign) else {
            return false;
        };
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.merchant_spki)
            .verify(content.as_bytes(), &sig)
            .is_ok()
    }
}

/// Request sign content: all but `sign`, empty values skipped, sorted, raw.
pub fn request_content(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, v)| k.as_str() != "sign" && !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Notify sign content: all but `sign` and `sign_type`, sorted, raw.
pub fn notify_content(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, _)| k.as_str() != "sign" && k.as_str() != "sign_type")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn contents() {
        let p: BTreeMap<String, String> =
            [("b", "2"), ("a", ""), ("sign", "s"), ("sign_type", "RSA2")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        assert_eq!(request_content(&p), "b=2&sign_type=RSA2");
        assert_eq!(notify_content(&p), "a=&b=2");
    }
}
