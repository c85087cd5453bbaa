//! The GitHub-shaped OAuth2 stand-in: the web flow's two endpoints and the two
//! API calls a sign-in needs, answering in GitHub's shapes.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::oidc::{
    AuthorizeRequest, authenticated_client, bearer_user, issue_or_ask, oauth_error, pkce_matches,
};
use crate::{AppState, Grant, Spoil};

pub async fn authorize(
    State(state): State<AppState>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let req = AuthorizeRequest { params };
    if let Some(method) = req.get("code_challenge_method")
        && method != "S256"
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "only S256");
    }
    issue_or_ask(
        &state,
        &req,
        "Sandbox GitHub",
        "/github/login/oauth/authorize",
        |user, client_id, redirect_uri| Grant {
            user,
            client_id,
            redirect_uri,
            code_challenge: req.get("code_challenge").map(str::to_owned),
            nonce: None,
            spoil: Spoil::None,
            issued: std::time::Instant::now(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct AccessTokenForm {
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

pub async fn access_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<AccessTokenForm>,
) -> Response {
    if let Err(refused) = authenticated_client(
        &state,
        &headers,
        form.client_id.as_deref(),
        form.client_secret.as_deref(),
        "incorrect_client_credentials",
    ) {
        return *refused;
    }
    let Some(grant) = form.code.as_deref().and_then(|c| state.take_code(c)) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "bad_verification_code",
            "unknown, used or expired code",
        );
    };
    if form
        .redirect_uri
        .as_deref()
        .is_some_and(|r| r != grant.redirect_uri)
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            "redirect_uri differs",
        );
    }
    let pkce_ok = match (&grant.code_challenge, form.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) => pkce_matches(verifier, challenge),
        (None, _) => true,
        (Some(_), None) => false,
    };
    if !pkce_ok {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "bad_verification_code",
            "PKCE verification failed",
        );
    }
    Json(json!({
        "access_token": state.issue_access_token(grant.user),
        "token_type": "bearer",
        "scope": "read:user,user:email",
    }))
    .into_response()
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest" })),
    )
        .into_response()
}

pub async fn user(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(u) = bearer_user(&state, &headers) else {
        return unauthorized();
    };
    Json(json!({
        "login": u.github_login,
        "id": u.github_id,
        "name": u.name,
        // A user who keeps their address private shows null here, as on GitHub.
        "email": null,
        "type": "User",
    }))
    .into_response()
}

pub async fn emails(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(u) = bearer_user(&state, &headers) else {
        return unauthorized();
    };
    Json(json!([
        { "email": u.email, "primary": true, "verified": u.email_verified, "visibility": "private" },
        { "email": format!("{}@users.noreply.github.test", u.github_login), "primary": false, "verified": true, "visibility": null },
    ]))
    .into_response()
}
