//! `GET /v1/models`: the models this server claims to serve.

use axum::Json;
use serde_json::{Value, json};

/// Model ids listed by `GET /v1/models`. Any other name is served the same way;
/// only names starting with `fault-` change behaviour.
pub const MODELS: [&str; 2] = ["sandbox-chat", "sandbox-chat-mini"];

/// A fixed creation time so the listing never changes between runs.
const CREATED: i64 = 1_767_225_600;

pub async fn list() -> Json<Value> {
    let data: Vec<Value> = MODELS
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": CREATED, "owned_by": "sandbox"}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}
