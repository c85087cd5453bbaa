//! argon2id hashing (PHC strings), always off the async threads.

use std::sync::LazyLock;

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use paychat_common::ApiError;
use secrecy::{ExposeSecret, SecretString};

/// A hash of a password nobody knows, verified against when an address is
/// unknown so that a login takes the same time whether or not it exists.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random: [u8; 16] = rand::random();
    // Cannot fail with the default parameters; an empty string would only
    // make unknown-address logins a little faster, never succeed.
    hash_now(&hex::encode(random)).unwrap_or_default()
});

fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?
        .to_string())
}

/// The PHC string of `password` (argon2id, RFC 9106 defaults, random salt).
pub async fn hash(password: &str) -> Result<String, ApiError> {
    let password = SecretString::from(password.to_owned());
    let hashed = tokio::task::spawn_blocking(move || hash_now(password.expose_secret()))
        .await
        .context("joining the hashing task")??;
    Ok(hashed)
}

/// Checks `password` against `stored`, or against the dummy hash when there is
/// no account (the answer is then always false).
pub async fn verify(password: &str, stored: Option<String>) -> Result<bool, ApiError> {
    let password = SecretString::from(password.to_owned());
    let ok = tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let matches = PasswordHash::new(&phc)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.expose_secret().as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        known && matches
    })
    .await
    .context("joining the verifying task")?;
    Ok(ok)
}

/// Computes the dummy hash ahead of the first login.
pub async fn warm_up() {
    let _ = tokio::task::spawn_blocking(|| DUMMY_HASH.len()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let phc = hash("correct horse").await.expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(
            verify("correct horse", Some(phc.clone()))
                .await
                .expect("verify")
        );
        assert!(!verify("wrong horse", Some(phc)).await.expect("verify"));
        assert!(!verify("anything", None).await.expect("verify"));
        assert!(
            !verify("x", Some("not a hash".into()))
                .await
                .expect("verify")
        );
    }
}
