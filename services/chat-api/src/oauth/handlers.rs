//! Sign-in through a provider: list the providers, start (302 to the
//! provider), the provider's callback (302 to the web app with a one-time
//! ticket or an error code) and the ticket's exchange for a session.
//!
//! A provider's address that already has an account here is never joined to
//! it silently: the exchange answers 409 `link_required` until the caller
//! proves the account with its password (the same ticket, sent again with
//! `password`, counted like a login).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use paychat_common::auth::AuthUser;
use paychat_common::http::ClientIp;
use paychat_common::locale::Locale;
use paychat_common::{ApiError, Json};
use serde::{Deserialize, Serialize};
use sqlx::Connection;
use utoipa::{IntoParams, ToSchema};

use super::flow::{self, Pending, Ticket};
use super::providers::{Identity, Kind};
use super::queries;
use crate::accounts::domain::{Email, Nickname};
use crate::accounts::queries::{self as accounts_db, BoundIdentity, LoginLog, LoginType};
use crate::accounts::types::{User, rfc3339, role_from_db};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderItem {
    pub id: String,
    pub name: String,
    pub kind: Kind,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderList {
    pub items: Vec<ProviderItem>,
}

/// The sign-in providers configured here.
#[utoipa::path(
    get,
    path = "/api/auth/providers",
    tag = "accounts",
    responses((status = 200, description = "The providers", body = ProviderList))
)]
pub async fn providers(State(state): State<AppState>) -> Json<ProviderList> {
    Json(ProviderList {
        items: state
            .oauth
            .providers
            .list
            .iter()
            .map(|p| ProviderItem {
                id: p.id.clone(),
                name: p.name.clone(),
                kind: p.kind(),
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StartQuery {
    /// A path of the web app to end on (default `/chat`).
    pub return_to: Option<String>,
}

/// The callback URL registered at the provider.
pub fn redirect_uri(state: &AppState, provider: &str) -> String {
    format!(
        "{}/api/auth/oauth/{provider}/callback",
        state.accounts.config.public_base()
    )
}

/// Starts a flow: keeps state, nonce and PKCE verifier, answers the provider's URL.
pub async fn begin(
    state: &AppState,
    provider: &str,
    return_to: Option<&str>,
    link_user_id: Option<i64>,
) -> Result<String, ApiError> {
    let providers = &state.oauth.providers;
    let provider = providers.get(provider)?;
    let started = providers
        .start(provider, &redirect_uri(state, &provider.id))
        .await?;
    flow::save_pending(
        state,
        &started.state,
        &Pending {
            provider: provider.id.clone(),
            nonce: started.nonce,
            pkce_verifier: started.pkce_verifier,
            return_to: flow::safe_return_to(return_to),
            link_user_id,
        },
    )
    .await?;
    Ok(started.url)
}

fn found(url: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, url)]).into_response()
}

/// Sends the browser to the provider.
#[utoipa::path(
    get,
    path = "/api/auth/oauth/{provider}/start",
    tag = "accounts",
    params(("provider" = String, Path, description = "A provider id"), StartQuery),
    responses(
        (status = 302, description = "To the provider's sign-in page"),
        (status = 404, description = "`unknown_provider`"),
        (status = 502, description = "`provider_unavailable`"),
    )
)]
pub async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(query): Query<StartQuery>,
) -> Result<Response, ApiError> {
    let url = begin(&state, &provider, query.return_to.as_deref(), None).await?;
    Ok(found(&url))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Where the provider sends the browser back; always a 302 to the web app's
/// `/oauth/done` with `ticket`, `linked` or `error`.
#[utoipa::path(
    get,
    path = "/api/auth/oauth/{provider}/callback",
    tag = "accounts",
    params(("provider" = String, Path, description = "A provider id"), CallbackQuery),
    responses((status = 302, description = "To `/oauth/done?ticket=...` or `?error=code`"))
)]
pub async fn callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let pairs = match finish(&state, &provider, query).await {
        Ok(pairs) => pairs,
        Err(code) => vec![("error", code.to_owned())],
    };
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    found(&format!(
        "{}/oauth/done?{query}",
        state.accounts.config.web_base()
    ))
}

