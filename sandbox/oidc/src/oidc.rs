//! The OpenID Connect provider's endpoints.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::json;

use crate::{AppState, Grant, Spoil, find_user, page};

pub async fn discovery(State(state): State<AppState>) -> Json<serde_json::Value> {
    let issuer = &*state.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified", "name"],
    }))
}

pub async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.keys.jwks())
}

/// An OAuth error as JSON (`{"error", "error_description"}`).
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// What both authorize endpoints read from their query.
pub struct AuthorizeRequest {
    pub params: Vec<(String, String)>,
}

impl AuthorizeRequest {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Checks the request, then shows the login page or (with a known
/// `login_hint`) sends the browser back with a code.
pub async fn authorize(
    State(state): State<AppState>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let req = AuthorizeRequest { params };
    if req.get("response_type") != Some("code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            "only code",
        );
    }
    if req.get("code_challenge_method") != Some("S256") || req.get("code_challenge").is_none() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "PKCE S256 is required",
        );
    }
    if !req
        .get("scope")
        .is_some_and(|s| s.split(' ').any(|s| s == "openid"))
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "openid is required",
        );
    }
    let spoil = match req.get("sim") {
        None => Spoil::None,
        Some("expired") => Spoil::Expired,
        Some("wrong_aud") => Spoil::WrongAudience,
        Some("bad_sig") => Spoil::BadSignature,
        Some(_) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "unknown sim"),
    };
    let nonce = req
        .get("sim_nonce")
        .or_else(|| req.get("nonce"))
        .map(str::to_owned);
    issue_or_ask(
        &state,
        &req,
        "Sandbox OpenID Connect",
        "/authorize",
        |user, client_id, redirect_uri| Grant {
            user,
            client_id,
            redirect_uri,
            code_challenge: req.get("code_challenge").map(str::to_owned),
            nonce: nonce.clone(),
            spoil,
            issued: std::time::Instant::now(),
        },
    )
}

/// Shared by both providers: checks client and redirect, then either the
/// login page or a redirect with `code` and `state`.
pub fn issue_or_ask(
    state: &AppState,
    req: &AuthorizeRequest,
    title: &str,
    action: &str,
    grant: impl FnOnce(crate::TestUser, String, String) -> Grant,
) -> Response {
    let Some(client_id) = req.get("client_id").filter(|c| *c == &*state.client_id) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "unknown client_id",
        );
    };
    let Some(mut redirect) = req
        .get("redirect_uri")
        .and_then(|r| url::Url::parse(r).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri must be an http(s) URL",
        );
    };
    let Some(user) = req.get("login_hint").and_then(find_user) else {
        return page::login_page(title, action, &req.params).into_response();
    };
    let redirect_uri = redirect.to_string();
    let code = state.issue_code(grant(user, client_id.to_owned(), redirect_uri));
    {
        let mut query = redirect.query_pairs_mut();
        query.append_pair("code", &code);
        if let Some(s) = req.get("state") {
            query.append_pair("state", s);
        }
    }
    Redirect::to(redirect.as_str()).into_response()
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The client from HTTP Basic (form-encoded parts, as RFC 6749 says) or the form.
pub fn client_credentials(
    headers: &HeaderMap,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Option<(String, String)> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let (id, secret) = s.split_once(':')?;
            let decode = |p: &str| {
                url::form_urlencoded::parse(format!("x={p}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Some((decode(id)?, decode(secret)?))
        });
    basic.or_else(|| Some((form_id?.to_owned(), form_secret?.to_owned())))
}

/// The id of the client a token request authenticates as (Basic or the form),
/// or the answer refusing it: 401 `invalid_client` when it names none,
/// 401 `wrong_code` when the secret does not match.
pub fn authenticated_client(
    state: &AppState,
    headers: &HeaderMap,
    form_id: Option<&str>,
    form_secret: Option<&str>,
    wrong_code: &str,
) -> Result<String, Box<Response>> {
    let Some((id, secret)) = client_credentials(headers, form_id, form_secret) else {
        return Err(Box::new(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "no client credentials",
        )));
    };
    if !state.client_matches(&id, &secret) {
        return Err(Box::new(oauth_error(
            StatusCode::UNAUTHORIZED,
            wrong_code,
            "wrong client credentials",
        )));
    }
    Ok(id)
}

/// Whether `verifier` hashes to `challenge` (S256).
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref()) == challenge
}

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<TokenForm>,
) -> Response {
    let id = match authenticated_client(
        &state,
        &headers,
        form.client_id.as_deref(),
        form.client_secret.as_deref(),
        "invalid_client",
    ) {
        Ok(id) => id,
        Err(refused) => return *refused,
    };
    if form.grant_type.as_deref() != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        );
    }
    let Some(grant) = form.code.as_deref().and_then(|c| state.take_code(c)) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown, used or expired code",
        );
    };
    if grant.client_id != id || form.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "client or redirect_uri differs",
        );
    }
    let pkce_ok = match (&grant.code_challenge, form.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) => pkce_matches(verifier, challenge),
        (None, None) => true,
        _ => false,
    };
    if !pkce_ok {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "PKCE verification failed",
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let (iat, exp) = if grant.spoil == Spoil::Expired {
        (now - 7200, now - 3600)
    } else {
        (now, now + 600)
    };
    let aud = if grant.spoil == Spoil::WrongAudience {
        "another-client".to_owned()
    } else {
        grant.client_id.clone()
    };
    let mut claims = json!({
        "iss": &*state.issuer,
        "sub": &grant.user.sub,
        "aud": aud,
        "iat": iat,
        "exp": exp,
        "email": &grant.user.email,
        "email_verified": grant.user.email_verified,
        "name": &grant.user.name,
    });
    if let Some(nonce) = &grant.nonce {
        claims["nonce"] = json!(nonce);
    }
    let id_token = match state.keys.sign(&claims, grant.spoil == Spoil::BadSignature) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "signing an ID token");
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "signing failed",
            );
        }
    };
    let access_token = state.issue_access_token(grant.user.clone());
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 600,
        "scope": "openid email profile",
        "id_token": id_token,
    }))
    .into_response()
}

/// The user of a bearer (or GitHub-style `token`) access token.
pub fn bearer_user(state: &AppState, headers: &HeaderMap) -> Option<crate::TestUser> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then(|| state.user_of_token(token.trim()))
        .flatten()
}

pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match bearer_user(&state, &headers) {
        Some(u) => Json(json!({
            "sub": u.sub,
            "email": u.email,
            "email_verified": u.email_verified,
            "name": u.name,
        }))
        .into_response(),
        None => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "unknown access token",
        ),
    }
}
