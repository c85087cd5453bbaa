//! Sign-in providers against the sandbox provider (a process of its own):
//! the OpenID Connect code flow and GitHub's, the refusals (state replay,
//! nonce replay, wrong audience, expired token, bad signature, unverified
//! address), linking to an existing account only with its password, and
//! bindings that never leave an account without a way in.

use paychat_common::testing::{SandboxProcess, unique};
use serde_json::{Value, json};

use crate::accounts_support::{PASSWORD, WEB_BASE, expect_error, spawn_accounts_app};
use crate::helpers::TestApp;

pub struct OAuthEnv {
    pub app: TestApp,
    pub idp: SandboxProcess,
    pub browser: reqwest::Client,
}

/// chat-api configured with the sandbox as OIDC provider `sandbox` and as GitHub.
pub async fn oauth_app() -> OAuthEnv {
    let idp = SandboxProcess::spawn("paychat-sandbox-oidc", &["--listen", "127.0.0.1:0"])
        .expect("sandbox OIDC provider (cargo build -p paychat-sandbox-oidc)");
    let base = idp.base.clone();
    let app = spawn_accounts_app(&[
        (
            "oidc_providers",
            json!([{ "id": "sandbox", "name": "Sandbox OIDC", "issuer": base, "client_id": "paychat-sandbox" }])
                .to_string(),
        ),
        ("oidc_client_secrets", "sandbox=sandbox-secret-not-real".into()),
        ("github_client_id", "paychat-sandbox".into()),
        ("github_client_secret", "sandbox-secret-not-real".into()),
        ("github_authorize_url", format!("{base}/github/login/oauth/authorize")),
        ("github_token_url", format!("{base}/github/login/oauth/access_token")),
        ("github_api_url", format!("{base}/github/api")),
    ])
    .await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    OAuthEnv { app, idp, browser }
}

/// A fresh address the sandbox signs in as a verified user.
pub fn sandbox_email(tag: &str) -> String {
    format!("{tag}.{}@sandbox.test", unique(""))
}

fn location(res: &reqwest::Response) -> String {
    assert_eq!(res.status(), 302, "not a 302: {}", res.status());
    res.headers()["location"].to_str().unwrap().to_owned()
}

