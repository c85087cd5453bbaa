//! Sessions: an opaque bearer token of 256 random bits; Redis keeps only its
//! SHA-256 (`session:<hash>` → user id and role, with a TTL) and, per user, the
//! set of their session hashes so a password reset can end them all.
//! Beside user and role the same value holds what the sessions page shows:
//! when it began, when it was last used (written at most once a minute, so the
//! lookup on every request stays one GET), and the IP and browser it began from.
//! Pages name a session by an id derived from its hash ([`session_id`]), never
//! by the hash itself.
//! [`AuthUser`] and [`AdminUser`] are the extractors every service uses.
//!
//! A session's key is found from the token alone and its user's index from the
//! user id, so the two cannot share a Redis Cluster slot; nothing here writes
//! both in one transaction or pipeline. The index is written first and a
//! session last, and a session is deleted before its index entry: an index
//! entry may name an ended session (lists drop it), but no live session is
//! ever missing from its user's index, so "end every session" finds them all.

use std::time::Duration;

use crate::redis::Redis;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use redis::AsyncCommands;
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
    /// Milliseconds since the epoch; absent on sessions from before they were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seen_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_agent: Option<String>,
}

/// Where a session begins: shown on the sessions page.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Longest user agent kept.
const USER_AGENT_MAX: usize = 256;

/// How stale `last_seen` may get before a request writes it again.
pub const SEEN_EVERY_MS: i64 = 60_000;

/// Whether a session last seen at `seen_ms` should be marked seen at `now_ms`.
pub fn needs_touch(seen_ms: Option<i64>, now_ms: i64) -> bool {
    seen_ms.is_none_or(|seen| now_ms - seen >= SEEN_EVERY_MS)
}

/// The public id of the session with this token hash: derived one way, so it
/// names the session without revealing the hash that finds it.
pub fn session_id(token_hash: &str) -> String {
    let digest = Sha256::digest(format!("paychat-session-id:{token_hash}").as_bytes());
    hex::encode(&digest[..16])
}

/// One session as the sessions page lists it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub current: bool,
}

fn from_ms(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.and_then(DateTime::from_timestamp_millis)
}

/// The session store, shared by every service through Redis.
#[derive(Clone)]
pub struct Sessions {
    redis: Redis,
    keys: Keys,
    ttl: Duration,
}

