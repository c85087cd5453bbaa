//! One-time email codes: 256 random bits, URL-safe base64 (43 characters).
//! Only the SHA-256 (hex) is stored, in `sys_email_verify_code.verify_code`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `biz_type` of `sys_email_verify_code` and `sys_email_send_log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BizType {
    Registration = 10,
    PasswordReset = 11,
    /// The link that proves an account before a sign-in provider is linked to it.
    ProviderLink = 13,
}

impl BizType {
    pub fn as_i8(self) -> i8 {
        self as i8
    }
}

/// A fresh code: the text to email, and the hash to store.
pub struct NewCode {
    pub code: String,
    pub hash: String,
}

pub fn generate() -> NewCode {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let code = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&code);
    NewCode { code, hash }
}

pub fn hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

/// True when `code` could be one of ours (so junk never reaches the database).
pub fn well_formed(code: &str) -> bool {
    code.len() == 43
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_url_safe_unique_and_hashed() {
        let a = generate();
        let b = generate();
        assert!(well_formed(&a.code), "{}", a.code);
        assert_ne!(a.code, b.code);
        assert_eq!(a.hash.len(), 64);
        assert_eq!(a.hash, hash(&a.code));
        assert!(!well_formed("short"));
        assert!(!well_formed(&format!("{}=", &a.code[..42])));
        assert!(!well_formed("' OR 1=1 --"));
    }
}
