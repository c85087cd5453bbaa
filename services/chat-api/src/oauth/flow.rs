//! What a sign-in keeps between its steps, in Redis: the started flow under
//! its state (`oauth_state:<state>`: provider, nonce, PKCE verifier, where to
//! go after, and the user when it links a provider), taken once; and the
//! ticket the web app exchanges for a session (`oauth_ticket:<sha256>`).

use std::time::Duration;

use paychat_common::ApiError;
use paychat_common::auth::hash_token;
use paychat_common::rkey;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::providers::Identity;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize)]
pub struct Pending {
    pub provider: String,
    pub nonce: Option<String>,
    pub pkce_verifier: String,
    pub return_to: String,
    /// Set when a signed-in user links this provider.
    pub link_user_id: Option<i64>,
}

/// What a ticket stands for.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ticket {
    pub identity: Identity,
    pub return_to: String,
}

fn ttl_secs(ttl: Duration) -> u64 {
    ttl.as_secs().max(1)
}

pub async fn save_pending(
    state: &AppState,
    flow_state: &str,
    pending: &Pending,
) -> Result<(), ApiError> {
    let value = serde_json::to_string(pending).map_err(ApiError::internal)?;
    let mut conn = state.redis.clone();
    conn.set_ex::<_, _, ()>(
        rkey!(state.keys, "oauth_state:{}", hash_token(flow_state)),
        value,
        ttl_secs(state.oauth.config.state_ttl()),
    )
    .await?;
    Ok(())
}

/// The pending flow of `flow_state`, removed so it works only once.
pub async fn take_pending(state: &AppState, flow_state: &str) -> Result<Option<Pending>, ApiError> {
    let mut conn = state.redis.clone();
    let value: Option<String> = conn
        .get_del(rkey!(state.keys, "oauth_state:{}", hash_token(flow_state)))
        .await?;
    Ok(value.and_then(|v| serde_json::from_str(&v).ok()))
}

/// Stores `ticket` under a fresh random value (or `reuse`) for `ttl`; answers the value.
pub async fn save_ticket(
    state: &AppState,
    ticket: &Ticket,
    ttl: Duration,
    reuse: Option<&str>,
) -> Result<String, ApiError> {
    let value = match reuse {
        Some(v) => v.to_owned(),
        None => random_value(),
    };
    let body = serde_json::to_string(ticket).map_err(ApiError::internal)?;
    let mut conn = state.redis.clone();
    conn.set_ex::<_, _, ()>(
        rkey!(state.keys, "oauth_ticket:{}", hash_token(&value)),
        body,
        ttl_secs(ttl),
    )
    .await?;
    Ok(value)
}

/// The ticket, removed so it works only once.
pub async fn take_ticket(state: &AppState, value: &str) -> Result<Option<Ticket>, ApiError> {
    if value.is_empty() || value.len() > 64 {
        return Ok(None);
    }
    let mut conn = state.redis.clone();
    let body: Option<String> = conn
        .get_del(rkey!(state.keys, "oauth_ticket:{}", hash_token(value)))
        .await?;
    Ok(body.and_then(|v| serde_json::from_str(&v).ok()))
}

fn random_value() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `return_to` if it is a path of the web app, else `/chat`.
pub fn safe_return_to(value: Option<&str>) -> String {
    match value {
        Some(v)
            if v.starts_with('/')
                && !v.starts_with("//")
                && !v.contains('\\')
                && v.len() <= 512
                && !v.chars().any(char::is_control) =>
        {
            v.to_owned()
        }
        _ => "/chat".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn return_to_stays_inside_the_web_app() {
        assert_eq!(safe_return_to(Some("/account?x=1")), "/account?x=1");
        assert_eq!(safe_return_to(Some("//evil.test/")), "/chat");
        assert_eq!(safe_return_to(Some("/\\evil.test")), "/chat");
        assert_eq!(safe_return_to(Some("https://evil.test/")), "/chat");
        assert_eq!(safe_return_to(None), "/chat");
    }
}
