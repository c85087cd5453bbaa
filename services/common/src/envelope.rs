//! The RSA envelope that carries requests and responses between orders and the
//! payment gateway (API.md, "Payment gateway").
//!
//! `{kid, ts, nonce, key, iv, payload, sig}`: a fresh AES-256-GCM key encrypts the
//! JSON payload, the key is wrapped with RSA-OAEP (SHA-256, MGF1-SHA-256) for the
//! recipient, and the sender signs `endpoint|kid|ts|nonce|key|iv|payload` with
//! RSA-PKCS#1-v1.5-SHA-256. Binary fields are standard base64 with padding.
//!
//! `endpoint` is the path the request is posted to (a reply is signed with the
//! path of the request it answers). It is not on the wire: each side supplies it,
//! the receiver from the endpoint the envelope arrived at, so a request sealed
//! for one operation (a query) fails the signature anywhere else (a close).
//!
//! Every private-key operation (unwrap, sign) runs in aws-lc-rs, never in the `rsa`
//! crate (RUSTSEC-2023-0071). `open` answers every failure with the same
//! [`EnvelopeRejected`] so a caller cannot become a padding or timing oracle; the
//! reason is returned separately through [`open_with_reason`] for internal logs.
//! Replay protection is the caller's job: it must remember [`Opened::nonce`] (Redis,
//! SET NX with a TTL above the freshness window).
//!
//! A reply carries the nonce of the request it answers ([`seal_reply`]), and
//! [`open_reply`] takes no other: the requester needs no memory of its own to
//! refuse a recorded reply played back to a later request.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use aws_lc_rs::signature::{
    KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

/// How far `ts` may be from the receiver's clock, in seconds.
pub const MAX_SKEW_SECS: i64 = 300;

const AES_KEY_LEN: usize = 32;
const NONCE_BYTES: usize = 16;

/// The wire form. Field order matches API.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Key id of the sender's signing key.
    pub kid: String,
    /// Unix seconds when sealed.
    pub ts: i64,
    /// 128 random bits, base64; unique per envelope.
    pub nonce: String,
    /// The AES-256-GCM key, RSA-OAEP-wrapped for the recipient, base64.
    pub key: String,
    /// The 96-bit GCM nonce, base64.
    pub iv: String,
    /// Ciphertext plus GCM tag, base64.
    pub payload: String,
    /// RSA-PKCS#1-v1.5-SHA-256 over `endpoint|kid|ts|nonce|key|iv|payload`, base64.
    pub sig: String,
}

/// The one error `open` shows to the outside world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("envelope rejected")]
pub struct EnvelopeRejected;

/// Why an envelope was refused: for the receiver's own logs only, never for a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    Malformed,
    Stale,
    BadSignature,
    Unwrap,
    Decrypt,
}

/// Failures while loading keys at start-up.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM block of type {0}")]
    Pem(&'static str),
    #[error("the key was rejected: {0}")]
    Rejected(String),
}

/// Failures while sealing (only on broken keys or a broken random source).
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("random source failed")]
    Random,
    #[error("encryption failed")]
    Encrypt,
    #[error("signing failed")]
    Sign,
}

/// What both key types share around their key id: a `Debug` that shows only the
/// id (never key material), `with_kid` and `kid`.
macro_rules! key_id_accessors {
    ($key:ident) => {
        impl fmt::Debug for $key {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($key))
                    .field("kid", &self.kid)
                    .finish_non_exhaustive()
            }
        }

        impl $key {
            /// Overrides the key id (for operators who name their keys).
            #[must_use]
            pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
                self.kid = kid.into();
                self
            }

            /// The key id envelopes signed by this key pair carry.
            pub fn kid(&self) -> &str {
                &self.kid
            }
        }
    };
}

/// A service's own envelope key: signs what it sends and unwraps what it receives.
pub struct EnvelopePrivateKey {
    kid: String,
    signing: RsaKeyPair,
    decrypting: OaepPrivateDecryptingKey,
}

