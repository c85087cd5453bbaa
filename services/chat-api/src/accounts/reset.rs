//! `POST /api/auth/password-reset` and `POST /api/auth/password-reset/confirm`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use paychat_common::http::ClientIp;
use paychat_common::{ApiError, Json};

use super::codes::{self, BizType};
use super::domain::Password;
use super::queries::{self, CodeRow};
use super::types::{EmailRequest, ResetConfirmRequest};
use super::{MailCodeResponses, mail_code_if, mailer, password};
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
    usable(queries::lock_code(&state.db, &code_hash, BizType::PasswordReset).await?)?;
    let password_hash = password::hash(password.expose()).await?;

    let mut tx = state.db.begin().await?;
    let row = usable(queries::lock_code(&mut *tx, &code_hash, BizType::PasswordReset).await?)?;
    if !queries::use_code(&mut *tx, row.id, &ip.to_string()).await? {
        return Err(invalid_code());
    }
    let account = queries::lock_account(&mut *tx, &row.to_email_address)
        .await?
        .ok_or_else(invalid_code)?;
    queries::set_password(&mut *tx, account.binding_email_id, &password_hash).await?;
    // Following the emailed link proves the address too.
    queries::set_verified(&mut *tx, &row.to_email_address).await?;
    queries::retire_codes(&mut *tx, &row.to_email_address, BizType::PasswordReset).await?;
    tx.commit().await?;
    state.sessions.revoke_all(account.user_id).await?;
    tracing::info!(user_id = account.user_id, "password reset; sessions ended");
    Ok(StatusCode::NO_CONTENT)
}