async fn finish(
    state: &AppState,
    provider: &str,
    query: CallbackQuery,
) -> Result<Vec<(&'static str, String)>, &'static str> {
    let internal = |e: ApiError| {
        tracing::error!(error = %e, "sign-in callback");
        "internal"
    };
    let flow_state = query.state.as_deref().ok_or("invalid_state")?;
    let pending = flow::take_pending(state, flow_state)
        .await
        .map_err(internal)?
        .filter(|p| p.provider == provider)
        .ok_or("invalid_state")?;
    if query.error.is_some() {
        return Err("access_denied");
    }
    let code = query.code.as_deref().ok_or("invalid_request")?;
    let providers = &state.oauth.providers;
    let config = providers.get(provider).map_err(|_| "invalid_state")?;
    let identity = providers
        .finish(
            config,
            &redirect_uri(state, provider),
            code,
            pending.nonce.as_deref(),
            &pending.pkce_verifier,
        )
        .await
        .map_err(|e| {
            tracing::warn!(provider, error = %e, "sign-in refused");
            metrics::counter!("oauth_signins_total", "status" => e.code()).increment(1);
            e.code()
        })?;
    if let Some(user_id) = pending.link_user_id {
        super::bindings::link(state, user_id, &identity).await?;
        return Ok(vec![
            ("linked", provider.to_owned()),
            ("return_to", pending.return_to),
        ]);
    }
    let bound = queries::find_bound_user(&state.db, &identity.provider, &identity.subject)
        .await
        .map_err(|e| internal(e.into()))?;
    if bound.is_none() && identity.email.is_none() {
        return Err("email_not_verified");
    }
    let ticket = flow::save_ticket(
        state,
        &Ticket {
            identity,
            return_to: pending.return_to,
        },
        state.oauth.config.ticket_ttl(),
        None,
    )
    .await
    .map_err(internal)?;
    Ok(vec![("ticket", ticket)])
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ExchangeRequest {
    pub ticket: String,
    /// The password of the existing account with the provider's address,
    /// proving it before the provider is linked to it.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExchangeResponse {
    pub token: String,
    pub expires_at: String,
    pub user: User,
    /// The web app path the sign-in was started for.
    pub return_to: String,
}

/// Trades a ticket for a session, like login.
#[utoipa::path(
    post,
    path = "/api/auth/oauth/exchange",
    tag = "accounts",
    request_body = ExchangeRequest,
    responses(
        (status = 200, description = "Signed in", body = ExchangeResponse),
        (status = 400, description = "`invalid_ticket`"),
        (status = 401, description = "`invalid_credentials` (the password given to link)"),
        (status = 409, description = "`link_required` with `email`: an account has the provider's address; send the ticket again with its password"),
        (status = 429, description = "`rate_limited`"),
    )
)]
pub async fn exchange(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(body): Json<ExchangeRequest>,
) -> Result<Json<ExchangeResponse>, ApiError> {
    let ticket = flow::take_ticket(&state, &body.ticket)
        .await?
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_ticket",
                "the sign-in ticket is unknown, used or expired",
            )
        })?;
    let locale = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Locale::from_accept_language)
        .unwrap_or(Locale::En);
    let outcome = sign_in_identity(
        &state,
        &ticket.identity,
        body.password.as_deref(),
        ip,
        locale,
    )
    .await;
    match outcome {
        Ok(user_id) => {
            let origin = crate::accounts::sessions::origin(ip, &headers);
            let (token, expires_at, user) =
                session_for(&state, user_id, &ticket.identity.provider, ip, origin).await?;
            metrics::counter!("oauth_signins_total", "status" => "success").increment(1);
            Ok(Json(ExchangeResponse {
                token,
                expires_at,
                user,
                return_to: ticket.return_to,
            }))
        }
        Err(e) => {
            // Still waiting for the proof: the same ticket stays good a while.
            if matches!(
                e,
                ApiError::Conflict { .. }
                    | ApiError::Unauthenticated { .. }
                    | ApiError::RateLimited { .. }
                    | ApiError::Busy { .. }
            ) {
                flow::save_ticket(
                    &state,
                    &ticket,
                    state.oauth.config.link_ttl(),
                    Some(&body.ticket),
                )
                .await?;
            }
            Err(e)
        }
    }
}

