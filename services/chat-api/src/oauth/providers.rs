//! The configured providers and the two ways to talk to them: OpenID Connect
//! (discovery, authorization code with PKCE and nonce, the ID token checked
//! against the provider's JWKS) and GitHub (OAuth2 with PKCE, then the
//! verified primary address from its API).

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use paychat_common::ApiError;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::config::{OAuthConfig, OidcProviderConfig};
use super::http::{HttpClient, limited_body};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Oidc,
    Github,
}

pub struct GithubConfig {
    pub client_id: String,
    pub client_secret: SecretString,
    pub authorize_url: String,
    pub token_url: String,
    pub api_url: String,
}

pub enum Settings {
    Oidc(OidcProviderConfig),
    Github(GithubConfig),
}

pub struct Provider {
    pub id: String,
    pub name: String,
    pub settings: Settings,
}

impl Provider {
    pub fn kind(&self) -> Kind {
        match self.settings {
            Settings::Oidc(_) => Kind::Oidc,
            Settings::Github(_) => Kind::Github,
        }
    }
}

/// Where a started sign-in goes, and what must come back with it.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: Option<String>,
    pub pkce_verifier: String,
}

/// Who the provider says signed in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    pub provider: String,
    pub subject: String,
    /// Present only when the provider vouches for it (verified).
    pub email: Option<String>,
    pub name: Option<String>,
}

/// Why a callback failed; the code is what the web app is told.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("invalid_id_token: {0}")]
    InvalidIdToken(String),
    #[error("provider_error: {0}")]
    Provider(String),
}

impl CallbackError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidIdToken(_) => "invalid_id_token",
            Self::Provider(_) => "provider_error",
        }
    }
}

fn provider_error(e: impl std::fmt::Display) -> CallbackError {
    CallbackError::Provider(e.to_string())
}

pub struct Providers {
    pub list: Vec<Provider>,
    pub http: HttpClient,
}

impl Providers {
    pub fn new(config: &OAuthConfig) -> anyhow::Result<Self> {
        let mut list: Vec<Provider> = config
            .oidc()?
            .into_iter()
            .map(|p| Provider {
                id: p.id.clone(),
                name: p.name.clone(),
                settings: Settings::Oidc(p),
            })
            .collect();
        if !config.github_client_id.is_empty() {
            list.push(Provider {
                id: "github".into(),
                name: "GitHub".into(),
                settings: Settings::Github(GithubConfig {
                    client_id: config.github_client_id.clone(),
                    client_secret: config.github_client_secret.clone(),
                    authorize_url: config.github_authorize_url.clone(),
                    token_url: config.github_token_url.clone(),
                    api_url: config.github_api_url.trim_end_matches('/').to_owned(),
                }),
            });
        }
        Ok(Self {
            list,
            http: HttpClient::new(std::time::Duration::from_millis(
                config.oauth_http_timeout_ms,
            ))?,
        })
    }

    pub fn get(&self, id: &str) -> Result<&Provider, ApiError> {
        self.list
            .iter()
            .find(|p| p.id == id)
            .ok_or(ApiError::NotFound {
                code: "unknown_provider",
            })
    }

    /// The provider's authorize URL with a fresh state, nonce and PKCE pair.
    pub async fn start(&self, provider: &Provider, redirect: &str) -> Result<Started, ApiError> {
        let redirect = RedirectUrl::new(redirect.to_owned()).map_err(ApiError::internal)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        match &provider.settings {
            Settings::Oidc(config) => {
                let client = self.oidc_client(config).await.map_err(unavailable)?;
                let (url, state, nonce) = client
                    .set_redirect_uri(redirect)
                    .authorize_url(
                        CoreAuthenticationFlow::AuthorizationCode,
                        CsrfToken::new_random,
                        Nonce::new_random,
                    )
                    .add_scope(Scope::new("email".into()))
                    .add_scope(Scope::new("profile".into()))
                    .set_pkce_challenge(challenge)
                    .url();
                Ok(Started {
                    url: url.into(),
                    state: state.secret().clone(),
                    nonce: Some(nonce.secret().clone()),
                    pkce_verifier: verifier.secret().clone(),
                })
            }
            Settings::Github(config) => {
                let (url, state) = github_client(config)
                    .map_err(ApiError::internal)?
                    .set_redirect_uri(redirect)
                    .authorize_url(CsrfToken::new_random)
                    .add_scope(oauth2::Scope::new("read:user".into()))
                    .add_scope(oauth2::Scope::new("user:email".into()))
                    .set_pkce_challenge(challenge)
                    .url();
                Ok(Started {
                    url: url.into(),
                    state: state.secret().clone(),
                    nonce: None,
                    pkce_verifier: verifier.secret().clone(),
                })
            }
        }
    }