/// KEYS[1]: a user's session index; ARGV: session hash, TTL in seconds.
static INDEX_ADD: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        "redis.call('SADD', KEYS[1], ARGV[1]) return redis.call('EXPIRE', KEYS[1], ARGV[2])",
    )
});

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
    pub fn new(redis: Redis, keys: Keys, ttl: Duration) -> Self {
        Self { redis, keys, ttl }
    }

    pub async fn create(&self, user_id: i64, role: Role) -> Result<Issued, ApiError> {
        self.create_from(user_id, role, Origin::default()).await
    }

    /// A new session, remembering where it began.
    pub async fn create_from(
        &self,
        user_id: i64,
        role: Role,
        origin: Origin,
    ) -> Result<Issued, ApiError> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_token(&token);
        let now = Utc::now().timestamp_millis();
        let stored = Stored {
            user_id,
            role,
            created_ms: Some(now),
            seen_ms: Some(now),
            ip: origin.ip,
            user_agent: origin
                .user_agent
                .map(|ua| ua.chars().take(USER_AGENT_MAX).collect()),
        };
        let value = serde_json::to_string(&stored).map_err(ApiError::internal)?;
        let ttl = self.ttl.as_secs();
        let index = rkey!(self.keys, "user_sessions:{user_id}");
        let mut conn = self.redis.clone();
        // One script, not MULTI/EXEC: right after a Redis Cluster failover a
        // transaction fails whole on MOVED, while a single command is
        // redirected to the new master by the client.
        let _: i64 = INDEX_ADD
            .key(&index)
            .arg(&hash)
            .arg(ttl)
            .invoke_async(&mut conn)
            .await?;
        conn.set_ex::<_, _, ()>(rkey!(self.keys, "session:{hash}"), value, ttl)
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
        let key = rkey!(self.keys, "session:{hash}");
        let mut conn = self.redis.clone();
        let value: Option<String> = conn.get(&key).await?;
        let Some(mut stored) = value.and_then(|v| serde_json::from_str::<Stored>(&v).ok()) else {
            return Ok(None);
        };
        let now = Utc::now().timestamp_millis();
        if needs_touch(stored.seen_ms, now) {
            stored.seen_ms = Some(now);
            // XX: a session ended meanwhile stays ended; KEEPTTL: its expiry stays.
            let touched = match serde_json::to_string(&stored) {
                Ok(value) => redis::cmd("SET")
                    .arg(&key)
                    .arg(value)
                    .arg("XX")
                    .arg("KEEPTTL")
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(anyhow::Error::from),
                Err(e) => Err(e.into()),
            };
            if let Err(error) = touched {
                tracing::warn!(%error, "could not mark a session seen");
            }
        }
        Ok(Some(AuthUser {
            user_id: stored.user_id,
            role: stored.role,
            token_hash: hash,
        }))
    }

    /// The user's live sessions, most recently used first; hashes of ended
    /// sessions are dropped from the user's index on the way.
    pub async fn list(&self, user: &AuthUser) -> Result<Vec<SessionInfo>, ApiError> {
        let mut conn = self.redis.clone();
        let index = rkey!(self.keys, "user_sessions:{}", user.user_id);
        let hashes: Vec<String> = conn.smembers(&index).await?;
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = hashes
            .iter()
            .map(|h| rkey!(self.keys, "session:{h}"))
            .collect();
        let values: Vec<Option<String>> =
            redis::cmd("MGET").arg(&keys).query_async(&mut conn).await?;
        let mut items = Vec::new();
        let mut gone = Vec::new();
        for (hash, value) in hashes.iter().zip(values) {
            match value.and_then(|v| serde_json::from_str::<Stored>(&v).ok()) {
                Some(s) if s.user_id == user.user_id => items.push(SessionInfo {
                    id: session_id(hash),
                    created_at: from_ms(s.created_ms),
                    last_seen_at: from_ms(s.seen_ms.or(s.created_ms)),
                    ip: s.ip,
                    user_agent: s.user_agent,
                    current: *hash == user.token_hash,
                }),
                _ => gone.push(hash),
            }
        }
        if !gone.is_empty() {
            conn.srem::<_, _, ()>(&index, gone).await?;
        }
        items.sort_by(|a, b| {
            b.current
                .cmp(&a.current)
                .then(b.last_seen_at.cmp(&a.last_seen_at))
        });
        Ok(items)
    }

    /// Ends the user's session with public id `id`; false when they have none such.
    pub async fn revoke_id(&self, user_id: i64, id: &str) -> Result<bool, ApiError> {
        let mut conn = self.redis.clone();
        let index = rkey!(self.keys, "user_sessions:{user_id}");
        let hashes: Vec<String> = conn.smembers(&index).await?;
        let Some(hash) = hashes.into_iter().find(|h| session_id(h) == id) else {
            return Ok(false);
        };
        let deleted: i64 = conn.del(rkey!(self.keys, "session:{hash}")).await?;
        conn.srem::<_, _, ()>(&index, &hash).await?;
        Ok(deleted == 1)
    }

    pub async fn revoke(&self, user: &AuthUser) -> Result<(), ApiError> {
        let mut conn = self.redis.clone();
        conn.del::<_, ()>(rkey!(self.keys, "session:{}", user.token_hash))
            .await?;
        conn.srem::<_, _, ()>(
            rkey!(self.keys, "user_sessions:{}", user.user_id),
            &user.token_hash,
        )
        .await?;
        Ok(())
    }

    /// Ends every session of the user (password reset).
    pub async fn revoke_all(&self, user_id: i64) -> Result<(), ApiError> {
        let mut conn = self.redis.clone();
        let index = rkey!(self.keys, "user_sessions:{user_id}");
        let hashes: Vec<String> = conn.smembers(&index).await?;
        self.end(&mut conn, hashes.iter()).await?;
        conn.del::<_, ()>(&index).await?;
        Ok(())
    }

    /// Ends every session of the user but the caller's own (a password change).
    pub async fn revoke_others(&self, user: &AuthUser) -> Result<(), ApiError> {
        let mut conn = self.redis.clone();
        let index = rkey!(self.keys, "user_sessions:{}", user.user_id);
        let hashes: Vec<String> = conn.smembers(&index).await?;
        let others: Vec<&String> = hashes.iter().filter(|h| **h != user.token_hash).collect();
        self.end(&mut conn, others.iter().copied()).await?;
        if !others.is_empty() {
            conn.srem::<_, _, ()>(&index, others).await?;
        }
        Ok(())
    }

    /// Deletes the sessions with these hashes: one DEL, which the cluster
    /// client splits by slot.
    async fn end<'a>(
        &self,
        conn: &mut Redis,
        hashes: impl Iterator<Item = &'a String>,
    ) -> Result<(), ApiError> {
        let keys: Vec<String> = hashes.map(|h| rkey!(self.keys, "session:{h}")).collect();
        if !keys.is_empty() {
            conn.del::<_, ()>(keys).await?;
        }
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

    /// The public id of the caller's session.
    pub fn session_id(&self) -> String {
        session_id(&self.token_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_seen_is_written_at_most_once_a_minute() {
        assert!(needs_touch(None, 1_000));
        assert!(!needs_touch(Some(1_000), 1_000 + SEEN_EVERY_MS - 1));
        assert!(needs_touch(Some(1_000), 1_000 + SEEN_EVERY_MS));
    }

    #[test]
    fn the_public_id_is_not_the_hash() {
        let hash = hash_token("some-token");
        let id = session_id(&hash);
        assert_eq!(id.len(), 32);
        assert!(!hash.contains(&id));
        assert_eq!(id, session_id(&hash));
    }

    #[test]
    fn sessions_from_before_metadata_still_read() {
        let old: Stored = serde_json::from_str(r#"{"user_id":7,"role":"user"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old.user_id, 7);
        assert!(old.created_ms.is_none());
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