/// The user this identity signs in as: the bound one; else the account with
/// its address once proven by `password`; else a new user.
async fn sign_in_identity(
    state: &AppState,
    identity: &Identity,
    password: Option<&str>,
    ip: std::net::IpAddr,
    locale: Locale,
) -> Result<i64, ApiError> {
    if let Some(user_id) =
        queries::find_bound_user(&state.db, &identity.provider, &identity.subject).await?
    {
        return Ok(user_id);
    }
    let email = identity
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_ticket",
                "the provider gave no usable verified address",
            )
        })?;
    if let Some(account) = accounts_db::find_account(&state.db, email.as_str()).await? {
        let Some(password) = password else {
            return Err(link_required(&email));
        };
        prove_password(state, &account, &email, password, ip).await?;
        let mut tx = state.db.begin().await?;
        insert_oauth_binding(&mut tx, state, identity, account.user_id).await?;
        accounts_db::set_verified(&mut *tx, email.as_str()).await?;
        tx.commit().await?;
        tracing::info!(user_id = account.user_id, provider = %identity.provider, "provider linked after a password proof");
        return Ok(account.user_id);
    }
    match create_user(state, identity, &email, locale).await {
        Ok(user_id) => Ok(user_id),
        // A second exchange for the same person may have just made it.
        Err(ApiError::Internal(e)) if is_duplicate(&e) => {
            queries::find_bound_user(&state.db, &identity.provider, &identity.subject)
                .await?
                .ok_or_else(|| link_required(&email))
        }
        Err(e) => Err(e),
    }
}

fn is_duplicate(e: &anyhow::Error) -> bool {
    e.downcast_ref::<sqlx::Error>()
        .is_some_and(paychat_common::error::is_unique_violation)
}

fn link_required(email: &Email) -> ApiError {
    let mut extra = serde_json::Map::new();
    extra.insert("email".into(), email.as_str().into());
    ApiError::Conflict {
        code: "link_required",
        message:
            "an account already has this address: sign in with its password to link the provider"
                .into(),
        extra,
    }
}

/// Checks the existing account's password, counted against the login limits.
async fn prove_password(
    state: &AppState,
    account: &accounts_db::Account,
    email: &Email,
    password: &str,
    ip: std::net::IpAddr,
) -> Result<(), ApiError> {
    let config = &state.accounts.config;
    let attempt = state
        .limiter
        .attempt(&[
            (&format!("login_fail:ip:{ip}"), config.login_limit_ip()),
            (
                &format!("login_fail:email:{email}"),
                config.login_limit_email(),
            ),
        ])
        .await?;
    let matches = match state
        .accounts
        .hasher
        .verify(password, Some(account.password.clone()))
        .await
    {
        Ok(m) => m,
        Err(e) => {
            attempt.succeeded().await;
            return Err(e);
        }
    };
    if matches {
        attempt.succeeded().await;
        Ok(())
    } else {
        drop(attempt);
        Err(ApiError::Unauthenticated {
            code: "invalid_credentials",
            message: "wrong password".into(),
        })
    }
}

pub async fn insert_oauth_binding(
    tx: &mut sqlx::MySqlConnection,
    state: &AppState,
    identity: &Identity,
    user_id: i64,
) -> Result<(), sqlx::Error> {
    let oauth_id = state.ids.next();
    queries::insert_oauth(
        &mut *tx,
        oauth_id,
        &identity.provider,
        &identity.subject,
        identity.email.as_deref(),
    )
    .await?;
    accounts_db::insert_binding(
        &mut *tx,
        state.ids.next(),
        BoundIdentity::Oauth(oauth_id),
        user_id,
    )
    .await
}