    /// Trades the callback's code for the identity of who signed in.
    pub async fn finish(
        &self,
        provider: &Provider,
        redirect: &str,
        code: &str,
        nonce: Option<&str>,
        pkce_verifier: &str,
    ) -> Result<Identity, CallbackError> {
        let redirect = RedirectUrl::new(redirect.to_owned()).map_err(provider_error)?;
        let code = AuthorizationCode::new(code.to_owned());
        let verifier = PkceCodeVerifier::new(pkce_verifier.to_owned());
        match &provider.settings {
            Settings::Oidc(config) => {
                let client = self
                    .oidc_client(config)
                    .await
                    .map_err(provider_error)?
                    .set_redirect_uri(redirect);
                let token = client
                    .exchange_code(code)
                    .map_err(provider_error)?
                    .set_pkce_verifier(verifier)
                    .request_async(&self.http)
                    .await
                    .map_err(provider_error)?;
                let id_token = token
                    .id_token()
                    .ok_or_else(|| CallbackError::InvalidIdToken("no ID token".into()))?;
                let nonce = Nonce::new(nonce.unwrap_or_default().to_owned());
                let verifier = client.id_token_verifier();
                let claims = id_token
                    .claims(&verifier, &nonce)
                    .map_err(|e| CallbackError::InvalidIdToken(e.to_string()))?;
                // When the token carries at_hash, it must match the access token.
                if let Some(expected) = claims.access_token_hash() {
                    let signing_alg = id_token
                        .signing_alg()
                        .map_err(|e| CallbackError::InvalidIdToken(e.to_string()))?;
                    let key = id_token
                        .signing_key(&verifier)
                        .map_err(|e| CallbackError::InvalidIdToken(e.to_string()))?;
                    let actual =
                        AccessTokenHash::from_token(token.access_token(), signing_alg, key)
                            .map_err(|e| CallbackError::InvalidIdToken(e.to_string()))?;
                    if actual != *expected {
                        return Err(CallbackError::InvalidIdToken("at_hash differs".into()));
                    }
                }
                let email = claims
                    .email()
                    .filter(|_| claims.email_verified() == Some(true))
                    .map(|e| e.as_str().to_owned());
                let name = claims
                    .name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str().to_owned());
                Ok(Identity {
                    provider: provider.id.clone(),
                    subject: claims.subject().as_str().to_owned(),
                    email,
                    name,
                })
            }
            Settings::Github(config) => {
                let token = github_client(config)
                    .map_err(provider_error)?
                    .set_redirect_uri(redirect)
                    .exchange_code(code)
                    .set_pkce_verifier(verifier)
                    .request_async(&self.http)
                    .await
                    .map_err(provider_error)?;
                let bearer = token.access_token().secret();
                let user: GithubUser = self
                    .github_get(config, "/user", bearer)
                    .await
                    .map_err(provider_error)?;
                let emails: Vec<GithubEmail> = self
                    .github_get(config, "/user/emails", bearer)
                    .await
                    .map_err(provider_error)?;
                let email = emails
                    .into_iter()
                    .find(|e| e.primary && e.verified)
                    .map(|e| e.email);
                Ok(Identity {
                    provider: provider.id.clone(),
                    subject: user.id.to_string(),
                    email,
                    name: user.name.or(Some(user.login)),
                })
            }
        }
    }

    /// Discovery (which also fetches the JWKS) on every use, so a provider's
    /// rotated keys are picked up at once; a sign-in is rare enough.
    async fn oidc_client(
        &self,
        config: &OidcProviderConfig,
    ) -> anyhow::Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
    > {
        let issuer = IssuerUrl::new(config.issuer.clone())?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| anyhow::anyhow!("discovery of {}: {e}", config.issuer))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id.clone()),
            Some(ClientSecret::new(
                config.client_secret.expose_secret().to_owned(),
            )),
        ))
    }

    async fn github_get<T: serde::de::DeserializeOwned>(
        &self,
        config: &GithubConfig,
        path: &str,
        bearer: &str,
    ) -> anyhow::Result<T> {
        let response = self
            .http
            .reqwest()
            .get(format!("{}{path}", config.api_url))
            .bearer_auth(bearer)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "GitHub {path} answered {}",
            response.status()
        );
        Ok(serde_json::from_slice(&limited_body(response).await?)?)
    }
}

fn unavailable(e: anyhow::Error) -> ApiError {
    tracing::warn!(error = %e, "sign-in provider unavailable");
    ApiError::BadGateway {
        code: "provider_unavailable",
        message: "the sign-in provider did not answer; try again later".into(),
    }
}

#[derive(Deserialize)]
struct GithubUser {
    id: u64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct GithubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

type GithubClient = oauth2::basic::BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn github_client(config: &GithubConfig) -> anyhow::Result<GithubClient> {
    Ok(
        oauth2::basic::BasicClient::new(oauth2::ClientId::new(config.client_id.clone()))
            .set_client_secret(oauth2::ClientSecret::new(
                config.client_secret.expose_secret().to_owned(),
            ))
            .set_auth_uri(oauth2::AuthUrl::new(config.authorize_url.clone())?)
            .set_token_uri(oauth2::TokenUrl::new(config.token_url.clone())?)
            // GitHub documents the secret in the body.
            .set_auth_type(oauth2::AuthType::RequestBody),
    )
}
