//! The operator console's Users panel and audit log (API.md's "Added:
//! operator console"), admins only: 401 without a session, 403 for a user.
//!
//! - `users.rs`: `GET /api/admin/users` (search) and `GET /api/admin/users/{id}` (detail)
//! - `chat_times.rs`: `POST /api/admin/users/{id}/chat-times` (balance change + ledger row)
//! - `status.rs`: `POST /api/admin/users/{id}/disable` and `/enable`
//! - `audit.rs`: `GET /api/admin/audit-log`, and the row every admin action writes
//! - `queries.rs` (SQL), `types.rs` (bodies)

pub mod audit;
pub mod chat_times;
pub mod queries;
pub mod status;
pub mod types;
pub mod users;

use paychat_common::ApiError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users::list))
        .routes(routes!(users::detail))
        .routes(routes!(chat_times::adjust))
        .routes(routes!(status::disable))
        .routes(routes!(status::enable))
        .routes(routes!(audit::list))
}

/// The longest reason an admin may give.
pub const REASON_MAX: usize = 200;

/// A required reason: 1..=200 characters once trimmed.
pub fn parse_reason(reason: &str) -> Result<String, ApiError> {
    let reason = reason.trim();
    let len = reason.chars().count();
    if len == 0 || len > REASON_MAX {
        return Err(ApiError::field(
            "invalid_request",
            "reason",
            "must be 1 to 200 characters",
        ));
    }
    Ok(reason.to_owned())
}

/// A path id that must be one of our numeric ids.
pub fn parse_user_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .map_err(|_| ApiError::not_found("user_not_found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_trimmed_and_bounded() {
        assert_eq!(parse_reason("  refund  ").unwrap_or_default(), "refund");
        assert!(parse_reason("   ").is_err());
        assert!(parse_reason(&"é".repeat(200)).is_ok());
        assert!(parse_reason(&"é".repeat(201)).is_err());
    }
}
