//! The stand-in providers end to end: discovery, authorize with `login_hint`,
//! the token request with PKCE, the ID token checked against the JWKS, userinfo,
//! the GitHub shapes, and the switches that spoil tokens.

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use paychat_sandbox_oidc::{Settings, router, state};
use serde_json::Value;

const VERIFIER: &str = "a-long-enough-pkce-verifier-0123456789-abcdefghijklmnop";

async fn start() -> String {
    let settings = Settings::load(Vec::<String>::new(), |_| None).expect("settings");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let bound = listener.local_addr().expect("addr");
    let app = router(state(&settings, bound).expect("state"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{bound}")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn challenge() -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, VERIFIER.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Follows authorize with `extra` and answers the code from the redirect.
async fn code(base: &str, extra: &str) -> String {
    let url = format!(
        "{base}/authorize?response_type=code&client_id=paychat-sandbox&scope=openid%20email\
         &redirect_uri=http%3A%2F%2Fapp.test%2Fcb&state=s1&nonce=n1&code_challenge={}\
         &code_challenge_method=S256{extra}",
        challenge()
    );
    let res = client().get(url).send().await.expect("authorize");
    assert_eq!(res.status(), 303, "{:?}", res.text().await);
    let location = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let url = url::Url::parse(&location).expect("redirect");
    assert!(location.starts_with("http://app.test/cb?"));
    assert!(url.query_pairs().any(|(k, v)| k == "state" && v == "s1"));
    code_of(&url)
}

/// The `code` parameter of a redirect back to the client.
fn code_of(redirect: &url::Url) -> String {
    redirect
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code")
}

/// GETs `url` (with `bearer` as the access token, when given) and reads JSON.
async fn get_json(url: String, bearer: Option<&str>) -> Value {
    let mut request = client().get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

async fn token(base: &str, code: &str, verifier: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/token"))
        .basic_auth("paychat-sandbox", Some("sandbox-secret-not-real"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", "http://app.test/cb"),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token")
}

/// The claims of `jwt` if its signature verifies against `jwks`.
fn verify(jwt: &str, jwks: &Value) -> Option<Value> {
    let (input, sig) = jwt.rsplit_once('.')?;
    let key = &jwks["keys"][0];
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str()?).ok()?;
    let e = URL_SAFE_NO_PAD.decode(key["e"].as_str()?).ok()?;
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            input.as_bytes(),
            &URL_SAFE_NO_PAD.decode(sig).ok()?,
        )
        .ok()?;
    let payload = input.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[tokio::test]
async fn code_flow_with_pkce_gives_a_signed_id_token() {
    let base = start().await;
    let discovery: Value = get_json(format!("{base}/.well-known/openid-configuration"), None).await;
    assert_eq!(discovery["issuer"], base.as_str());
    let jwks: Value = get_json(format!("{base}/jwks"), None).await;

    let code = code(&base, "&login_hint=alice%40sandbox.test").await;
    // A wrong verifier spends nothing but is refused... and the code is gone.
    let res = token(
        &base,
        &code,
        "wrong-verifier-wrong-verifier-wrong-verifier-00",
    )
    .await;
    assert_eq!(res.status(), 400);
    let code = self::code(&base, "&login_hint=alice%40sandbox.test").await;
    let res = token(&base, &code, VERIFIER).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    let claims =
        verify(body["id_token"].as_str().expect("id_token"), &jwks).expect("valid signature");
    assert_eq!(claims["iss"], base.as_str());
    assert_eq!(claims["aud"], "paychat-sandbox");
    assert_eq!(claims["nonce"], "n1");
    assert_eq!(claims["email"], "alice@sandbox.test");
    assert_eq!(claims["email_verified"], true);
    // The code works once.
    assert_eq!(token(&base, &code, VERIFIER).await.status(), 400);

    let info: Value = get_json(
        format!("{base}/userinfo"),
        Some(body["access_token"].as_str().expect("access_token")),
    )
    .await;
    assert_eq!(info["sub"], claims["sub"]);
}

#[tokio::test]
async fn switches_spoil_the_id_token() {
    let base = start().await;
    let jwks: Value = get_json(format!("{base}/jwks"), None).await;
    let hint = "&login_hint=bob%40sandbox.test";
    let mint = |extra: String| {
        let base = base.clone();
        async move {
            let code = code(&base, &format!("{hint}{extra}")).await;
            let body: Value = token(&base, &code, VERIFIER)
                .await
                .json()
                .await
                .expect("json");
            body["id_token"].as_str().expect("id_token").to_owned()
        }
    };
    let bad = mint("&sim=bad_sig".into()).await;
    assert!(verify(&bad, &jwks).is_none());
    let expired = verify(&mint("&sim=expired".into()).await, &jwks).expect("signed");
    assert!(expired["exp"].as_u64() < expired["iat"].as_u64().map(|i| i + 7200));
    let aud = verify(&mint("&sim=wrong_aud".into()).await, &jwks).expect("signed");
    assert_eq!(aud["aud"], "another-client");
    let nonce = verify(&mint("&sim_nonce=old".into()).await, &jwks).expect("signed");
    assert_eq!(nonce["nonce"], "old");
}

#[tokio::test]
async fn login_page_lists_users_and_github_answers_in_its_shapes() {
    let base = start().await;
    let page = client()
        .get(format!(
            "{base}/authorize?response_type=code&client_id=paychat-sandbox&scope=openid\
             &redirect_uri=http%3A%2F%2Fapp.test%2Fcb&state=s&code_challenge=x&code_challenge_method=S256"
        ))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains(r#"value="alice@sandbox.test""#));
    let users: Value = get_json(format!("{base}/sim/users"), None).await;
    assert_eq!(users["items"][0]["email"], "alice@sandbox.test");

    let res = client()
        .get(format!(
            "{base}/github/login/oauth/authorize?client_id=paychat-sandbox\
             &redirect_uri=http%3A%2F%2Fapp.test%2Fgh&state=g&login_hint=alice%40sandbox.test"
        ))
        .send()
        .await
        .expect("authorize");
    let location = url::Url::parse(res.headers()["location"].to_str().expect("loc")).expect("url");
    let code = code_of(&location);
    let body: Value = client()
        .post(format!("{base}/github/login/oauth/access_token"))
        .header("accept", "application/json")
        .form(&[
            ("client_id", "paychat-sandbox"),
            ("client_secret", "sandbox-secret-not-real"),
            ("code", &code),
            ("redirect_uri", "http://app.test/gh"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = body["access_token"].as_str().expect("token");
    let emails: Value = get_json(format!("{base}/github/api/user/emails"), Some(token)).await;
    assert_eq!(emails[0]["email"], "alice@sandbox.test");
    assert_eq!(emails[0]["primary"], true);
    assert_eq!(emails[0]["verified"], true);
}
