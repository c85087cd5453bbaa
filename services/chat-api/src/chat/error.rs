//! What can refuse a completion before it streams, and how each maps to API.md.

use paychat_common::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error("the prompt is longer than {0} characters")]
    PromptTooLong(u32),
    #[error("unknown model")]
    UnknownModel,
    #[error("the prompt contains a blocked word")]
    Sensitive,
    #[error("room or message not found")]
    NotFound,
    #[error("no chat times left")]
    NoChatTimes,
    #[error("the model is unavailable")]
    Unavailable,
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<sqlx::Error> for ChatError {
    fn from(err: sqlx::Error) -> Self {
        Self::Api(err.into())
    }
}

impl From<ChatError> for ApiError {
    fn from(err: ChatError) -> Self {
        match err {
            ChatError::EmptyPrompt => {
                ApiError::field("invalid_request", "prompt", "must not be empty")
            }
            ChatError::PromptTooLong(max) => ApiError::field(
                "prompt_too_long",
                "prompt",
                format!("must be at most {max} characters"),
            ),
            ChatError::UnknownModel => {
                ApiError::field("invalid_request", "model", "is not one of our models")
            }
            ChatError::Sensitive => ApiError::bad_request(
                "sensitive_content",
                "the prompt contains words we do not allow",
            ),
            ChatError::NotFound => ApiError::not_found("not_found"),
            ChatError::NoChatTimes => ApiError::PaymentRequired {
                code: "no_chat_times",
                message: "no chat times left; recharge to continue".into(),
            },
            ChatError::Unavailable => ApiError::Unavailable {
                code: "upstream_unavailable",
                message: "the model is unavailable, try again shortly; no chat time was used"
                    .into(),
            },
            ChatError::Api(e) => e,
        }
    }
}

impl axum::response::IntoResponse for ChatError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}
