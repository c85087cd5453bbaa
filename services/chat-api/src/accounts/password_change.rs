//! `POST /api/users/me/password`: a signed-in user sets a new password by
//! giving the current one.
//!
//! The current password is checked like a sign-in: counted against the same
//! failure limits per address and per IP (a stolen session must not become a
//! way to guess the password), written to `chat_user_login_log` when wrong,
//! and hashed on the bounded pool. A wrong one answers 403, not 401: the
//! session is fine, and a 401 would sign the browser out.

use axum::extract::State;
use axum::http::StatusCode;
use paychat_common::auth::AuthUser;
use paychat_common::http::ClientIp;
use paychat_common::{ApiError, Json};

use super::domain::Password;
use super::queries::{self, LoginLog, LoginType};
use super::types::ChangePasswordRequest;
use crate::state::AppState;

/// Sets a new password; every other session of the user ends.
#[utoipa::path(
    post,
    path = "/api/users/me/password",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed; the user's other sessions ended"),
        (status = 400, description = "`weak_password` or `invalid_request`"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`invalid_credentials`: the current password is wrong"),
        (status = 429, description = "`rate_limited` (the login failure limit), with `Retry-After`"),
        (status = 503, description = "`busy` (too many password checks at once), with `Retry-After`"),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    Json(body): Json<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let new_password = Password::parse(body.new_password)
        .map_err(|p| ApiError::field("weak_password", "new_password", p))?;
    let account = queries::find_account_of_user(&state.db, user.user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let config = &state.accounts.config;
    let ip_key = format!("login_fail:ip:{ip}");
    let email_key = format!("login_fail:email:{}", account.email);
    let attempt = state
        .limiter
        .attempt(&[
            (&ip_key, config.login_limit_ip()),
            (&email_key, config.login_limit_email()),
        ])
        .await?;
    let matches = match state
        .accounts
        .hasher
        .verify(&body.current_password, Some(account.password.clone()))
        .await
    {
        Ok(matches) => matches,
        Err(e) => {
            // Never checked, so not a failure.
            attempt.succeeded().await;
            return Err(e);
        }
    };
    if !matches {
        // A failure: the attempt stays counted.
        drop(attempt);
        queries::insert_login_log(
            &state.db,
            &LoginLog {
                id: state.ids.next(),
                login_type: LoginType::Email,
                user_id: Some(user.user_id),
                binding_email_id: Some(account.binding_email_id),
                ip: &ip.to_string(),
                success: false,
                message: "wrong current password",
            },
        )
        .await?;
        return Err(ApiError::Refused {
            code: "invalid_credentials",
            message: "the current password is wrong".into(),
        });
    }
    attempt.succeeded().await;
    let hashed = state.accounts.hasher.hash(new_password.expose()).await?;
    queries::set_password(&state.db, account.binding_email_id, &hashed).await?;
    state.sessions.revoke_others(&user).await?;
    tracing::info!(
        user_id = user.user_id,
        "password changed; other sessions ended"
    );
    Ok(StatusCode::NO_CONTENT)
}