key_id_accessors!(EnvelopePrivateKey);

impl EnvelopePrivateKey {
    /// Loads a PKCS#8 `BEGIN PRIVATE KEY` PEM. The key id defaults to the public key's
    /// fingerprint ([`key_id`]).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        Self::from_pkcs8_der(&pem_to_der(pem, "PRIVATE KEY")?)
    }

    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let signing = RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
        let decrypting = PrivateDecryptingKey::from_pkcs8(der).map_err(rejected)?;
        let decrypting = OaepPrivateDecryptingKey::new(decrypting).map_err(not_oaep)?;
        let spki = signing.public_key().as_der().map_err(rejected)?;
        Ok(Self {
            kid: key_id(spki.as_ref()),
            signing,
            decrypting,
        })
    }
}

/// The other side's public key: seal to it, verify its signatures.
#[derive(Clone)]
pub struct EnvelopePublicKey {
    kid: String,
    spki: Vec<u8>,
    encrypting: std::sync::Arc<OaepPublicEncryptingKey>,
}

key_id_accessors!(EnvelopePublicKey);

impl EnvelopePublicKey {
    /// Loads an X.509 SubjectPublicKeyInfo `BEGIN PUBLIC KEY` PEM.
    pub fn from_spki_pem(pem: &str) -> Result<Self, KeyError> {
        Self::from_spki_der(&pem_to_der(pem, "PUBLIC KEY")?)
    }

    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let public = PublicEncryptingKey::from_der(der).map_err(rejected)?;
        let encrypting = OaepPublicEncryptingKey::new(public).map_err(not_oaep)?;
        Ok(Self {
            kid: key_id(der),
            spki: der.to_vec(),
            encrypting: std::sync::Arc::new(encrypting),
        })
    }
}

/// What a successful `open` yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub plaintext: Vec<u8>,
    /// Remember it (with a TTL above [`MAX_SKEW_SECS`] twice) and refuse repeats.
    pub nonce: String,
    pub kid: String,
    pub ts: i64,
}

/// Key id: the first 16 hex digits of SHA-256 over the SubjectPublicKeyInfo DER.
pub fn key_id(spki_der: &[u8]) -> String {
    let d = digest::digest(&digest::SHA256, spki_der);
    hex::encode(&d.as_ref()[..8])
}

/// Seals `plaintext` for `recipient`, signed by `sender`, stamped with `now` (Unix
/// seconds), valid only at `endpoint` (the path it is posted to).
pub fn seal(
    plaintext: &[u8],
    endpoint: &str,
    recipient: &EnvelopePublicKey,
    sender: &EnvelopePrivateKey,
    now: i64,
) -> Result<Envelope, SealError> {
    let mut nonce = [0u8; NONCE_BYTES];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| SealError::Random)?;
    seal_with_nonce(
        plaintext,
        endpoint,
        recipient,
        sender,
        now,
        B64.encode(nonce),
    )
}

/// Seals the reply to a request whose envelope carried `request_nonce` and
/// arrived at `endpoint`.
pub fn seal_reply(
    plaintext: &[u8],
    request_nonce: &str,
    endpoint: &str,
    recipient: &EnvelopePublicKey,
    sender: &EnvelopePrivateKey,
    now: i64,
) -> Result<Envelope, SealError> {
    seal_with_nonce(
        plaintext,
        endpoint,
        recipient,
        sender,
        now,
        request_nonce.to_owned(),
    )
}

