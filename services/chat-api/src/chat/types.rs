//! Request, event and stored-message types of the chat relay.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `chat_message.message_type` of a question.
pub const QUESTION: i32 = 1;
/// `chat_message.message_type` of an answer.
pub const ANSWER: i32 = 2;

/// `chat_message.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    Streaming = 1,
    Done = 2,
    Error = 3,
    Interrupted = 4,
}

impl MessageStatus {
    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn from_code(code: i32) -> Self {
        match code {
            1 => Self::Streaming,
            2 => Self::Done,
            4 => Self::Interrupted,
            _ => Self::Error,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Streaming => "streaming",
            Self::Done => "done",
            Self::Error => "error",
            Self::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CompletionRequest {
    pub prompt: String,
    pub room_id: Option<String>,
    pub parent_message_id: Option<String>,
    pub model: Option<String>,
    /// With `room_id` and no `parent_message_id`: the question starts a new
    /// thread at the room's root (an edited or regenerated first question)
    /// instead of following the room's latest answer.
    #[serde(default)]
    pub from_root: bool,
}

/// First event of the stream.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetaEvent {
    pub room_id: String,
    pub question_id: String,
    pub answer_id: String,
    pub model: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeltaEvent<'a> {
    pub content: &'a str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DoneEvent {
    pub usage: Usage,
    pub remaining_times: i64,
    pub finish_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEvent {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Model {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    pub items: Vec<Model>,
}
