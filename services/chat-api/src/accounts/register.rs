//! `POST /api/auth/register`, `GET /api/auth/verify-email`,
//! `POST /api/auth/resend-verification`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use paychat_common::auth::Role;
use paychat_common::http::ClientIp;
use paychat_common::locale::Locale;
use paychat_common::{ApiError, Json};
use serde::Deserialize;
use sqlx::Connection;
use utoipa::IntoParams;

use super::codes::{self, BizType, NewCode};
use super::domain::{Email, Nickname, Password};
use super::queries::BoundIdentity;
use super::types::{EmailRequest, RegisterRequest, RegisterResponse, parse_locale, role_from_db};
use super::{
    MailCodeResponses, mail_code_if, mail_limits, mailer, queries, read_committed, retrying, send,
};
use crate::state::AppState;

/// Creates the account (or, for an address registered but never verified,
/// takes the new password, ends the links sent before and sends a fresh one)
/// and emails the verification link.
#[utoipa::path(
    post,
    path = "/api/auth/register",
    tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created (or unverified account re-sent its email)", body = RegisterResponse),
        (status = 400, description = "`invalid_email`, `weak_password` or `invalid_request` (with `fields`)"),
        (status = 409, description = "`email_taken`: a verified account has this address"),
        (status = 429, description = "`rate_limited`, with `Retry-After`"),
        (status = 503, description = "`busy` (too many password hashes at once), with `Retry-After`"),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(body): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<RegisterResponse>), ApiError> {
    let config = &state.accounts.config;
    state
        .limiter
        .hit(&[(&format!("register:ip:{ip}"), config.register_limit_ip())])
        .await?;
    let email =
        Email::parse(&body.email).map_err(|p| ApiError::field("invalid_email", "email", p))?;
    let password = Password::parse(body.password)
        .map_err(|p| ApiError::field("weak_password", "password", p))?;
    let nickname = match body.nickname.as_deref() {
        Some(n) if !n.trim().is_empty() => Some(
            Nickname::parse(n).map_err(|p| ApiError::field("invalid_request", "nickname", p))?,
        ),
        _ => None,
    };
    let locale = match body.locale.as_deref().map(str::trim) {
        Some(l) if !l.is_empty() => parse_locale(l)?,
        _ => headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Locale::from_accept_language)
            .unwrap_or_default(),
    };
    mail_limits(&state, &email, ip).await?;
    let hash = state.accounts.hasher.hash(password.expose()).await?;

    let (user_id, code) =
        retrying(|| register_tx(&state, &email, &hash, nickname.as_ref(), locale)).await?;
    tracing::info!(user_id, "registration email queued");
    send(
        &state,
        mailer::verification(config, &email, &code.code, &ip.to_string(), locale),
    );
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            user_id: user_id.to_string(),
        }),
    ))
}

/// One transaction: the user, their email identity, the binding and the code.
async fn register_tx(
    state: &AppState,
    email: &Email,
    password_hash: &str,
    nickname: Option<&Nickname>,
    locale: Locale,
) -> Result<Result<(i64, NewCode), ApiError>, sqlx::Error> {
    let ids = &state.ids;
    let mut conn = read_committed(&state.db).await?;
    let mut tx = conn.begin().await?;
    let user_id = match queries::lock_account(&mut *tx, email.as_str()).await? {
        Some(account) if account.verified => {
            return Ok(Err(ApiError::conflict(
                "email_taken",
                "an account with this email already exists",
            )));
        }
        Some(account) => {
            // Never verified: whoever registers again (and so will get the
            // link) sets the password the link will activate, and the links
            // sent before, which would activate it too, end.
            queries::set_password(&mut *tx, account.binding_email_id, password_hash).await?;
            queries::expire_codes(&mut *tx, email.as_str(), BizType::Registration).await?;
            if let Some(nickname) = nickname {
                queries::set_nickname(&mut *tx, account.user_id, nickname.as_str()).await?;
            }
            // The link goes out in the language of this registration.
            queries::set_locale(&mut *tx, account.user_id, locale).await?;
            let role = state.accounts.role_for(email, role_from_db(&account.role));
            if role == Role::Admin && account.role != "admin" {
                queries::set_role(&mut *tx, account.user_id, role.as_str()).await?;
            }
            account.user_id
        }
        None => {
            let user_id = ids.next();
            let binding_email_id = ids.next();
            let nickname = nickname
                .cloned()
                .unwrap_or_else(|| Nickname::from_email(email));
            let role = state.accounts.role_for(email, Role::User);
            queries::insert_user(&mut *tx, user_id, nickname.as_str(), role.as_str(), locale)
                .await?;
            queries::insert_binding_email(
                &mut *tx,
                binding_email_id,
                email.as_str(),
                password_hash,
            )
            .await?;
            queries::insert_binding(
                &mut *tx,
                ids.next(),
                BoundIdentity::Email(binding_email_id),
                user_id,
            )
            .await?;
            user_id
        }
    };
    let code = insert_new_code(&mut tx, state, email, BizType::Registration).await?;
    tx.commit().await?;
    Ok(Ok((user_id, code)))
}