fn seal_with_nonce(
    plaintext: &[u8],
    endpoint: &str,
    recipient: &EnvelopePublicKey,
    sender: &EnvelopePrivateKey,
    now: i64,
    nonce: String,
) -> Result<Envelope, SealError> {
    let rng = SystemRandom::new();
    let mut aes_key = [0u8; AES_KEY_LEN];
    let mut iv = [0u8; NONCE_LEN];
    rng.fill(&mut aes_key).map_err(|_| SealError::Random)?;
    rng.fill(&mut iv).map_err(|_| SealError::Random)?;

    let cipher =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &aes_key).map_err(|_| SealError::Encrypt)?);
    let mut payload = plaintext.to_vec();
    cipher
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(iv), Aad::empty(), &mut payload)
        .map_err(|_| SealError::Encrypt)?;

    let mut wrapped = vec![0u8; recipient.encrypting.ciphertext_size()];
    let wrapped = recipient
        .encrypting
        .encrypt(&OAEP_SHA256_MGF1SHA256, &aes_key, &mut wrapped, None)
        .map_err(|_| SealError::Encrypt)?;

    let mut env = Envelope {
        kid: sender.kid.clone(),
        ts: now,
        nonce,
        key: B64.encode(wrapped),
        iv: B64.encode(iv),
        payload: B64.encode(payload),
        sig: String::new(),
    };
    let mut sig = vec![0u8; sender.signing.public_modulus_len()];
    sender
        .signing
        .sign(
            &RSA_PKCS1_SHA256,
            &rng,
            signed_text(endpoint, &env).as_bytes(),
            &mut sig,
        )
        .map_err(|_| SealError::Sign)?;
    env.sig = B64.encode(sig);
    Ok(env)
}

/// Opens an envelope that arrived at `endpoint`: verifies the signature (which
/// covers the endpoint) and freshness, unwraps the key, decrypts.
pub fn open(
    env: &Envelope,
    endpoint: &str,
    recipient: &EnvelopePrivateKey,
    sender: &EnvelopePublicKey,
    now: i64,
) -> Result<Opened, EnvelopeRejected> {
    open_with_reason(env, endpoint, recipient, sender, now).map_err(|_| EnvelopeRejected)
}

/// Parses the JSON body first; a body that is not an envelope is refused like any other.
pub fn open_json(
    body: &[u8],
    endpoint: &str,
    recipient: &EnvelopePrivateKey,
    sender: &EnvelopePublicKey,
    now: i64,
) -> Result<Opened, EnvelopeRejected> {
    let env: Envelope = serde_json::from_slice(body).map_err(|_| EnvelopeRejected)?;
    open(&env, endpoint, recipient, sender, now)
}

/// Opens the JSON reply to `request`, which was posted to `endpoint`: refused
/// like any bad envelope unless it carries the request's nonce and was signed
/// for that endpoint.
pub fn open_reply(
    body: &[u8],
    request: &Envelope,
    endpoint: &str,
    recipient: &EnvelopePrivateKey,
    sender: &EnvelopePublicKey,
    now: i64,
) -> Result<Opened, EnvelopeRejected> {
    let opened = open_json(body, endpoint, recipient, sender, now)?;
    if opened.nonce != request.nonce {
        return Err(EnvelopeRejected);
    }
    Ok(opened)
}

