//! Sessions: an opaque bearer token of 256 random bits; Redis keeps only its
//! SHA-256 (`session:<hash>` → user id and role, with a TTL) and, per user, the
//! set of their session hashes so a password reset can end them all.
//! [`AuthUser`] and [`AdminUser`] are the extractors every service uses.

use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ApiError;
use crate::redis::Keys;
use crate::rkey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    user_id: i64,
    role: Role,
}

/// The session store, shared by every service through Redis.
#[derive(Clone)]
pub struct Sessions {
    redis: ConnectionManager,
    keys: Keys,
    ttl: Duration,
}

/// A freshly issued token; the plain token exists only in this value and the
/// login response.
pub struct Issued {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Sessions {
    pub fn new(redis: ConnectionManager, keys: Keys, ttl: Duration) -> Self {
        Self { redis, keys, ttl }
    }

    pub async fn create(&self, user_id: i64, role: Role) -> Result<Issued, ApiError> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_token(&token);
        let value = serde_json::to_string(&Stored { user_id, role }).map_err(ApiError::internal)?;
        let ttl = self.ttl.as_secs();
        let index = rkey!(self.keys, "user_sessions:{user_id}");
        let mut conn = self.redis.clone();
        redis::pipe()
            .atomic()
            .set_ex(rkey!(self.keys, "session:{hash}"), value, ttl)
            .sadd(&index, &hash)
            .expire(&index, i64::try_from(ttl).unwrap_or(i64::MAX))
            .query_async::<()>(&mut conn)
            .await?;
        let expires_at = Utc::now()
            + chrono::Duration::from_std(self.ttl).unwrap_or_else(|_| chrono::Duration::days(1));
        Ok(Issued { token, expires_at })
    }

    pub async fn lookup(&self, token: &str) -> Result<Option<AuthUser>, ApiError> {
        // A token is 43 URL-safe characters; anything else cannot be ours.
        if token.len() != 43 {
            return Ok(None);
        }
        let hash = hash_token(token);
        let mut conn = self.redis.clone();
        let value: Option<String> = conn.get(rkey!(self.keys, "session:{hash}")).await?;
        Ok(value
            .and_then(|v| serde_json::from_str::<Stored>(&v).ok())
            .map(|s| AuthUser {
                user_id: s.user_id,
                role: s.role,
                token_hash: hash,
            }))
    }

    pub async fn revoke(&self, user: &AuthUser) -> Result<(), ApiError> {
        let mut conn = self.redis.clone();
        redis::pipe()
            .del(rkey!(self.keys, "session:{}", user.token_hash))
            .srem(
                rkey!(self.keys, "user_sessions:{}", user.user_id),
                &user.token_hash,
            )
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Ends every session of the user (password reset).
    pub async fn revoke_all(&self, user_id: i64) -> Result<(), ApiError> {
        let mut conn = self.redis.clone();
        let index = rkey!(self.keys, "user_sessions:{user_id}");
        let hashes: Vec<String> = conn.smembers(&index).await?;
        let mut pipe = redis::pipe();
        for hash in &hashes {
            pipe.del(rkey!(self.keys, "session:{hash}"));
        }
        pipe.del(&index);
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// Ends every session of the user but the caller's own (a password change).
    pub async fn revoke_others(&self, user: &AuthUser) -> Result<(), ApiError> {
        let mut conn = self.redis.clone();
        let index = rkey!(self.keys, "user_sessions:{}", user.user_id);
        let hashes: Vec<String> = conn.smembers(&index).await?;
        let mut pipe = redis::pipe();
        for hash in hashes.iter().filter(|h| **h != user.token_hash) {
            pipe.del(rkey!(self.keys, "session:{hash}"));
            pipe.srem(&index, hash);
        }
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }
}

/// The signed-in caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: i64,
    pub role: Role,
    pub token_hash: String,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl<S> FromRequestParts<S> for AuthUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(user.clone());
        }
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        let user = Sessions::from_ref(state)
            .lookup(token)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        tracing::Span::current().record("user_id", user.user_id);
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// A signed-in caller with role admin; others get 403 `forbidden`.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl<S> FromRequestParts<S> for AdminUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(Self(user))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}
