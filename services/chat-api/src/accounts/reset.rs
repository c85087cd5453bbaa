//! `POST /api/auth/password-reset` and `POST /api/auth/password-reset/confirm`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use paychat_common::http::ClientIp;
use paychat_common::{ApiError, Json};
use sqlx::Connection;

use super::codes::{self, BizType};
use super::domain::Password;
use super::queries::{self, CodeRow};
use super::types::{EmailRequest, ResetConfirmRequest};
use super::{MailCodeResponses, mail_code_if, mailer, read_committed, retrying};
use crate::state::AppState;

/// Emails a reset link if the address has an account. Always 202, so the
/// address cannot be probed.
#[utoipa::path(
    post,
    path = "/api/auth/password-reset",
    tag = "accounts",
    request_body = EmailRequest,
    responses(MailCodeResponses)
)]
pub async fn request_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<EmailRequest>,
) -> Result<StatusCode, ApiError> {
    mail_code_if(
        &state,
        ip,
        &body.email,
        BizType::PasswordReset,
        |_| true,
        mailer::password_reset,
    )
    .await
}

fn invalid_code() -> ApiError {
    ApiError::field(
        "invalid_code",
        "code",
        "this reset link is not valid (or was used already)",
    )
}

fn usable(row: Option<CodeRow>) -> Result<CodeRow, ApiError> {
    let row = row.ok_or_else(invalid_code)?;
    if row.is_used {
        return Err(invalid_code());
    }
    if row.expire_at <= Utc::now() {
        return Err(ApiError::field(
            "expired_code",
            "code",
            "this reset link has expired: ask for a new one",
        ));
    }
    Ok(row)
}

/// Sets a new password with the emailed code; every session of the user ends.
#[utoipa::path(
    post,
    path = "/api/auth/password-reset/confirm",
    tag = "accounts",
    request_body = ResetConfirmRequest,
    responses(
        (status = 204, description = "Password changed; all sessions ended"),
        (status = 400, description = "`invalid_code`, `expired_code` or `weak_password`"),
        (status = 503, description = "`busy` (too many password hashes at once), with `Retry-After`"),
    )
)]
pub async fn confirm_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<ResetConfirmRequest>,
) -> Result<StatusCode, ApiError> {
    let code = body.code.trim();
    if !codes::well_formed(code) {
        return Err(invalid_code());
    }
    let password = Password::parse(body.new_password)
        .map_err(|p| ApiError::field("weak_password", "new_password", p))?;
    let code_hash = codes::hash(code);
    // Check before the (slow) hashing, so junk codes cost nothing; checked
    // again under the lock below.
    usable(queries::find_code(&state.db, &code_hash, BizType::PasswordReset).await?)?;
    let password_hash = state.accounts.hasher.hash(password.expose()).await?;
    let ip = ip.to_string();
    let user_id = retrying(|| reset_tx(&state, &code_hash, &password_hash, &ip)).await?;
    state.sessions.revoke_all(user_id).await?;
    tracing::info!(user_id, "password reset; sessions ended");
    Ok(StatusCode::NO_CONTENT)
}

/// Uses the code and sets the password; answers the user's id.
async fn reset_tx(
    state: &AppState,
    code_hash: &str,
    password_hash: &str,
    ip: &str,
) -> Result<Result<i64, ApiError>, sqlx::Error> {
    let mut conn = read_committed(&state.db).await?;
    let mut tx = conn.begin().await?;
    let Some(found) = queries::find_code(&mut *tx, code_hash, BizType::PasswordReset).await? else {
        return Ok(Err(invalid_code()));
    };
    // The account before the code, as registration and reset requests lock them.
    let Some(account) = queries::lock_account(&mut *tx, &found.to_email_address).await? else {
        return Ok(Err(invalid_code()));
    };
    let row = match usable(queries::lock_code(&mut *tx, code_hash, BizType::PasswordReset).await?) {
        Ok(row) => row,
        Err(refused) => return Ok(Err(refused)),
    };
    if !queries::use_code(&mut *tx, row.id, ip).await? {
        return Ok(Err(invalid_code()));
    }
    queries::set_password(&mut *tx, account.binding_email_id, password_hash).await?;
    // Following the emailed link proves the address too.
    queries::set_verified(&mut *tx, &row.to_email_address).await?;
    queries::retire_codes(&mut *tx, &row.to_email_address, BizType::PasswordReset).await?;
    tx.commit().await?;
    Ok(Ok(account.user_id))
}