/// Like [`open`] but says why, for the caller's internal log line. Never put the
/// reason in a response.
pub fn open_with_reason(
    env: &Envelope,
    endpoint: &str,
    recipient: &EnvelopePrivateKey,
    sender: &EnvelopePublicKey,
    now: i64,
) -> Result<Opened, RejectReason> {
    // Signature first: nothing unauthenticated reaches the RSA private key.
    let sig = B64.decode(&env.sig).map_err(|_| RejectReason::Malformed)?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &sender.spki)
        .verify(signed_text(endpoint, env).as_bytes(), &sig)
        .map_err(|_| RejectReason::BadSignature)?;
    if env.kid != sender.kid {
        return Err(RejectReason::BadSignature);
    }
    if now.abs_diff(env.ts) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(RejectReason::Stale);
    }
    let nonce = B64
        .decode(&env.nonce)
        .map_err(|_| RejectReason::Malformed)?;
    if nonce.len() != NONCE_BYTES {
        return Err(RejectReason::Malformed);
    }
    let wrapped = B64.decode(&env.key).map_err(|_| RejectReason::Malformed)?;
    let iv: [u8; NONCE_LEN] = B64
        .decode(&env.iv)
        .map_err(|_| RejectReason::Malformed)?
        .try_into()
        .map_err(|_| RejectReason::Malformed)?;
    let mut payload = B64
        .decode(&env.payload)
        .map_err(|_| RejectReason::Malformed)?;

    let mut key_buf = vec![0u8; recipient.decrypting.min_output_size()];
    let aes_key = recipient
        .decrypting
        .decrypt(&OAEP_SHA256_MGF1SHA256, &wrapped, &mut key_buf, None)
        .map_err(|_| RejectReason::Unwrap)?;
    if aes_key.len() != AES_KEY_LEN {
        return Err(RejectReason::Unwrap);
    }
    let cipher =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, aes_key).map_err(|_| RejectReason::Unwrap)?);
    let plain = cipher
        .open_in_place(Nonce::assume_unique_for_key(iv), Aad::empty(), &mut payload)
        .map_err(|_| RejectReason::Decrypt)?;
    let plaintext = plain.to_vec();
    Ok(Opened {
        plaintext,
        nonce: env.nonce.clone(),
        kid: env.kid.clone(),
        ts: env.ts,
    })
}

fn signed_text(endpoint: &str, env: &Envelope) -> String {
    format!(
        "{endpoint}|{}|{}|{}|{}|{}|{}",
        env.kid, env.ts, env.nonce, env.key, env.iv, env.payload
    )
}

/// A key the crypto library refused, with its reason.
fn rejected(e: impl fmt::Display) -> KeyError {
    KeyError::Rejected(e.to_string())
}

/// An RSA key that cannot do OAEP (SHA-256) wrapping.
fn not_oaep<E>(_: E) -> KeyError {
    KeyError::Rejected("not usable for OAEP".into())
}

