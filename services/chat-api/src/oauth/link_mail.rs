//! The second proof of an existing account (beside its password): a link
//! mailed to its address. `POST /api/auth/oauth/link-mail` takes a waiting
//! sign-in's ticket and mails a one-time code (stored as its SHA-256, expiring,
//! used once) to the account's address; the web page the link opens sends it
//! to `POST /api/auth/oauth/link-confirm`, which links the provider and signs
//! in. Nothing is linked before the code comes back.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use paychat_common::http::ClientIp;
use paychat_common::locale::Locale;
use paychat_common::{ApiError, Json};
use serde::{Deserialize, Serialize};
use sqlx::{Connection, FromRow, MySqlExecutor};
use utoipa::ToSchema;

use super::flow;
use super::handlers::{ExchangeResponse, insert_oauth_binding, session_for};
use super::providers::Identity;
use super::queries;
use crate::accounts::codes;
use crate::accounts::domain::Email;
use crate::accounts::queries as accounts_db;
use crate::accounts::{mail_limits, mailer};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LinkMailRequest {
    /// The ticket answered 409 `link_required`.
    pub ticket: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkMailSent {
    /// The address the link went to.
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LinkConfirmRequest {
    /// The code from the mailed link.
    pub code: String,
}

fn invalid_ticket() -> ApiError {
    ApiError::bad_request(
        "invalid_ticket",
        "the sign-in ticket is unknown, used or expired",
    )
}

fn invalid_code() -> ApiError {
    ApiError::field(
        "invalid_code",
        "code",
        "this link is not valid (or was used already)",
    )
}

/// Mails a link that proves the existing account with the provider's address.
#[utoipa::path(
    post,
    path = "/api/auth/oauth/link-mail",
    tag = "accounts",
    request_body = LinkMailRequest,
    responses(
        (status = 202, description = "Mailed; the same ticket still takes the password instead", body = LinkMailSent),
        (status = 400, description = "`invalid_ticket` (also when no account needs proving)"),
        (status = 429, description = "`rate_limited`, with `Retry-After`"),
    )
)]
pub async fn send_link(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<LinkMailRequest>,
) -> Result<(StatusCode, Json<LinkMailSent>), ApiError> {
    let ticket = flow::take_ticket(&state, &body.ticket)
        .await?
        .ok_or_else(invalid_ticket)?;
    // The ticket stays good for the password proof (or another mail).
    flow::save_ticket(
        &state,
        &ticket,
        state.oauth.config.link_ttl(),
        Some(&body.ticket),
    )
    .await?;
    let identity = &ticket.identity;
    if queries::find_bound_user(&state.db, &identity.provider, &identity.subject)
        .await?
        .is_some()
    {
        return Err(invalid_ticket());
    }
    let email = identity
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(invalid_ticket)?;
    let account = accounts_db::find_account(&state.db, email.as_str())
        .await?
        .ok_or_else(invalid_ticket)?;
    mail_limits(&state, &email, ip).await?;
    let code = codes::generate();
    let ttl = state.oauth.config.link_mail_ttl();
    insert_proof(
        &state.db,
        &NewProof {
            id: state.ids.next(),
            code_hash: &code.hash,
            user_id: account.user_id,
            identity,
            return_to: &ticket.return_to,
            request_ip: &ip.to_string(),
            expire_at: Utc::now() + ttl,
        },
    )
    .await?;
    let provider_name = state
        .oauth
        .providers
        .get(&identity.provider)
        .map_or_else(|_| identity.provider.clone(), |p| p.name.clone());
    let mail = mailer::provider_link(
        &state.accounts.config,
        &email,
        &code.code,
        &ip.to_string(),
        Locale::from_db(&account.locale),
        &provider_name,
        state.oauth.config.oauth_link_mail_ttl_secs,
    );
    state
        .accounts
        .mailer
        .send_in_background(state.db.clone(), state.ids.clone(), mail);
    tracing::info!(user_id = account.user_id, provider = %identity.provider, "provider link mailed");
    Ok((
        StatusCode::ACCEPTED,
        Json(LinkMailSent {
            email: email.as_str().to_owned(),
        }),
    ))
}