/// A new user with the provider's verified address (no password) and the binding.
async fn create_user(
    state: &AppState,
    identity: &Identity,
    email: &Email,
    locale: Locale,
) -> Result<i64, ApiError> {
    let nickname = identity
        .name
        .as_deref()
        .map(|n| n.chars().take(16).collect::<String>())
        .and_then(|n| Nickname::parse(&n).ok())
        .unwrap_or_else(|| Nickname::from_email(email));
    let user_id = state.ids.next();
    let email_id = state.ids.next();
    let role = state
        .accounts
        .role_for(email, paychat_common::auth::Role::User);
    let result: Result<(), sqlx::Error> = async {
        let mut conn = state.db.acquire().await?;
        let mut tx = conn.begin().await?;
        accounts_db::insert_user(&mut *tx, user_id, nickname.as_str(), role.as_str(), locale)
            .await?;
        accounts_db::insert_binding_email(&mut *tx, email_id, email.as_str(), "").await?;
        accounts_db::set_verified(&mut *tx, email.as_str()).await?;
        accounts_db::insert_binding(
            &mut *tx,
            state.ids.next(),
            BoundIdentity::Email(email_id),
            user_id,
        )
        .await?;
        insert_oauth_binding(&mut tx, state, identity, user_id).await?;
        tx.commit().await
    }
    .await;
    result.map_err(|e| ApiError::Internal(e.into()))?;
    tracing::info!(user_id, provider = %identity.provider, "user made by a provider sign-in");
    Ok(user_id)
}

/// A session for the user, as login gives one.
pub(super) async fn session_for(
    state: &AppState,
    user_id: i64,
    provider: &str,
    ip: std::net::IpAddr,
    origin: paychat_common::auth::Origin,
) -> Result<(String, String, User), ApiError> {
    let row = accounts_db::find_user(&state.db, user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let stored = role_from_db(&row.role);
    crate::accounts::login::refuse_if_disabled(state, user_id, stored, None).await?;
    let role = Email::parse(&row.email)
        .map(|e| state.accounts.role_for(&e, stored))
        .unwrap_or(stored);
    if role != stored {
        accounts_db::set_role(&state.db, user_id, role.as_str()).await?;
    }
    let ip = ip.to_string();
    accounts_db::set_last_login_ip(&state.db, user_id, &ip).await?;
    accounts_db::insert_login_log(
        &state.db,
        &LoginLog {
            id: state.ids.next(),
            login_type: LoginType::Oauth,
            user_id: Some(user_id),
            binding_email_id: None,
            ip: &ip,
            success: true,
            message: &format!("success via {provider}"),
        },
    )
    .await?;
    let issued = state.sessions.create_from(user_id, role, origin).await?;
    crate::accounts::login::refuse_if_disabled(state, user_id, role, Some(&issued)).await?;
    let user = accounts_db::find_user(&state.db, user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    tracing::info!(user_id, provider, "signed in through a provider");
    Ok((issued.token, rfc3339(issued.expires_at), User::from(user)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkStart {
    /// Send the browser here; it comes back to `/oauth/done?linked=<provider>`.
    pub url: String,
}

/// Starts linking a provider to the signed-in user.
#[utoipa::path(
    post,
    path = "/api/users/me/bindings/{provider}",
    tag = "accounts",
    security(("bearer" = [])),
    params(("provider" = String, Path, description = "A provider id"), StartQuery),
    responses(
        (status = 200, description = "Where to send the browser", body = LinkStart),
        (status = 401, description = "`unauthorized`"),
        (status = 404, description = "`unknown_provider`"),
    )
)]
pub async fn link_start(
    State(state): State<AppState>,
    user: AuthUser,
    Path(provider): Path<String>,
    Query(query): Query<StartQuery>,
) -> Result<Json<LinkStart>, ApiError> {
    let return_to = query.return_to.as_deref().or(Some("/account"));
    let url = begin(&state, &provider, return_to, Some(user.user_id)).await?;
    Ok(Json(LinkStart { url }))
}
