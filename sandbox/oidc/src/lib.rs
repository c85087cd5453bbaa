//! The sandbox sign-in providers: an OpenID Connect provider and a
//! GitHub-shaped OAuth2 stand-in, for local runs and tests only.
//!
//! # OpenID Connect (issuer = the base URL)
//! - `GET /.well-known/openid-configuration`, `GET /jwks` (one RSA key, made at start).
//! - `GET /authorize`: the authorization code flow; PKCE S256 is required. Without
//!   `login_hint` a page lists the test users with a button each; with
//!   `login_hint=<a test user's email>` it redirects back at once.
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
    /// The OIDC `sub` (and the GitHub id as a number).
    pub sub: &'static str,
    pub github_id: u64,
    pub github_login: &'static str,
    pub email: &'static str,
    pub email_verified: bool,
    pub name: &'static str,
}

/// The test users every run has.
pub const USERS: &[TestUser] = &[
    TestUser {
        sub: "sandbox-user-alice",
        github_id: 1001,
        github_login: "alice-sandbox",
        email: "alice@sandbox.test",
        email_verified: true,
        name: "Alice Sandbox",
    },
    TestUser {
        sub: "sandbox-user-bob",
        github_id: 1002,
        github_login: "bob-sandbox",
        email: "bob@sandbox.test",
        email_verified: true,
        name: "Bob Sandbox",
    },
    TestUser {
        sub: "sandbox-user-carol",
        github_id: 1003,
        github_login: "carol-sandbox",
        email: "carol@sandbox.test",
        email_verified: false,
        name: "Carol Unverified",
    },
];

pub fn find_user(email: &str) -> Option<&'static TestUser> {
    USERS.iter().find(|u| u.email.eq_ignore_ascii_case(email))
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
    user: &'static TestUser,
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
    tokens: HashMap<String, &'static TestUser>,
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

    fn issue_access_token(&self, user: &'static TestUser) -> String {
        let token = random_token();
        self.store().tokens.insert(token.clone(), user);
        token
    }

    fn user_of_token(&self, token: &str) -> Option<&'static TestUser> {
        self.store().tokens.get(token).copied()
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
