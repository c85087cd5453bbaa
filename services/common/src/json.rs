//! Our own `Json` extractor and response: axum's rejections become API.md's
//! error shape (400 `invalid_request`, 413 for bodies over the limit).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ApiError;

#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection_to_error(rejection)),
        }
    }
}

fn rejection_to_error(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::BytesRejection(r)
            if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
        {
            ApiError::PayloadTooLarge
        }
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::invalid("send the body as application/json")
        }
        JsonRejection::JsonSyntaxError(_) => ApiError::invalid("the body is not valid JSON"),
        // serde's message names the field and the expected type, never internals.
        JsonRejection::JsonDataError(e) => ApiError::invalid(e.body_text()),
        other => ApiError::invalid(other.body_text()),
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
