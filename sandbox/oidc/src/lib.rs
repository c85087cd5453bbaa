//! The sandbox sign-in providers: an OpenID Connect provider and a
//! GitHub-shaped OAuth2 stand-in, for local runs and tests only.
//!
//! # OpenID Connect (issuer = the base URL)
//! - `GET /.well-known/openid-configuration`, `GET /jwks` (one RSA key, made at start).
//! - `GET /authorize`: the authorization code flow; PKCE S256 is required. Without
//!   `login_hint` a page lists the test users with a button each; with
//!   `login_hint=<a test user's email>` it redirects back at once (any other
//!   `<name>@sandbox.test` is a verified user made up on the spot).
//! - `POST /token` (client secret by HTTP Basic or form; the code's PKCE verifier
//!   is checked; each code works once), `GET /userinfo`.
//! - ID tokens are RS256 JWTs with `iss`, `sub`, `aud`, `iat`, `exp`, `nonce`,
//!   `email`, `email_verified`, `name`.
//!
//! # GitHub stand-in (under `/github/`)
//! `GET /github/login/oauth/authorize`, `POST /github/login/oauth/access_token`,
//! `GET /github/api/user`, `GET /github/api/user/emails` (the primary address, verified).
//!
//! # Switches for tests (query parameters of `/authorize`)
//! - `sim=expired`: the ID token expired an hour ago.
//! - `sim=wrong_aud`: the ID token is for another client.
//! - `sim=bad_sig`: the ID token is signed by a key the JWKS does not hold.
//! - `sim_nonce=<text>`: the ID token carries this nonce instead of the request's.
//!
//! `GET /sim/users` lists the test users; `GET /healthz` answers `ok`.

pub mod config;
mod github;
mod jwt;
mod oidc;
mod page;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use serde::Serialize;

pub use config::Settings;

/// A user of the stand-in providers.
#[derive(Debug, Clone, Serialize)]
pub struct TestUser {
    /// The OIDC `sub`.
    pub sub: Cow<'static, str>,
    pub github_id: u64,
    pub github_login: Cow<'static, str>,
    pub email: Cow<'static, str>,
    pub email_verified: bool,
    pub name: Cow<'static, str>,
}

/// The test users every run has.
pub const USERS: &[TestUser] = &[
    TestUser {
        sub: Cow::Borrowed("sandbox-user-alice"),
        github_id: 1001,
        github_login: Cow::Borrowed("alice-sandbox"),
        email: Cow::Borrowed("alice@sandbox.test"),
        email_verified: true,
        name: Cow::Borrowed("Alice Sandbox"),
    },
    TestUser {
        sub: Cow::Borrowed("sandbox-user-bob"),
        github_id: 1002,
        github_login: Cow::Borrowed("bob-sandbox"),
        email: Cow::Borrowed("bob@sandbox.test"),
        email_verified: true,
        name: Cow::Borrowed("Bob Sandbox"),
    },
    TestUser {
        sub: Cow::Borrowed("sandbox-user-carol"),
        github_id: 1003,
        github_login: Cow::Borrowed("carol-sandbox"),
        email: Cow::Borrowed("carol@sandbox.test"),
        email_verified: false,
        name: Cow::Borrowed("Carol Unverified"),
    },
];

/// The test user with this address. Any other `<name>@sandbox.test` is a
/// verified user made up on the spot (sub `sandbox-<name>`), so tests can use
/// addresses of their own.
pub fn find_user(email: &str) -> Option<TestUser> {
    if let Some(user) = USERS.iter().find(|u| u.email.eq_ignore_ascii_case(email)) {
        return Some(user.clone());
    }
    let name = email.strip_suffix("@sandbox.test")?.to_ascii_lowercase();
    let usable = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'));
    usable.then(|| TestUser {
        sub: Cow::Owned(format!("sandbox-{name}")),
        // A stable number for the same address, as GitHub ids are.
        github_id: 1_000_000
            + name
                .bytes()
                .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
                % 1_000_000_000,
        github_login: Cow::Owned(name.replace(['.', '+', '_'], "-")),
        email: Cow::Owned(format!("{name}@sandbox.test")),
        email_verified: true,
        name: Cow::Owned(name),
    })
}

/// How an ID token is to be spoiled (the test switches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spoil {
    None,
    Expired,
    WrongAudience,
    BadSignature,
}

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
struct Grant {
    user: TestUser,
    client_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    nonce: Option<String>,
    spoil: Spoil,
    issued: Instant,
}

/// How long a code may wait for the token request.
const CODE_TTL: Duration = Duration::from_secs(300);

#[derive(Default)]
struct Store {
    codes: HashMap<String, Grant>,
    /// Access token → user.
    tokens: HashMap<String, TestUser>,
}

/// Shared state of the running stand-in.
#[derive(Clone)]
pub struct AppState {
    pub issuer: Arc<str>,
    client_id: Arc<str>,
    client_secret: Arc<str>,
    keys: Arc<jwt::Keys>,
    store: Arc<Mutex<Store>>,
}

impl AppState {
    /// A poisoned lock only means another request panicked; the maps are still whole.
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh code for `grant`; expired codes are dropped on the way.
    fn issue_code(&self, grant: Grant) -> String {
        let code = random_token();
        let mut store = self.store();
        store.codes.retain(|_, g| g.issued.elapsed() < CODE_TTL);
        store.codes.insert(code.clone(), grant);
        code
    }

    /// The grant of `code`, once.
    fn take_code(&self, code: &str) -> Option<Grant> {
        self.store()
            .codes
            .remove(code)
            .filter(|g| g.issued.elapsed() < CODE_TTL)
    }

    fn issue_access_token(&self, user: TestUser) -> String {
        let token = random_token();
        self.store().tokens.insert(token.clone(), user);
        token
    }

    fn user_of_token(&self, token: &str) -> Option<TestUser> {
        self.store().tokens.get(token).cloned()
    }

    fn client_matches(&self, id: &str, secret: &str) -> bool {
        id == &*self.client_id && secret == &*self.client_secret
    }
}

/// 32 random bytes, URL-safe base64.
fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/jwks", get(oidc::jwks))
        .route("/authorize", get(oidc::authorize))
        .route("/token", post(oidc::token))
        .route("/userinfo", get(oidc::userinfo))
        .route("/github/login/oauth/authorize", get(github::authorize))
        .route(
            "/github/login/oauth/access_token",
            post(github::access_token),
        )
        .route("/github/api/user", get(github::user))
        .route("/github/api/user/emails", get(github::emails))
        .route(
            "/sim/users",
            get(|| async { axum::Json(serde_json::json!({ "items": USERS })) }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

/// Builds the state: the issuer (the given one, else the bound address) and a
/// signing key made now.
pub fn state(settings: &Settings, bound: std::net::SocketAddr) -> anyhow::Result<AppState> {
    let issuer = settings
        .issuer
        .clone()
        .unwrap_or_else(|| format!("http://{bound}"));
    Ok(AppState {
        issuer: issuer.trim_end_matches('/').into(),
        client_id: settings.client_id.as_str().into(),
        client_secret: settings.client_secret.as_str().into(),
        keys: Arc::new(jwt::Keys::generate()?),
        store: Arc::new(Mutex::new(Store::default())),
    })
}
