//! `GET/POST /api/admin/llm-keys`, `PATCH/DELETE /api/admin/llm-keys/{id}`
//! and `POST /api/admin/llm-keys/{id}/test`. Each change commits with its
//! audit row, then bumps the catalog's version so every copy reloads.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use paychat_common::auth::AdminUser as Admin;
use paychat_common::http::ClientIp;
use paychat_common::{ApiError, Json};
use secrecy::SecretString;
use serde_json::json;

use super::queries::{self, KeyRow, NewKey};
use super::sealing::mask;
use super::types::{LlmKey, LlmKeyChange, LlmKeyList, LlmKeyTest, NewLlmKey, audit_view};
use crate::chat::upstream::fingerprint;
use crate::state::AppState;
use paychat_common::audit::{self, Action};

const LABEL_MAX: usize = 64;
const KEY_MAX: usize = 500;

fn parse_secret(key: &str) -> Result<String, ApiError> {
    let key = key.trim();
    let len = key.chars().count();
    if !(8..=KEY_MAX).contains(&len) || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::field(
            "invalid_request",
            "key",
            "must be 8 to 500 characters without spaces",
        ));
    }
    Ok(key.to_owned())
}

fn parse_label(label: &str) -> Result<String, ApiError> {
    let label = label.trim();
    let len = label.chars().count();
    if len == 0 || len > LABEL_MAX {
        return Err(ApiError::field(
            "invalid_request",
            "label",
            "must be 1 to 64 characters",
        ));
    }
    Ok(label.to_owned())
}

fn parse_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .map_err(|_| ApiError::not_found("llm_key_not_found"))
}

fn key_exists() -> ApiError {
    ApiError::conflict("llm_key_exists", "this key is already listed")
}

/// The keys' views with their rests, read in one Redis round trip.
async fn views(state: &AppState, rows: Vec<KeyRow>) -> Vec<LlmKey> {
    let fps: Vec<String> = rows.iter().map(|r| r.fingerprint.clone()).collect();
    let rests = state.upstream.rests(&fps).await;
    rows.into_iter()
        .zip(rests)
        .map(|(row, rest)| LlmKey::new(row, rest))
        .collect()
}

async fn view(state: &AppState, id: i64) -> Result<LlmKey, ApiError> {
    let mut conn = state.db.acquire().await?;
    let row = queries::find_key(&mut conn, id)
        .await?
        .ok_or(ApiError::not_found("llm_key_not_found"))?;
    drop(conn);
    Ok(views(state, vec![row]).await.remove(0))
}

/// The upstream keys, oldest first, masked.
#[utoipa::path(get, path = "/api/admin/llm-keys", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, body = LlmKeyList),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<LlmKeyList>, ApiError> {
    let mut conn = state.db.acquire().await?;
    let rows = queries::key_rows(&mut conn).await?;
    drop(conn);
    Ok(Json(LlmKeyList {
        items: views(&state, rows).await,
    }))
}

