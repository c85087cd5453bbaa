//! The one error type every handler returns, rendered as API.md's
//! `{"error": {"code", "message", "fields"?}}`. Internal causes are logged once
//! here and never reach the response.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with a specific code (`invalid_request`, `weak_password`, ...).
    #[error("{code}: {message}")]
    BadRequest {
        code: &'static str,
        message: String,
        fields: BTreeMap<String, String>,
    },
    #[error("unauthorized")]
    Unauthorized,
    /// 401 with a specific code (`invalid_credentials`).
    #[error("{code}: {message}")]
    Unauthenticated { code: &'static str, message: String },
    #[error("{code}: {message}")]
    PaymentRequired { code: &'static str, message: String },
    #[error("forbidden")]
    Forbidden,
    /// 403 with a specific code (`email_not_verified`).
    #[error("{code}: {message}")]
    Refused { code: &'static str, message: String },
    #[error("{code}: not found")]
    NotFound { code: &'static str },
    /// 409; `extra` fields sit beside `code` and `message` (e.g. `order_id`).
    #[error("{code}: {message}")]
    Conflict {
        code: &'static str,
        message: String,
        extra: Map<String, Value>,
    },
    #[error("{code}: {message}")]
    Gone { code: &'static str, message: String },
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("{code}: {message}")]
    BadGateway { code: &'static str, message: String },
    #[error("{code}: {message}")]
    Unavailable { code: &'static str, message: String },
    /// 503 `busy` with `Retry-After`: too much work queued to take this on now.
    #[error("busy")]
    Busy { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::bad_request("invalid_request", message)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }

    /// A validation error naming the offending field.
    pub fn field(code: &'static str, field: &str, problem: impl Into<String>) -> Self {
        let problem = problem.into();
        Self::BadRequest {
            code,
            message: format!("{field}: {problem}"),
            fields: BTreeMap::from([(field.to_owned(), problem)]),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
            extra: Map::new(),
        }
    }

    pub fn not_found(code: &'static str) -> Self {
        Self::NotFound { code }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::PaymentRequired { .. } => StatusCode::PAYMENT_REQUIRED,
            Self::Forbidden | Self::Refused { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Gone { .. } => StatusCode::GONE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            Self::Unavailable { .. } | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthenticated { code, .. }
            | Self::PaymentRequired { code, .. }
            | Self::Refused { code, .. }
            | Self::NotFound { code }
            | Self::Conflict { code, .. }
            | Self::Gone { code, .. }
            | Self::BadGateway { code, .. }
            | Self::Unavailable { code, .. } => code,
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited { .. } => "rate_limited",
            Self::Busy { .. } => "busy",
            Self::Internal(_) => "internal",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::BadRequest { message, .. }
            | Self::Unauthenticated { message, .. }
            | Self::PaymentRequired { message, .. }
            | Self::Refused { message, .. }
            | Self::Conflict { message, .. }
            | Self::Gone { message, .. }
            | Self::BadGateway { message, .. }
            | Self::Unavailable { message, .. } => message.clone(),
            Self::Unauthorized => "sign in first".into(),
            Self::Forbidden => "you may not do this".into(),
            Self::NotFound { .. } => "not found".into(),
            Self::PayloadTooLarge => "the request body is too large (64 KiB at most)".into(),
            Self::RateLimited { .. } => "too many requests, try again later".into(),
            Self::Busy { .. } => "we are busy right now, try again in a moment".into(),
            Self::Internal(_) => "something went wrong on our side".into(),
        }
    }

    /// The JSON body of API.md's error shape.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), self.code().into());
        error.insert("message".into(), self.message().into());
        match self {
            Self::BadRequest { fields, .. } if !fields.is_empty() => {
                error.insert("fields".into(), json!(fields));
            }
            Self::Conflict { extra, .. } => {
                for (k, v) in extra {
                    error.insert(k.clone(), v.clone());
                }
            }
            _ => {}
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            // Logged once, here, inside the request's span; the chain stays server-side.
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        if let Self::RateLimited { retry_after_secs } | Self::Busy { retry_after_secs } = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs.max(1)),
            );
        }
        response
    }
}

/// A dependency restarting, failing over or out of connections: the same
/// request can succeed a moment later, so it answers 503 `busy` with
/// `Retry-After` rather than 500. The cause is logged by kind only.
fn unavailable(dependency: &'static str, kind: impl std::fmt::Debug) -> ApiError {
    tracing::warn!(dependency, ?kind, "dependency unavailable; answered 503");
    ApiError::Busy {
        retry_after_secs: 1,
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut => unavailable("database", "pool timed out"),
            sqlx::Error::Io(io) => unavailable("database", io.kind()),
            err => Self::Internal(err.into()),
        }
    }
}

impl From<::redis::RedisError> for ApiError {
    fn from(err: ::redis::RedisError) -> Self {
        if redis_unavailable(&err) {
            return unavailable("redis", err.kind());
        }
        Self::Internal(err.into())
    }
}

/// Redis down, restarting (loading its data), or a cluster moving slots or
/// electing a master.
fn redis_unavailable(err: &::redis::RedisError) -> bool {
    use ::redis::{ErrorKind, ServerErrorKind};
    err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_cluster_error()
        || matches!(
            err.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::ReadOnly
                )
        )
}

impl From<anyhow::Error> for ApiError {
    /// A Redis or database failure that reached here with context around it
    /// is sorted as it would be bare: unavailable for the moment, or internal.
    fn from(err: anyhow::Error) -> Self {
        if let Some(redis) = err.downcast_ref::<::redis::RedisError>()
            && redis_unavailable(redis)
        {
            return unavailable("redis", redis.kind());
        }
        match err.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::PoolTimedOut) => unavailable("database", "pool timed out"),
            Some(sqlx::Error::Io(io)) => unavailable("database", io.kind()),
            _ => Self::Internal(err),
        }
    }
}

/// True when a database error is a duplicate key (MySQL error 1062).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

#[cfg(test)]
mod tests {
    use std::io;

    use axum::http::StatusCode;

    use super::ApiError;

    #[test]
    fn a_dependency_that_is_restarting_answers_503_with_retry_after() {
        let refused = redis::RedisError::from(io::Error::from(io::ErrorKind::ConnectionRefused));
        let loading = redis::RedisError::from((
            redis::ErrorKind::Server(redis::ServerErrorKind::BusyLoading),
            "loading",
        ));
        let pool = sqlx::Error::PoolTimedOut;
        // As a failover reaches a handler: wrapped, with context.
        let down = anyhow::Error::new(redis::RedisError::from((
            redis::ErrorKind::Server(redis::ServerErrorKind::ClusterDown),
            "the cluster is down",
        )))
        .context("reserving stock");
        for err in [
            ApiError::from(refused),
            ApiError::from(loading),
            ApiError::from(pool),
            ApiError::from(down),
        ] {
            assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
            let response = axum::response::IntoResponse::into_response(err);
            assert!(response.headers().contains_key("retry-after"));
        }
    }

    #[test]
    fn other_failures_stay_internal() {
        let script = redis::RedisError::from((
            redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError),
            "bad script",
        ));
        assert_eq!(
            ApiError::from(script).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let row = sqlx::Error::RowNotFound;
        assert_eq!(
            ApiError::from(row).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let wrapped = anyhow::Error::new(sqlx::Error::RowNotFound).context("reading an order");
        assert_eq!(
            ApiError::from(wrapped).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
