//! `POST /api/auth/login` and `POST /api/auth/logout`.
//!
//! Every attempt is written to `chat_user_login_log`. Failures are counted per
//! address and per IP (Redis, so every copy of the service counts together):
//! each attempt is counted before the password is checked and given back when
//! it was right, so concurrent attempts cannot slip past the limit; past either
//! limit the answer is 429 with `Retry-After`. An unknown address still costs
//! a hash, so it takes as long as a wrong password.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use paychat_common::auth::AuthUser;
use paychat_common::http::ClientIp;
use paychat_common::{ApiError, Json};

use super::domain::Email;
use super::queries::{self, Account, LoginLog, LoginType};
use super::types::{LoginRequest, LoginResponse, User, rfc3339, role_from_db};
use crate::state::AppState;

fn account_disabled() -> ApiError {
    ApiError::Refused {
        code: "account_disabled",
        message: "this account has been disabled".into(),
    }
}

/// Refuses a disabled account: checked after the password (so the answer
/// says nothing to a caller without it) and again once the session exists,
/// ending it, so a sign-in racing an admin's disable cannot keep a session:
/// the disable sets the flag first and ends every session after.
pub(crate) async fn refuse_if_disabled(
    state: &AppState,
    user_id: i64,
    role: paychat_common::auth::Role,
    issued: Option<&paychat_common::auth::Issued>,
) -> Result<(), ApiError> {
    if !queries::is_disabled(&state.db, user_id).await? {
        return Ok(());
    }
    if let Some(issued) = issued {
        state
            .sessions
            .revoke(&AuthUser {
                user_id,
                role,
                token_hash: paychat_common::auth::hash_token(&issued.token),
            })
            .await?;
    }
    Err(account_disabled())
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthenticated {
        code: "invalid_credentials",
        message: "wrong email or password".into(),
    }
}

async fn log_attempt(
    state: &AppState,
    account: Option<&Account>,
    ip: &str,
    success: bool,
    message: &str,
) -> Result<(), ApiError> {
    queries::insert_login_log(
        &state.db,
        &LoginLog {
            id: state.ids.next(),
            login_type: LoginType::Email,
            user_id: account.map(|a| a.user_id),
            binding_email_id: account.map(|a| a.binding_email_id),
            ip,
            success,
            message,
        },
    )
    .await?;
    metrics::counter!("logins_total", "status" => if success { "success" } else { "failure" })
        .increment(1);
    Ok(())
}

/// Signs in with email and password; answers a bearer token.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 400, description = "`invalid_email` or `invalid_request`"),
        (status = 401, description = "`invalid_credentials`"),
        (status = 403, description = "`email_not_verified` or `account_disabled`"),
        (status = 429, description = "`rate_limited`, with `Retry-After`"),
        (status = 503, description = "`busy` (too many password checks at once), with `Retry-After`"),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(body): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let config = &state.accounts.config;
    let email =
        Email::parse(&body.email).map_err(|p| ApiError::field("invalid_email", "email", p))?;
    let ip_text = ip.to_string();
    let ip_key = format!("login_fail:ip:{ip}");
    let email_key = format!("login_fail:email:{email}");
    let account = queries::find_account(&state.db, email.as_str()).await?;

    let attempt = state
        .limiter
        .attempt(&[
            (&ip_key, config.login_limit_ip()),
            (&email_key, config.login_limit_email()),
        ])
        .await;
    let attempt = match attempt {
        Ok(attempt) => attempt,
        Err(e) => {
            if matches!(e, ApiError::RateLimited { .. }) {
                log_attempt(&state, account.as_ref(), &ip_text, false, "rate limited").await?;
            }
            return Err(e);
        }
    };

    let stored = account.as_ref().map(|a| a.password.clone());
    let matches = match state.accounts.hasher.verify(&body.password, stored).await {
        Ok(matches) => matches,
        Err(e) => {
            // Never checked, so not a failure: a busy server must not lock accounts.
            attempt.succeeded().await;
            if matches!(e, ApiError::Busy { .. }) {
                log_attempt(&state, account.as_ref(), &ip_text, false, "busy").await?;
            }
            return Err(e);
        }
    };
    let account = match account {
        Some(account) if matches => {
            attempt.succeeded().await;
            account
        }
        other => {
            // A failure: the attempt stays counted.
            drop(attempt);
            let message = if other.is_some() {
                "wrong password"
            } else {
                "unknown email"
            };
            log_attempt(&state, other.as_ref(), &ip_text, false, message).await?;
            return Err(invalid_credentials());
        }
    };
    if !account.verified {
        log_attempt(
            &state,
            Some(&account),
            &ip_text,
            false,
            "email not verified",
        )
        .await?;
        return Err(ApiError::Refused {
            code: "email_not_verified",
            message: "verify your email first: follow the link we sent you".into(),
        });
    }

    if account.disabled {
        log_attempt(&state, Some(&account), &ip_text, false, "account disabled").await?;
        return Err(account_disabled());
    }

    let role = state.accounts.role_for(&email, role_from_db(&account.role));
    if role.as_str() != account.role {
        queries::set_role(&state.db, account.user_id, role.as_str()).await?;
    }
    queries::set_last_login_ip(&state.db, account.user_id, &ip_text).await?;
    log_attempt(&state, Some(&account), &ip_text, true, "success").await?;
    let issued = state
        .sessions
        .create_from(account.user_id, role, super::sessions::origin(ip, &headers))
        .await?;
    refuse_if_disabled(&state, account.user_id, role, Some(&issued)).await?;
    let user = queries::find_user(&state.db, account.user_id)
        .await?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("user {} has no row", account.user_id))
        })?;
    tracing::info!(user_id = account.user_id, "signed in");
    Ok(Json(LoginResponse {
        token: issued.token,
        expires_at: rfc3339(issued.expires_at),
        user: User::from(user),
    }))
}

/// Ends the caller's session.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "`unauthorized`"),
    )
)]
pub async fn logout(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode, ApiError> {
    state.sessions.revoke(&user).await?;
    Ok(StatusCode::NO_CONTENT)
}
