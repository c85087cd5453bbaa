//! The HTTP client the `oauth2` and `openidconnect` crates call through: the
//! service's own reqwest (no second HTTP stack), with redirects off (a token
//! or discovery answer that redirects is refused, as the crates advise) and a
//! whole-call timeout.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Largest provider answer read (discovery, JWKS, tokens, user data).
const MAX_BODY: usize = 1 << 20;

#[derive(Clone)]
pub struct HttpClient(reqwest::Client);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("request failed: {0}")]
    Reqwest(#[from] reqwest::Error),
    #[error("answer larger than {MAX_BODY} bytes")]
    TooLarge,
}

impl HttpClient {
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(timeout)
                .user_agent("PayChat")
                .build()?,
        ))
    }

    pub fn reqwest(&self) -> &reqwest::Client {
        &self.0
    }
}

/// Reads at most [`MAX_BODY`] bytes of `response`.
pub async fn limited_body(mut response: reqwest::Response) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(HttpError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl<'c> oauth2::AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.0.execute(reqwest::Request::try_from(request)?).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let mut answer = http::Response::new(limited_body(response).await?);
            *answer.status_mut() = status;
            *answer.headers_mut() = headers;
            Ok(answer)
        })
    }
}