/// Stores the hash of a fresh code of kind `biz` and returns the code.
pub(super) async fn insert_new_code(
    tx: &mut sqlx::Transaction<'_, sqlx::MySql>,
    state: &AppState,
    email: &Email,
    biz: BizType,
) -> Result<NewCode, sqlx::Error> {
    let config = &state.accounts.config;
    let ttl = match biz {
        BizType::Registration => config.verify_code_ttl_secs,
        BizType::PasswordReset => config.reset_code_ttl_secs,
        BizType::ProviderLink => state.oauth.config.oauth_link_mail_ttl_secs,
    };
    let ttl = chrono::Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX / 1000));
    let code = codes::generate();
    queries::insert_code(
        &mut **tx,
        state.ids.next(),
        email.as_str(),
        &code.hash,
        Utc::now() + ttl,
        biz,
    )
    .await?;
    Ok(code)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct VerifyQuery {
    /// The code from the verification email's link.
    code: Option<String>,
}

/// Why a link did not verify, as the web app's failure page expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Invalid,
    Expired,
    Used,
}

impl Failure {
    fn reason(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Expired => "expired",
            Self::Used => "used",
        }
    }
}

/// The link in the verification email: marks the address verified and sends
/// the browser to the web app's success or failure page.
#[utoipa::path(
    get,
    path = "/api/auth/verify-email",
    tag = "accounts",
    params(VerifyQuery),
    responses(
        (status = 302, description = "To `/verify/success`, or `/verify/failure?reason=invalid|expired|used`"),
    )
)]
pub async fn verify_email(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    query: Result<Query<VerifyQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let code = query.ok().and_then(|Query(q)| q.code).unwrap_or_default();
    let code = code.trim();
    let outcome = if codes::well_formed(code) {
        consume_verification(&state, code, &ip.to_string()).await?
    } else {
        Err(Failure::Invalid)
    };
    let base = state.accounts.config.web_base();
    let location = match outcome {
        Ok(()) => format!("{base}/verify/success"),
        Err(failure) => {
            tracing::info!(reason = failure.reason(), "email verification refused");
            format!("{base}/verify/failure?reason={}", failure.reason())
        }
    };
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}

async fn consume_verification(
    state: &AppState,
    code: &str,
    ip: &str,
) -> Result<Result<(), Failure>, ApiError> {
    let code_hash = codes::hash(code);
    retrying(|| verify_tx(state, &code_hash, ip)).await
}

async fn verify_tx(
    state: &AppState,
    code_hash: &str,
    ip: &str,
) -> Result<Result<Result<(), Failure>, ApiError>, sqlx::Error> {
    let mut conn = read_committed(&state.db).await?;
    let mut tx = conn.begin().await?;
    let Some(found) = queries::find_code(&mut *tx, code_hash, BizType::Registration).await? else {
        return Ok(Ok(Err(Failure::Invalid)));
    };
    // The account before the code, as registration locks them.
    queries::lock_account(&mut *tx, &found.to_email_address).await?;
    let Some(row) = queries::lock_code(&mut *tx, code_hash, BizType::Registration).await? else {
        return Ok(Ok(Err(Failure::Invalid)));
    };
    if row.is_used {
        return Ok(Ok(Err(Failure::Used)));
    }
    if row.expire_at <= Utc::now() {
        return Ok(Ok(Err(Failure::Expired)));
    }
    // Conditional: of two clicks racing, one wins and the other sees `used`.
    if !queries::use_code(&mut *tx, row.id, ip).await? {
        return Ok(Ok(Err(Failure::Used)));
    }
    queries::set_verified(&mut *tx, &row.to_email_address).await?;
    tx.commit().await?;
    tracing::info!(code_id = row.id, "email verified");
    Ok(Ok(Ok(())))
}

/// Sends a fresh verification link to an unverified account. Answers 202
/// whether or not there is one, so the address cannot be probed.
#[utoipa::path(
    post,
    path = "/api/auth/resend-verification",
    tag = "accounts",
    request_body = EmailRequest,
    responses(MailCodeResponses)
)]
pub async fn resend_verification(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<EmailRequest>,
) -> Result<StatusCode, ApiError> {
    mail_code_if(
        &state,
        ip,
        &body.email,
        BizType::Registration,
        |account| !account.verified,
        mailer::verification,
    )
    .await
}
