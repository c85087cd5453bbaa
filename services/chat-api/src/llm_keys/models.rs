//! `GET /api/admin/llm-models` and `PATCH /api/admin/llm-models/{name}`: the
//! configured models (`llm_models`), each switched on or off. A model switched
//! off is gone from `GET /api/chat/models` and refused by completions on every
//! copy within seconds. The default model cannot be switched off: a request
//! naming no model uses it.

use axum::extract::{Path, State};
use paychat_common::auth::AdminUser as Admin;
use paychat_common::http::ClientIp;
use paychat_common::{ApiError, Json};
use serde_json::json;

use super::queries;
use super::types::{LlmModel, LlmModelChange, LlmModelList};
use crate::state::AppState;
use paychat_common::audit::{self, Action};

async fn rows(state: &AppState) -> Result<Vec<LlmModel>, ApiError> {
    let mut conn = state.db.acquire().await?;
    let rows = queries::model_rows(&mut conn).await?;
    let default = &state.config.relay.llm_default_model;
    // The configuration's order; rows of models no longer configured are left out.
    Ok(state
        .upstream
        .catalog()
        .configured_models()
        .iter()
        .filter_map(|name| rows.iter().find(|r| &r.name == name).cloned())
        .map(|row| LlmModel::new(row, default))
        .collect())
}

/// The configured models and whether each is offered.
#[utoipa::path(get, path = "/api/admin/llm-models", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, body = LlmModelList),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<LlmModelList>, ApiError> {
    Ok(Json(LlmModelList {
        items: rows(&state).await?,
    }))
}

/// Switches a model on or off.
#[utoipa::path(patch, path = "/api/admin/llm-models/{name}", tag = "admin",
    security(("bearer" = [])),
    params(("name" = String, Path)),
    request_body = LlmModelChange,
    responses(
        (status = 200, body = LlmModel),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`llm_model_not_found`"),
        (status = 409, description = "`default_model`: the default model stays on"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ClientIp(ip): ClientIp,
    Path(name): Path<String>,
    Json(body): Json<LlmModelChange>,
) -> Result<Json<LlmModel>, ApiError> {
    let catalog = state.upstream.catalog();
    if !catalog.configured_models().contains(&name) {
        return Err(ApiError::not_found("llm_model_not_found"));
    }
    if !body.enabled && name == state.config.relay.llm_default_model {
        return Err(ApiError::conflict(
            "default_model",
            "the default model cannot be switched off",
        ));
    }
    let mut tx = state.db.begin().await?;
    let before = queries::lock_model(&mut tx, &name)
        .await?
        .ok_or(ApiError::not_found("llm_model_not_found"))?;
    queries::set_model_enabled(&mut tx, &name, body.enabled).await?;
    audit::record(
        &mut tx,
        &state.ids,
        &Action {
            actor_id: admin.user_id,
            action: if body.enabled {
                "llm_model.enable"
            } else {
                "llm_model.disable"
            },
            target: format!("llm_model:{name}"),
            ip,
        },
        &json!({ "enabled": before.enabled }),
        &json!({ "enabled": body.enabled }),
    )
    .await?;
    tx.commit().await?;
    catalog.changed().await?;
    tracing::info!(admin_id = admin.user_id, model = %name, enabled = body.enabled, "model switched");
    rows(&state)
        .await?
        .into_iter()
        .find(|m| m.name == name)
        .map(Json)
        .ok_or(ApiError::not_found("llm_model_not_found"))
}