/// Decodes one PEM block of the given label (RFC 7468, base64 body).
fn pem_to_der(pem: &str, label: &'static str) -> Result<Vec<u8>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).ok_or(KeyError::Pem(label))? + begin.len();
    let stop = pem[start..].find(&end).ok_or(KeyError::Pem(label))? + start;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    B64.decode(body).map_err(|_| KeyError::Pem(label))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/sandbox-keys/");

    fn read(name: &str) -> String {
        std::fs::read_to_string(format!("{KEYS}{name}")).unwrap()
    }

    struct Keys {
        orders: EnvelopePrivateKey,
        orders_pub: EnvelopePublicKey,
        gateway: EnvelopePrivateKey,
        gateway_pub: EnvelopePublicKey,
    }

    fn keys() -> Keys {
        Keys {
            orders: EnvelopePrivateKey::from_pkcs8_pem(&read("orders_envelope_private.pem"))
                .unwrap(),
            orders_pub: EnvelopePublicKey::from_spki_pem(&read("orders_envelope_public.pem"))
                .unwrap(),
            gateway: EnvelopePrivateKey::from_pkcs8_pem(&read("gateway_envelope_private.pem"))
                .unwrap(),
            gateway_pub: EnvelopePublicKey::from_spki_pem(&read("gateway_envelope_public.pem"))
                .unwrap(),
        }
    }

    const NOW: i64 = 1_790_000_000;
    const PAY: &str = "/api/alipay/face2face/pay";
    const QUERY: &str = "/api/alipay/trade/query";
    const CLOSE: &str = "/api/alipay/trade/close";
    const BODY: &[u8] = br#"{"order_id":"42","total_amount":"9.90","subject":"10 chats"}"#;

    fn sealed(k: &Keys) -> Envelope {
        seal(BODY, PAY, &k.gateway_pub, &k.orders, NOW).unwrap()
    }

    #[test]
    fn a_reply_opens_only_for_the_request_it_answers() {
        let k = keys();
        let request = sealed(&k);
        let opened = open(&request, PAY, &k.gateway, &k.orders_pub, NOW).unwrap();
        let reply = seal_reply(b"{}", &opened.nonce, PAY, &k.orders_pub, &k.gateway, NOW).unwrap();
        assert_eq!(reply.nonce, request.nonce);
        let body = serde_json::to_vec(&reply).unwrap();
        let answered = open_reply(&body, &request, PAY, &k.orders, &k.gateway_pub, NOW).unwrap();
        assert_eq!(answered.plaintext, b"{}");
        // The same reply played back to a later request is refused.
        let later = sealed(&k);
        assert_ne!(later.nonce, request.nonce);
        assert_eq!(
            open_reply(&body, &later, PAY, &k.orders, &k.gateway_pub, NOW).unwrap_err(),
            EnvelopeRejected
        );
    }

    #[test]
    fn an_envelope_opens_only_at_the_endpoint_it_was_sealed_for() {
        let k = keys();
        let query = seal(BODY, QUERY, &k.gateway_pub, &k.orders, NOW).unwrap();
        // A query posted to close fails the signature, with the one generic error.
        assert_eq!(
            open(&query, CLOSE, &k.gateway, &k.orders_pub, NOW),
            Err(EnvelopeRejected)
        );
        assert_eq!(
            open_with_reason(&query, CLOSE, &k.gateway, &k.orders_pub, NOW).unwrap_err(),
            RejectReason::BadSignature
        );
        let json = serde_json::to_vec(&query).unwrap();
        assert_eq!(
            open_json(&json, CLOSE, &k.gateway, &k.orders_pub, NOW),
            Err(EnvelopeRejected)
        );
        assert!(open(&query, QUERY, &k.gateway, &k.orders_pub, NOW).is_ok());

        // A reply signed for one endpoint does not answer a request sent to another.
        let reply = seal_reply(b"{}", &query.nonce, CLOSE, &k.orders_pub, &k.gateway, NOW).unwrap();
        let body = serde_json::to_vec(&reply).unwrap();
        assert_eq!(
            open_reply(&body, &query, QUERY, &k.orders, &k.gateway_pub, NOW),
            Err(EnvelopeRejected)
        );
        assert!(open_reply(&body, &query, CLOSE, &k.orders, &k.gateway_pub, NOW).is_ok());
    }

    #[test]
    fn round_trip() {
        let k = keys();
        let env = sealed(&k);
        assert_eq!(env.kid, k.orders_pub.kid());
        let json = serde_json::to_vec(&env).unwrap();
        let opened = open_json(&json, PAY, &k.gateway, &k.orders_pub, NOW + 299).unwrap();
        assert_eq!(opened.plaintext, BODY);
        assert_eq!(opened.nonce, env.nonce);
        assert_eq!(opened.ts, NOW);
        // And the response direction.
        let back = seal(b"{}", PAY, &k.orders_pub, &k.gateway, NOW).unwrap();
        assert_eq!(
            open(&back, PAY, &k.orders, &k.gateway_pub, NOW)
                .unwrap()
                .plaintext,
            b"{}"
        );
    }

    #[test]
    fn nonces_and_ciphertexts_differ_each_time() {
        let k = keys();
        let (a, b) = (sealed(&k), sealed(&k));
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.key, b.key);
        assert_ne!(a.payload, b.payload);
    }

    fn flip_b64(s: &str) -> String {
        let mut bytes = B64.decode(s).unwrap();
        bytes[0] ^= 1;
        B64.encode(bytes)
    }

    fn refused(k: &Keys, env: &Envelope, now: i64) -> RejectReason {
        assert_eq!(
            open(env, PAY, &k.gateway, &k.orders_pub, now),
            Err(EnvelopeRejected)
        );
        open_with_reason(env, PAY, &k.gateway, &k.orders_pub, now).unwrap_err()
    }

    #[test]
    fn tampering_is_refused() {
        let k = keys();
        let good = sealed(&k);
        let changed = |what: &'static str, change: fn(&mut Envelope)| {
            let mut env = good.clone();
            change(&mut env);
            (what, env)
        };
        let cases = [
            changed("payload", |e| e.payload = flip_b64(&e.payload)),
            changed("sig", |e| e.sig = flip_b64(&e.sig)),
            changed("key", |e| e.key = flip_b64(&e.key)),
            changed("iv", |e| e.iv = flip_b64(&e.iv)),
            changed("nonce", |e| e.nonce = flip_b64(&e.nonce)),
            changed("ts", |e| e.ts += 1),
            changed("kid", |e| e.kid = "someone-else".into()),
        ];
        for (what, env) in cases {
            assert_eq!(refused(&k, &env, NOW), RejectReason::BadSignature, "{what}");
        }
    }

    #[test]
    fn a_correctly_signed_bad_ciphertext_is_refused_after_the_signature() {
        // A sender holding the signing key but garbling the payload still gets nothing.
        let k = keys();
        let mut env = sealed(&k);
        env.payload = flip_b64(&env.payload);
        let mut sig = vec![0u8; k.orders.signing.public_modulus_len()];
        k.orders
            .signing
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signed_text(PAY, &env).as_bytes(),
                &mut sig,
            )
            .unwrap();
        env.sig = B64.encode(sig);
        assert_eq!(refused(&k, &env, NOW), RejectReason::Decrypt);
    }

    #[test]
    fn stale_or_future_timestamps_are_refused() {
        let k = keys();
        let env = sealed(&k);
        assert_eq!(refused(&k, &env, NOW + 301), RejectReason::Stale);
        assert_eq!(refused(&k, &env, NOW - 301), RejectReason::Stale);
        assert!(open(&env, PAY, &k.gateway, &k.orders_pub, NOW - 300).is_ok());
    }

    #[test]
    fn sealed_for_another_key_is_refused() {
        let k = keys();
        // Sealed to the orders key, but the gateway tries to open it.
        let env = seal(BODY, PAY, &k.orders_pub, &k.orders, NOW).unwrap();
        assert_eq!(refused(&k, &env, NOW), RejectReason::Unwrap);
        // Signed by the gateway key while the orders key is expected.
        let env = seal(BODY, PAY, &k.gateway_pub, &k.gateway, NOW).unwrap();
        assert_eq!(refused(&k, &env, NOW), RejectReason::BadSignature);
    }

    #[test]
    fn garbage_is_refused_the_same_way() {
        let k = keys();
        let good = sealed(&k);
        let env = Envelope {
            sig: "%%%not base64".into(),
            ..good.clone()
        };
        assert_eq!(refused(&k, &env, NOW), RejectReason::Malformed);
        for body in [&b"not json"[..], b"{}", br#"{"kid":1}"#, b""] {
            assert_eq!(
                open_json(body, PAY, &k.gateway, &k.orders_pub, NOW),
                Err(EnvelopeRejected)
            );
        }
        assert_eq!(EnvelopeRejected.to_string(), "envelope rejected");
    }

    #[test]
    fn private_keys_do_not_print() {
        let k = keys();
        let shown = format!("{:?}", k.orders);
        assert!(shown.contains(k.orders.kid()));
        assert!(!shown.contains("MII"));
        assert!(shown.len() < 80, "{shown}");
    }

    #[test]
    fn bad_pem_is_a_key_error() {
        assert!(matches!(
            EnvelopePrivateKey::from_pkcs8_pem(&read("orders_envelope_public.pem")),
            Err(KeyError::Pem(_))
        ));
        assert!(
            EnvelopePublicKey::from_spki_pem(
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
            )
            .is_err()
        );
    }
}