fn param(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

impl OAuthEnv {
    /// The provider URL `start` sends the browser to.
    pub async fn start(&self, provider: &str) -> String {
        let res = self
            .browser
            .get(self.app.url(&format!(
                "/api/auth/oauth/{provider}/start?return_to=/account"
            )))
            .send()
            .await
            .unwrap();
        location(&res)
    }

    /// The provider's page with `extra` added: answers chat-api's callback path.
    pub async fn authorize(&self, url: &str, extra: &str) -> String {
        let res = self
            .browser
            .get(format!("{url}{extra}"))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_redirection(), "{}", res.status());
        let back = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
        format!("{}?{}", back.path(), back.query().unwrap_or_default())
    }

    /// Follows the callback; answers the web app URL it redirects to.
    pub async fn callback(&self, path: &str) -> String {
        location(&self.browser.get(self.app.url(path)).send().await.unwrap())
    }

    /// A whole sign-in as `email` with authorize `extra`; the web app URL at the end.
    pub async fn sign_in(&self, provider: &str, email: &str, extra: &str) -> String {
        let url = self.start(provider).await;
        let hint = url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>();
        let path = self
            .authorize(&url, &format!("&login_hint={hint}{extra}"))
            .await;
        self.callback(&path).await
    }

    pub async fn ticket(&self, provider: &str, email: &str) -> String {
        let done = self.sign_in(provider, email, "").await;
        assert!(
            done.starts_with(&format!("{WEB_BASE}/oauth/done?")),
            "{done}"
        );
        param(&done, "ticket").unwrap_or_else(|| panic!("no ticket: {done}"))
    }

    pub async fn exchange(&self, body: Value) -> reqwest::Response {
        self.app
            .client
            .post(self.app.url("/api/auth/oauth/exchange"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Signs in through `provider` as `email` (no existing account); answers the body.
    pub async fn signed_in(&self, provider: &str, email: &str) -> Value {
        let ticket = self.ticket(provider, email).await;
        let res = self.exchange(json!({ "ticket": ticket })).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.app
            .client
            .get(self.app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> reqwest::Response {
        self.app
            .client
            .delete(self.app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn providers_lists_the_configured_ones() {
    let env = oauth_app().await;
    let body = env.app.get_public_json("/api/auth/providers").await;
    assert_eq!(
        body,
        json!({ "items": [
            { "id": "sandbox", "name": "Sandbox OIDC", "kind": "oidc" },
            { "id": "github", "name": "GitHub", "kind": "github" },
        ]})
    );
    let res = env
        .browser
        .get(env.app.url("/api/auth/oauth/nope/start"))
        .send()
        .await
        .unwrap();
    expect_error(res, 404, "unknown_provider").await;
}

#[tokio::test]
async fn oidc_code_flow_makes_a_user_and_signs_them_in_again() {
    let env = oauth_app().await;
    let email = sandbox_email("oidc");
    let url = env.start("sandbox").await;
    assert!(
        url.starts_with(&format!("{}/authorize?", env.idp.base)),
        "{url}"
    );
    for key in ["state", "nonce", "code_challenge"] {
        assert!(param(&url, key).is_some(), "{key} missing: {url}");
    }
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );

    let ticket = env.ticket("sandbox", &email).await;
    let res = env.exchange(json!({ "ticket": ticket })).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["email"], email.as_str());
    assert_eq!(body["return_to"], "/account");
    let me: Value = env
        .get("/api/users/me", body["token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], body["user"]["id"]);
    // The ticket works once.
    expect_error(
        env.exchange(json!({ "ticket": ticket })).await,
        400,
        "invalid_ticket",
    )
    .await;

    // The same person again: the same user, no second one.
    let again = env.signed_in("sandbox", &email).await;
    assert_eq!(again["user"]["id"], body["user"]["id"]);
    assert_eq!(env.app.count("SELECT COUNT(*) FROM chat_user").await, 1);
    assert_eq!(
        env.app
            .count("SELECT COUNT(*) FROM chat_user_binding WHERE binding_type = 'oauth'")
            .await,
        1
    );
    // No password: password sign-in does not work for it.
    let res = env.app.login(&email, "").await;
    assert_ne!(res.status(), 200);
}

#[tokio::test]
async fn github_sign_in_uses_the_verified_primary_address() {
    let env = oauth_app().await;
    let email = sandbox_email("gh");
    let body = env.signed_in("github", &email).await;
    assert_eq!(body["user"]["email"], email.as_str());
    let bindings: Value = env
        .get("/api/users/me/bindings", body["token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bindings["items"][0]["provider"], "github");
    assert_eq!(bindings["items"][0]["kind"], "github");
    assert_eq!(bindings["password"], false);
}

#[tokio::test]
async fn a_replayed_state_is_refused() {
    let env = oauth_app().await;
    let url = env.start("sandbox").await;
    let path = env
        .authorize(&url, "&login_hint=alice%40sandbox.test")
        .await;
    let first = env.callback(&path).await;
    assert!(param(&first, "ticket").is_some(), "{first}");
    let second = env.callback(&path).await;
    assert_eq!(second, format!("{WEB_BASE}/oauth/done?error=invalid_state"));
    // No state at all, or one never issued.
    let none = env
        .callback("/api/auth/oauth/sandbox/callback?code=x")
        .await;
    assert_eq!(param(&none, "error").as_deref(), Some("invalid_state"));
}

#[tokio::test]
async fn a_replayed_nonce_is_refused() {
    let env = oauth_app().await;
    let first = env.start("sandbox").await;
    let old_nonce = param(&first, "nonce").unwrap();
    let path = env
        .authorize(&first, "&login_hint=alice%40sandbox.test")
        .await;
    assert!(param(&env.callback(&path).await, "ticket").is_some());
    // A token minted for the first flow's nonce, brought to a second flow.
    let second = env.start("sandbox").await;
    let extra = format!("&login_hint=alice%40sandbox.test&sim_nonce={old_nonce}");
    let path = env.authorize(&second, &extra).await;
    let done = env.callback(&path).await;
    assert_eq!(
        param(&done, "error").as_deref(),
        Some("invalid_id_token"),
        "{done}"
    );
}

#[tokio::test]
async fn spoiled_id_tokens_are_refused() {
    let env = oauth_app().await;
    for sim in ["wrong_aud", "expired", "bad_sig"] {
        let done = env
            .sign_in("sandbox", "alice@sandbox.test", &format!("&sim={sim}"))
            .await;
        assert_eq!(
            param(&done, "error").as_deref(),
            Some("invalid_id_token"),
            "{sim}: {done}"
        );
    }
    assert_eq!(env.app.count("SELECT COUNT(*) FROM chat_user").await, 0);
}

#[tokio::test]
async fn an_unverified_provider_address_makes_no_account() {
    let env = oauth_app().await;
    let done = env.sign_in("sandbox", "carol@sandbox.test", "").await;
    assert_eq!(
        param(&done, "error").as_deref(),
        Some("email_not_verified"),
        "{done}"
    );
    assert_eq!(env.app.count("SELECT COUNT(*) FROM chat_user").await, 0);
}

#[tokio::test]
async fn an_existing_verified_address_is_linked_only_with_its_password() {
    let env = oauth_app().await;
    let email = sandbox_email("link");
    let (user_id, _) = env.app.signed_up(&email, PASSWORD).await;

    let ticket = env.ticket("sandbox", &email).await;
    let body = expect_error(
        env.exchange(json!({ "ticket": ticket })).await,
        409,
        "link_required",
    )
    .await;
    assert_eq!(body["error"]["email"], email.as_str());
    assert_eq!(
        env.app
            .count("SELECT COUNT(*) FROM chat_user_binding_oauth")
            .await,
        0
    );

    // A wrong password links nothing; the same ticket stays good for the proof.
    let res = env
        .exchange(json!({ "ticket": ticket, "password": "not the password" }))
        .await;
    expect_error(res, 401, "invalid_credentials").await;
    assert_eq!(
        env.app
            .count("SELECT COUNT(*) FROM chat_user_binding_oauth")
            .await,
        0
    );

    let res = env
        .exchange(json!({ "ticket": ticket, "password": PASSWORD }))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["id"], user_id.as_str());
    assert_eq!(env.app.count("SELECT COUNT(*) FROM chat_user").await, 1);

    // From now on the provider signs in to that account directly.
    let again = env.signed_in("sandbox", &email).await;
    assert_eq!(again["user"]["id"], user_id.as_str());
}

#[tokio::test]
async fn unlinking_the_last_way_in_is_refused() {
    let env = oauth_app().await;
    let email = sandbox_email("unlink");
    let body = env.signed_in("sandbox", &email).await;
    let token = body["token"].as_str().unwrap();
    let res = env.delete("/api/users/me/bindings/sandbox", token).await;
    expect_error(res, 409, "last_sign_in_method").await;
    expect_error(
        env.delete("/api/users/me/bindings/github", token).await,
        404,
        "not_linked",
    )
    .await;

    // Link GitHub while signed in.
    let res = env
        .app
        .client
        .post(env.app.url("/api/users/me/bindings/github"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let url = res.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let hint = url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>();
    let path = env.authorize(&url, &format!("&login_hint={hint}")).await;
    let done = env.callback(&path).await;
    assert_eq!(param(&done, "linked").as_deref(), Some("github"), "{done}");
    let list: Value = env
        .get("/api/users/me/bindings", token)
        .await
        .json()
        .await
        .unwrap();
    let providers: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers, ["sandbox", "github"]);

    // Now one can go, but not the other.
    assert_eq!(
        env.delete("/api/users/me/bindings/sandbox", token)
            .await
            .status(),
        204
    );
    expect_error(
        env.delete("/api/users/me/bindings/github", token).await,
        409,
        "last_sign_in_method",
    )
    .await;
    // GitHub still signs in to the same user.
    let again = env.signed_in("github", &email).await;
    assert_eq!(again["user"]["id"], body["user"]["id"]);
}

#[tokio::test]
async fn an_account_with_a_password_may_unlink_its_only_provider() {
    let env = oauth_app().await;
    let email = sandbox_email("pw");
    env.app.signed_up(&email, PASSWORD).await;
    let ticket = env.ticket("sandbox", &email).await;
    let res = env
        .exchange(json!({ "ticket": ticket, "password": PASSWORD }))
        .await;
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let list: Value = env
        .get("/api/users/me/bindings", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["password"], true);
    assert_eq!(
        env.delete("/api/users/me/bindings/sandbox", &token)
            .await
            .status(),
        204
    );
}
