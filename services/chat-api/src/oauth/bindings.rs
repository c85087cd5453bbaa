//! The signed-in user's provider bindings: list, link (finished in the
//! callback), unlink — never the last way in.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use paychat_common::auth::AuthUser;
use paychat_common::{ApiError, Json};
use serde::Serialize;
use sqlx::Connection;
use utoipa::ToSchema;

use super::providers::{Identity, Kind};
use super::queries;
use crate::accounts::queries as accounts_db;
use crate::accounts::types::rfc3339;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Binding {
    pub provider: String,
    /// The provider's display name (its id when no longer configured).
    pub name: String,
    /// Null when the provider is no longer configured.
    pub kind: Option<Kind>,
    /// The address the provider gave, if any.
    pub email: Option<String>,
    /// RFC 3339, UTC.
    pub linked_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BindingList {
    pub items: Vec<Binding>,
    /// Whether the account also signs in with its email and password.
    pub password: bool,
}

/// The signed-in user's linked providers.
#[utoipa::path(
    get,
    path = "/api/users/me/bindings",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The bindings", body = BindingList),
        (status = 401, description = "`unauthorized`"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<BindingList>, ApiError> {
    let rows = queries::list_bindings(&state.db, user.user_id).await?;
    let password = accounts_db::has_password(&state.db, user.user_id).await?;
    let providers = &state.oauth.providers;
    Ok(Json(BindingList {
        items: rows
            .into_iter()
            .map(|row| {
                let configured = providers.get(&row.provider).ok();
                Binding {
                    name: configured.map_or_else(|| row.provider.clone(), |p| p.name.clone()),
                    kind: configured.map(|p| p.kind()),
                    provider: row.provider,
                    email: row.email,
                    linked_at: rfc3339(row.create_time),
                }
            })
            .collect(),
        password,
    }))
}

/// Unlinks a provider, unless it is the last way to sign in.
#[utoipa::path(
    delete,
    path = "/api/users/me/bindings/{provider}",
    tag = "accounts",
    security(("bearer" = [])),
    params(("provider" = String, Path, description = "A provider id")),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 401, description = "`unauthorized`"),
        (status = 404, description = "`not_linked`"),
        (status = 409, description = "`last_sign_in_method`: set a password or link another provider first"),
    )
)]
pub async fn unlink(
    State(state): State<AppState>,
    user: AuthUser,
    Path(provider): Path<String>,
) -> Result<StatusCode, ApiError> {
    let mut conn = state.db.acquire().await?;
    let mut tx = conn.begin().await?;
    let bindings = queries::lock_bindings(&mut *tx, user.user_id).await?;
    let target = bindings
        .iter()
        .find(|b| b.provider == provider)
        .ok_or(ApiError::NotFound { code: "not_linked" })?;
    let password = accounts_db::has_password(&mut *tx, user.user_id).await?;
    if !password && bindings.len() <= 1 {
        return Err(ApiError::Conflict {
            code: "last_sign_in_method",
            message:
                "this is your only way to sign in: set a password or link another provider first"
                    .into(),
            extra: serde_json::Map::new(),
        });
    }
    queries::delete_binding(&mut *tx, target.oauth_id).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.user_id, provider = %provider, "provider unlinked");
    Ok(StatusCode::NO_CONTENT)
}

/// Binds `identity` to the signed-in `user_id` (the link flow's callback);
/// the error is the code the web app is sent.
pub async fn link(state: &AppState, user_id: i64, identity: &Identity) -> Result<(), &'static str> {
    let internal = |e: sqlx::Error| {
        if paychat_common::error::is_unique_violation(&e) {
            return "already_linked";
        }
        tracing::error!(error = %e, "linking a provider");
        "internal"
    };
    let mut conn = state.db.acquire().await.map_err(internal)?;
    let mut tx = conn.begin().await.map_err(internal)?;
    let existing = queries::lock_bindings(&mut *tx, user_id)
        .await
        .map_err(internal)?;
    match queries::find_bound_user(&mut *tx, &identity.provider, &identity.subject)
        .await
        .map_err(internal)?
    {
        Some(owner) if owner == user_id => return Ok(()),
        Some(_) => return Err("already_linked"),
        None => {}
    }
    if existing.iter().any(|b| b.provider == identity.provider) {
        return Err("provider_already_linked");
    }
    super::handlers::insert_oauth_binding(&mut tx, state, identity, user_id)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(user_id, provider = %identity.provider, "provider linked");
    Ok(())
}
