//! RS256 signing with aws-lc-rs: the provider's key (in the JWKS) and a second
//! key that signs the `sim=bad_sig` tokens under the same `kid`.

use anyhow::Context;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

pub struct Keys {
    pub kid: String,
    good: RsaKeyPair,
    rogue: RsaKeyPair,
}

impl Keys {
    /// Two fresh 2048-bit keys.
    pub fn generate() -> anyhow::Result<Self> {
        let good = RsaKeyPair::generate(KeySize::Rsa2048).context("generating the signing key")?;
        let rogue = RsaKeyPair::generate(KeySize::Rsa2048).context("generating the rogue key")?;
        Ok(Self {
            kid: format!("sandbox-{}", &crate::random_token()[..8]),
            good,
            rogue,
        })
    }

    /// The JWKS document with the provider's key.
    pub fn jwks(&self) -> Value {
        let public = self.good.public_key();
        json!({ "keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        }]})
    }

    /// A compact JWS of `claims`, by the rogue key when `rogue`.
    pub fn sign(&self, claims: &Value, rogue: bool) -> anyhow::Result<String> {
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": self.kid });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?)
        );
        let key = if rogue { &self.rogue } else { &self.good };
        let mut signature = vec![0u8; key.public_modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .map_err(|_| anyhow::anyhow!("signing failed"))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
