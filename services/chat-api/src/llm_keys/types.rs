//! Bodies of the console's upstream keys and models. A key is only ever
//! answered masked (`sk-…abcd`) with its fingerprint.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::queries::{KeyRow, ModelRow};
use crate::chat::upstream::Rest;
use crate::pagination::rfc3339;

/// An upstream key as the console sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LlmKey {
    pub id: String,
    pub label: String,
    /// Masked: `sk-…abcd`.
    pub key: String,
    /// `sha256:` and 12 hex digits; what chat messages and logs name.
    pub fingerprint: String,
    pub enabled: bool,
    /// Set while the key is rested after a 401/403/429 (every copy skips it).
    pub resting_until: Option<String>,
    /// Why it is resting: the upstream's status and message.
    pub resting_reason: Option<String>,
    /// The upstream's last refusal of this key (cleared by a successful test).
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl LlmKey {
    pub fn new(row: KeyRow, rest: Option<Rest>) -> Self {
        let resting_until = rest.as_ref().map(|r| {
            let left = chrono::Duration::from_std(r.remaining).unwrap_or_default();
            rfc3339(chrono::Utc::now() + left)
        });
        Self {
            id: row.id.to_string(),
            label: row.label,
            key: row.masked,
            fingerprint: row.fingerprint,
            enabled: row.enabled,
            resting_until,
            resting_reason: rest.map(|r| r.reason),
            last_error: row.last_error,
            last_error_at: row.last_error_time.map(rfc3339),
            created_at: rfc3339(row.create_time),
            updated_at: rfc3339(row.update_time),
        }
    }
}

/// What the audit log keeps of a key: never the secret.
pub fn audit_view(row: &KeyRow) -> Value {
    json!({
        "label": row.label,
        "key": row.masked,
        "fingerprint": row.fingerprint,
        "enabled": row.enabled,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LlmKeyList {
    pub items: Vec<LlmKey>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewLlmKey {
    /// The upstream's API key; stored sealed, never answered.
    pub key: String,
    /// 1..=64 characters; defaults to the masked key.
    pub label: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LlmKeyChange {
    /// A new secret for this entry (rotation in place).
    pub key: Option<String>,
    pub label: Option<String>,
    pub enabled: Option<bool>,
}

/// The outcome of a real call to the upstream with the key.
#[derive(Debug, Serialize, ToSchema)]
pub struct LlmKeyTest {
    pub ok: bool,
    /// The upstream's HTTP status; null when it could not be reached.
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub model: String,
    pub error: Option<String>,
    /// The key after the test (a refusal rests it; a success ends its rest).
    pub llm_key: LlmKey,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LlmModel {
    pub name: String,
    pub enabled: bool,
    /// `llm_default_model`, which cannot be switched off.
    pub default: bool,
    pub updated_at: String,
}

impl LlmModel {
    pub fn new(row: ModelRow, default: &str) -> Self {
        Self {
            default: row.name == default,
            name: row.name,
            enabled: row.enabled,
            updated_at: rfc3339(row.update_time),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LlmModelList {
    pub items: Vec<LlmModel>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LlmModelChange {
    pub enabled: bool,
}
