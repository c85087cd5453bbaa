//! Accounts test set-up: the shared sandbox mail sink (started with the stack,
//! or by hand: `cargo run -p paychat-sandbox-mail`), found at
//! `PAYCHAT_TEST_MAIL_HTTP` (default `http://127.0.0.1:8025`) with its SMTP side
//! at `PAYCHAT_TEST_MAIL_SMTP` (default 2525). Each test uses addresses of its
//! own and reads only the mail sent to them.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

/// Where the web app is said to be in tests, so redirects are easy to check.
pub const WEB_BASE: &str = "http://web.test";
pub const PUBLIC_BASE: &str = "http://edge.test";
pub const PASSWORD: &str = "correct horse battery";

pub fn mail_http() -> String {
    let value = std::env::var("PAYCHAT_TEST_MAIL_HTTP").unwrap_or_else(|_| "8025".into());
    match value.parse::<u16>() {
        Ok(port) => format!("http://127.0.0.1:{port}"),
        Err(_) => value.trim_end_matches('/').to_owned(),
    }
}

fn mail_smtp_port() -> String {
    std::env::var("PAYCHAT_TEST_MAIL_SMTP").unwrap_or_else(|_| "2525".into())
}

/// chat-api with mail going to the sink and known base URLs.
pub async fn spawn_accounts_app(extra: &[(&str, String)]) -> TestApp {
    let mut overrides: Vec<(&str, String)> = vec![
        ("smtp_host", "127.0.0.1".into()),
        ("smtp_port", mail_smtp_port()),
        ("smtp_tls", "none".into()),
        ("public_base_url", PUBLIC_BASE.into()),
        ("web_base_url", WEB_BASE.into()),
    ];
    overrides.extend(extra.iter().cloned());
    spawn_app_with(&overrides).await
}

/// A fresh address for this test.
/// The accounts app with these limits on failed logins per address and per IP.
pub async fn spawn_login_limited(per_email: u32, per_ip: u32) -> TestApp {
    spawn_accounts_app(&[
        ("login_fail_limit_email", per_email.to_string()),
        ("login_fail_limit_ip", per_ip.to_string()),
    ])
    .await
}

pub fn email(tag: &str) -> String {
    format!("{tag}.{}@example.com", paychat_common::testing::unique(""))
}

/// Mail the sink holds for `to`, newest first.
pub async fn mails_to(to: &str) -> Vec<Value> {
    let base = mail_http();
    let res = reqwest::Client::new()
        .get(
            reqwest::Url::parse_with_params(&format!("{base}/api/messages"), [("to", to)]).unwrap(),
        )
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "the sandbox mail sink is not answering at {base} ({e}): start it with \
                 `cargo build -p paychat-sandbox-mail && target/debug/paychat-sandbox-mail &` \
                 (or `make stack`), or point PAYCHAT_TEST_MAIL_HTTP/PAYCHAT_TEST_MAIL_SMTP at one"
            )
        });
    assert!(
        res.status().is_success(),
        "mail sink answered {}",
        res.status()
    );
    res.json().await.unwrap()
}

/// Waits until `to` has received `count` messages; returns them, newest first.
pub async fn wait_for_mails(to: &str, count: usize) -> Vec<Value> {
    for _ in 0..100 {
        let mails = mails_to(to).await;
        if mails.len() >= count {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{to} did not receive {count} email(s) within 10 s");
}

pub async fn latest_mail(to: &str) -> Value {
    wait_for_mails(to, 1).await.remove(0)
}

/// The `code` parameter of the link in a mail's text.
pub fn code_in(mail: &Value) -> String {
    let text = mail["text"].as_str().expect("a text part");
    let start = text.find("code=").expect("a link with a code") + "code=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Polls `f` until it answers `Some`, for rows written after the response.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..100 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 10 s");
}

impl TestApp {
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, email: &str, password: &str) -> reqwest::Response {
        self.post(
            "/api/auth/register",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post(
            "/api/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Asserts that signing in with these credentials is refused (401
    /// `invalid_credentials`).
    pub async fn login_refused(&self, email: &str, password: &str) {
        expect_error(
            self.login(email, password).await,
            401,
            "invalid_credentials",
        )
        .await;
    }

    /// The login log, oldest first: each attempt's user, success, message and IP.
    pub async fn login_log(&self) -> Vec<(Option<i64>, bool, String, String)> {
        sqlx::query_as(
            "SELECT user_id, login_status, message, login_ip FROM chat_user_login_log ORDER BY id",
        )
        .fetch_all(&self.db)
        .await
        .unwrap()
    }

    /// Follows a verification link (without following the redirect); answers
    /// the `Location`.
    pub async fn verify(&self, code: &str) -> String {
        let res = self
            .no_redirect_client()
            .get(
                reqwest::Url::parse_with_params(
                    &self.url("/api/auth/verify-email"),
                    [("code", code)],
                )
                .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302);
        res.headers()["location"].to_str().unwrap().to_owned()
    }

    pub fn no_redirect_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Registers, verifies from the emailed link and logs in; answers the
    /// user id and a token.
    pub async fn signed_up(&self, email: &str, password: &str) -> (String, String) {
        let res = self.register(email, password).await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let user_id = res.json::<Value>().await.unwrap()["user_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let code = code_in(&latest_mail(email).await);
        assert_eq!(
            self.verify(&code).await,
            format!("{WEB_BASE}/verify/success")
        );
        (user_id, self.login_token(email, password).await)
    }

    /// Logs in (which must succeed); answers the new session's token.
    pub async fn login_token(&self, email: &str, password: &str) -> String {
        let res = self.login(email, password).await;
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Asks for a fresh verification email for `email`.
    pub async fn resend_verification(&self, email: &str) -> reqwest::Response {
        self.post("/api/auth/resend-verification", &json!({ "email": email }))
            .await
    }

    /// Asks for a password-reset email for `email`.
    pub async fn request_reset(&self, email: &str) -> reqwest::Response {
        self.post("/api/auth/password-reset", &json!({ "email": email }))
            .await
    }

    pub async fn me(&self, token: &str) -> reqwest::Response {
        self.client
            .get(self.url("/api/users/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Whether the one email binding in this test's database is verified.
    pub async fn email_verified(&self) -> bool {
        let (verified,): (bool,) = sqlx::query_as("SELECT verified FROM chat_user_binding_email")
            .fetch_one(&self.db)
            .await
            .unwrap();
        verified
    }

    /// The role stored for the one user in this test's database.
    pub async fn stored_role(&self) -> String {
        let (role,): (String,) = sqlx::query_as("SELECT role FROM chat_user")
            .fetch_one(&self.db)
            .await
            .unwrap();
        role
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }
}

/// Asserts an error response's status and code; answers the body.
pub async fn expect_error(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status);
    let text = res.text().await.unwrap();
    assert_clean(&text);
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    body
}

/// No SQL, stack trace, internal name or secret in a body.
pub fn assert_clean(body: &str) {
    let lower = body.to_lowercase();
    for word in [
        "select",
        "insert",
        "update ",
        "sqlx",
        "mysql",
        "mariadb",
        "panicked",
        "begin",
        "stack",
        "backtrace",
        "argon2",
        "redis",
        "src/",
        ".rs:",
        "password_hash",
        "sys_email",
        "chat_user",
    ] {
        assert!(!lower.contains(word), "{word:?} in a response body: {body}");
    }
}
