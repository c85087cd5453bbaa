//! `GET /api/admin/codes/export?product_id=&state=unsold`: a product's codes
//! as CSV, streamed a page at a time in id order, so a product of a million
//! codes never sits in memory. The export is an admin action: audited.

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures::stream;
use paychat_common::ApiError;
use paychat_common::auth::AdminUser;
use paychat_common::http::ClientIp;
use serde_json::json;
use sqlx::MySqlPool;

use super::list::filter;
use super::queries::{self, Filter};
use super::states::CodeState;
use super::types::{AdminCode, ExportQuery};
use crate::state::AppState;
use paychat_common::audit::{self, Action};

/// Rows read per page of the stream.
const PAGE: u32 = 1000;

pub const HEADER: &str = "id,code,product_id,state,order_id,owner_id,redeemed_by,expires_at\n";

/// One CSV line; every field is an id, a code, a state or a time, none of
/// which holds a comma, quote or line break.
pub fn line(c: &AdminCode) -> String {
    let state = serde_json::to_value(c.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!(
        "{},{},{},{},{},{},{},{}\n",
        c.id,
        c.code,
        c.product_id,
        state,
        c.order_id.as_deref().unwrap_or_default(),
        c.owner_id.as_deref().unwrap_or_default(),
        c.redeemed_by.as_deref().unwrap_or_default(),
        c.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
    )
}

/// The CSV of a product's codes in one state (unsold unless asked).
#[utoipa::path(
    get,
    path = "/api/admin/codes/export",
    tag = "admin",
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, content_type = "text/csv", body = String,
         description = "`id,code,product_id,state,order_id,owner_id,redeemed_by,expires_at`, one code a line"),
        (status = 400, description = "`invalid_request` (product_id, state)"),
        (status = 401, description = "`unauthorized`"),
        (status = 403, description = "`forbidden`"),
        (status = 404, description = "`product_not_found`"),
    )
)]
pub async fn export(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let mut f = filter(q.product_id.as_deref(), q.state.as_deref())?;
    let product_id = f
        .product_id
        .ok_or_else(|| ApiError::field("invalid_request", "product_id", "is required"))?;
    let code_state = *f.state.get_or_insert(CodeState::Unsold);
    if !queries::product_exists(&state.db, product_id).await? {
        return Err(ApiError::not_found("product_not_found"));
    }
    let mut conn = state.db.acquire().await?;
    audit::record(
        &mut conn,
        &state.ids,
        &Action {
            actor_id: admin.user_id,
            action: "codes.export",
            target: format!("product:{product_id}"),
            ip,
        },
        &json!(null),
        &json!({ "state": code_state }),
    )
    .await?;
    drop(conn);
    let state_name = serde_json::to_value(code_state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let filename = format!("codes-{product_id}-{state_name}.csv");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(rows(state.db.clone(), f)),
    )
        .into_response())
}

enum Cursor {
    Header,
    After(i64),
    Done,
}

/// The header, then a chunk per page until a short page.
fn rows(
    db: MySqlPool,
    f: Filter,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    stream::unfold(Cursor::Header, move |cursor| {
        let db = db.clone();
        async move {
            let after = match cursor {
                Cursor::Header => {
                    return Some((Ok(Bytes::from_static(HEADER.as_bytes())), Cursor::After(0)));
                }
                Cursor::After(after) => after,
                Cursor::Done => return None,
            };
            match queries::page_asc(&db, f, after, PAGE).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = match rows.last() {
                        Some(last) if rows.len() == PAGE as usize => Cursor::After(last.id),
                        _ => Cursor::Done,
                    };
                    let now = Utc::now();
                    let chunk: String = rows
                        .into_iter()
                        .map(|r| line(&AdminCode::new(r, now)))
                        .collect();
                    Some((Ok(Bytes::from(chunk)), next))
                }
                Err(e) => {
                    // The client sees a cut-off download rather than a CSV that looks whole.
                    tracing::error!(error = %e, "code export failed mid-stream");
                    Some((Err(std::io::Error::other("export failed")), Cursor::Done))
                }
            }
        }
    })
}