/// Links the provider to the account the mailed link proved, and signs in.
#[utoipa::path(
    post,
    path = "/api/auth/oauth/link-confirm",
    tag = "accounts",
    request_body = LinkConfirmRequest,
    responses(
        (status = 200, description = "Linked and signed in", body = ExchangeResponse),
        (status = 400, description = "`invalid_code` (unknown or used) or `expired_code`"),
        (status = 409, description = "`already_linked`: the provider's account went to another user meanwhile"),
    )
)]
pub async fn confirm_link(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(body): Json<LinkConfirmRequest>,
) -> Result<Json<ExchangeResponse>, ApiError> {
    let code = body.code.trim();
    if !codes::well_formed(code) {
        return Err(invalid_code());
    }
    let code_hash = codes::hash(code);
    let mut conn = state.db.acquire().await?;
    let mut tx = conn.begin().await?;
    let proof = lock_proof(&mut *tx, &code_hash)
        .await?
        .ok_or_else(invalid_code)?;
    if proof.used_at.is_some() {
        return Err(invalid_code());
    }
    if proof.expire_at <= Utc::now() {
        return Err(ApiError::field(
            "expired_code",
            "code",
            "this link has expired: sign in with the provider again",
        ));
    }
    use_proof(&mut *tx, proof.id).await?;
    let identity = Identity {
        provider: proof.provider.clone(),
        subject: proof.subject.clone(),
        email: proof.email.clone(),
        name: None,
    };
    match queries::find_bound_user(&mut *tx, &identity.provider, &identity.subject).await? {
        Some(owner) if owner == proof.user_id => {}
        Some(_) => {
            tx.commit().await?;
            return Err(ApiError::Conflict {
                code: "already_linked",
                message: "this provider account is linked to another user".into(),
                extra: serde_json::Map::new(),
            });
        }
        None => {
            insert_oauth_binding(&mut tx, &state, &identity, proof.user_id).await?;
            if let Some(email) = &proof.email {
                accounts_db::set_verified(&mut *tx, email).await?;
            }
        }
    }
    tx.commit().await?;
    tracing::info!(user_id = proof.user_id, provider = %identity.provider, "provider linked after a mailed proof");
    let origin = crate::accounts::sessions::origin(ip, &headers);
    let (token, expires_at, user) =
        session_for(&state, proof.user_id, &identity.provider, ip, origin).await?;
    metrics::counter!("oauth_signins_total", "status" => "success").increment(1);
    Ok(Json(ExchangeResponse {
        token,
        expires_at,
        user,
        return_to: proof.return_to,
    }))
}

struct NewProof<'a> {
    id: i64,
    code_hash: &'a str,
    user_id: i64,
    identity: &'a Identity,
    return_to: &'a str,
    request_ip: &'a str,
    expire_at: DateTime<Utc>,
}

async fn insert_proof<'c>(
    db: impl MySqlExecutor<'c>,
    proof: &NewProof<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO chat_user_link_proof \
         (id, code_hash, user_id, provider, subject, email, return_to, request_ip, expire_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(proof.id)
    .bind(proof.code_hash)
    .bind(proof.user_id)
    .bind(&proof.identity.provider)
    .bind(&proof.identity.subject)
    .bind(proof.identity.email.as_deref())
    .bind(proof.return_to)
    .bind(proof.request_ip)
    .bind(proof.expire_at)
    .execute(db)
    .await
    .map(|_| ())
}

#[derive(Debug, FromRow)]
struct ProofRow {
    id: i64,
    user_id: i64,
    provider: String,
    subject: String,
    email: Option<String>,
    return_to: String,
    expire_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
}

async fn lock_proof<'c>(
    db: impl MySqlExecutor<'c>,
    code_hash: &str,
) -> Result<Option<ProofRow>, sqlx::Error> {
    sqlx::query_as::<_, ProofRow>(
        "SELECT id, user_id, provider, subject, email, return_to, expire_at, used_at \
         FROM chat_user_link_proof WHERE code_hash = ? FOR UPDATE",
    )
    .bind(code_hash)
    .fetch_optional(db)
    .await
}

async fn use_proof<'c>(db: impl MySqlExecutor<'c>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_user_link_proof SET used_at = UTC_TIMESTAMP(3) WHERE id = ?")
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}