/// Adds a key: sealed in the database, used by every copy within seconds.
#[utoipa::path(post, path = "/api/admin/llm-keys", tag = "admin",
    security(("bearer" = [])),
    request_body = NewLlmKey,
    responses(
        (status = 201, body = LlmKey),
        (status = 400, description = "`invalid_request` (key or label)"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 409, description = "`llm_key_exists`"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ClientIp(ip): ClientIp,
    Json(body): Json<NewLlmKey>,
) -> Result<(StatusCode, Json<LlmKey>), ApiError> {
    let secret = parse_secret(&body.key)?;
    let masked = mask(&secret);
    let label = match body.label.as_deref() {
        Some(label) => parse_label(label)?,
        None => masked.clone(),
    };
    let id = state.ids.next();
    let sealed = state.upstream.catalog().sealer().seal(id, &secret)?;
    let mut tx = state.db.begin().await?;
    let inserted = queries::insert_key(
        &mut tx,
        &NewKey {
            id,
            label: &label,
            sealed: &sealed,
            fingerprint: &fingerprint(&secret),
            masked: &masked,
            enabled: body.enabled.unwrap_or(true),
        },
    )
    .await?;
    if !inserted {
        return Err(key_exists());
    }
    let row = queries::find_key(&mut tx, id)
        .await?
        .ok_or(ApiError::not_found("llm_key_not_found"))?;
    audit::record(
        &mut tx,
        &state.ids,
        &Action {
            actor_id: admin.user_id,
            action: "llm_key.create",
            target: format!("llm_key:{id}"),
            ip,
        },
        &serde_json::Value::Null,
        &audit_view(&row),
    )
    .await?;
    tx.commit().await?;
    state.upstream.catalog().changed().await?;
    tracing::info!(admin_id = admin.user_id, key_id = id, key = %row.fingerprint, "upstream key added");
    Ok((StatusCode::CREATED, Json(view(&state, id).await?)))
}

/// Renames, switches on or off, or replaces the secret of a key.
#[utoipa::path(patch, path = "/api/admin/llm-keys/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = LlmKeyChange,
    responses(
        (status = 200, body = LlmKey),
        (status = 400, description = "`invalid_request` (key or label)"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`llm_key_not_found`"),
        (status = 409, description = "`llm_key_exists` (the new secret is another entry's)"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Json(body): Json<LlmKeyChange>,
) -> Result<Json<LlmKey>, ApiError> {
    let id = parse_id(&id)?;
    let secret = body.key.as_deref().map(parse_secret).transpose()?;
    let label = body.label.as_deref().map(parse_label).transpose()?;
    let mut tx = state.db.begin().await?;
    let before = queries::lock_key(&mut tx, id)
        .await?
        .ok_or(ApiError::not_found("llm_key_not_found"))?;
    queries::set_label_enabled(
        &mut tx,
        id,
        label.as_deref().unwrap_or(&before.label),
        body.enabled.unwrap_or(before.enabled),
    )
    .await?;
    if let Some(secret) = &secret {
        let sealed = state.upstream.catalog().sealer().seal(id, secret)?;
        if !queries::replace_secret(&mut tx, id, &sealed, &fingerprint(secret), &mask(secret))
            .await?
        {
            return Err(key_exists());
        }
    }
    let after = queries::find_key(&mut tx, id)
        .await?
        .ok_or(ApiError::not_found("llm_key_not_found"))?;
    audit::record(
        &mut tx,
        &state.ids,
        &Action {
            actor_id: admin.user_id,
            action: "llm_key.update",
            target: format!("llm_key:{id}"),
            ip,
        },
        &audit_view(&before),
        &audit_view(&after),
    )
    .await?;
    tx.commit().await?;
    state.upstream.catalog().changed().await?;
    tracing::info!(
        admin_id = admin.user_id,
        key_id = id,
        "upstream key changed"
    );
    Ok(Json(view(&state, id).await?))
}

/// Removes a key; no copy uses it after its next reload.
#[utoipa::path(delete, path = "/api/admin/llm-keys/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 204),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`llm_key_not_found`"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let mut tx = state.db.begin().await?;
    let before = queries::lock_key(&mut tx, id)
        .await?
        .ok_or(ApiError::not_found("llm_key_not_found"))?;
    queries::soft_delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &state.ids,
        &Action {
            actor_id: admin.user_id,
            action: "llm_key.delete",
            target: format!("llm_key:{id}"),
            ip,
        },
        &audit_view(&before),
        &serde_json::Value::Null,
    )
    .await?;
    tx.commit().await?;
    state.upstream.catalog().changed().await?;
    tracing::info!(
        admin_id = admin.user_id,
        key_id = id,
        "upstream key deleted"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// A real, one-token completion with the key against the upstream.
#[utoipa::path(post, path = "/api/admin/llm-keys/{id}/test", tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = LlmKeyTest, description = "the upstream's verdict, `ok` or not"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`llm_key_not_found`"),
        (status = 409, description = "`llm_key_unreadable`: sealed under another encryption key"),
    ))]
pub async fn test(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Json<LlmKeyTest>, ApiError> {
    let id = parse_id(&id)?;
    let mut conn = state.db.acquire().await?;
    let sealed = queries::sealed_secret(&mut conn, id)
        .await?
        .ok_or(ApiError::not_found("llm_key_not_found"))?;
    drop(conn);
    let secret: SecretString = state
        .upstream
        .catalog()
        .sealer()
        .open(id, &sealed)
        .map_err(|_| {
            ApiError::conflict(
                "llm_key_unreadable",
                "this key was sealed under another encryption key; enter it again",
            )
        })?;
    let settings = &state.config.relay;
    let model = settings.llm_default_model.clone();
    let wait = settings
        .first_byte_timeout()
        .min(std::time::Duration::from_secs(10));
    let probe = state.upstream.probe(&secret, &model, wait).await;
    let latency_ms = u64::try_from(probe.latency.as_millis()).unwrap_or(u64::MAX);
    let mut tx = state.db.begin().await?;
    audit::record(
        &mut tx,
        &state.ids,
        &Action {
            actor_id: admin.user_id,
            action: "llm_key.test",
            target: format!("llm_key:{id}"),
            ip,
        },
        &serde_json::Value::Null,
        &json!({ "ok": probe.ok, "status": probe.status, "model": model, "error": probe.error }),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(LlmKeyTest {
        ok: probe.ok,
        status: probe.status,
        latency_ms,
        model,
        error: probe.error,
        llm_key: view(&state, id).await?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_labels_are_checked() {
        assert_eq!(
            parse_secret("  sk-abcdefgh ").ok().as_deref(),
            Some("sk-abcdefgh")
        );
        assert!(parse_secret("sk-abc").is_err());
        assert!(parse_secret("sk-abc defgh").is_err());
        assert!(parse_label(" ").is_err());
        assert!(parse_label(&"x".repeat(65)).is_err());
    }
}
