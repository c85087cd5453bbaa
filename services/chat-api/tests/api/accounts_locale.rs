//! Mail in the user's language: the locale given at sign-up (or the
//! browser's Accept-Language), kept on the user and changeable.

use serde_json::{Value, json};

use crate::accounts_support::*;

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

async fn register_with(app: &crate::helpers::TestApp, body: Value, accept: Option<&str>) -> u16 {
    let mut req = app.client.post(app.url("/api/auth/register")).json(&body);
    if let Some(accept) = accept {
        req = req.header("accept-language", accept);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn the_verification_email_is_in_the_language_given_at_sign_up() {
    let app = spawn_accounts_app(&[]).await;

    let zh = email("zh");
    let body = json!({"email": zh, "password": PASSWORD, "locale": "zh-CN"});
    assert_eq!(register_with(&app, body, Some("en-US")).await, 201);
    let mail = latest_mail(&zh).await;
    let (subject, text, html) = (
        mail["subject"].as_str().unwrap(),
        mail["text"].as_str().unwrap(),
        mail["html"].as_str().unwrap(),
    );
    assert!(has_chinese(subject), "{subject}");
    assert!(has_chinese(text) && has_chinese(html), "{text}");
    assert!(!text.contains("Hello"), "{text}");
    assert!(text.contains(&format!("{PUBLIC_BASE}/api/auth/verify-email?code=")));

    let en = email("en");
    let body = json!({"email": en, "password": PASSWORD, "locale": "en"});
    assert_eq!(register_with(&app, body, Some("zh-CN,zh;q=0.9")).await, 201);
    let mail = latest_mail(&en).await;
    let text = mail["text"].as_str().unwrap();
    assert!(!has_chinese(mail["subject"].as_str().unwrap()));
    assert!(!has_chinese(text), "{text}");
    assert!(text.contains("verify"), "{text}");

    // No locale in the body: the browser's language decides.
    let browser = email("browser");
    let body = json!({"email": browser, "password": PASSWORD});
    assert_eq!(register_with(&app, body, Some("zh-TW,en;q=0.8")).await, 201);
    assert!(has_chinese(
        latest_mail(&browser).await["text"].as_str().unwrap()
    ));

    // A language we do not speak is refused, naming the field.
    let body = json!({"email": email("fr"), "password": PASSWORD, "locale": "fr"});
    let res = app.post("/api/auth/register", &body).await;
    let body = expect_error(res, 400, "invalid_request").await;
    assert!(body["error"]["fields"]["locale"].is_string(), "{body}");
}

#[tokio::test]
async fn the_locale_is_shown_kept_and_followed_by_later_mail() {
    let app = spawn_accounts_app(&[]).await;
    let address = email("switch");
    let body = json!({"email": address, "password": PASSWORD, "locale": "zh-CN"});
    assert_eq!(register_with(&app, body, None).await, 201);
    let code = code_in(&latest_mail(&address).await);
    assert_eq!(
        app.verify(&code).await,
        format!("{WEB_BASE}/verify/success")
    );
    let token = app.login_token(&address, PASSWORD).await;
    let me: Value = app.me(&token).await.json().await.unwrap();
    assert_eq!(me["locale"], "zh-CN");

    // The reset email follows the stored language.
    assert_eq!(app.request_reset(&address).await.status(), 202);
    let mail = wait_for_mails(&address, 2).await.remove(0);
    assert!(has_chinese(mail["subject"].as_str().unwrap()), "{mail}");
    assert!(
        mail["text"]
            .as_str()
            .unwrap()
            .contains(&format!("{WEB_BASE}/reset-password?code="))
    );

    // Changed to English: the next one is in English.
    let res = app
        .client
        .patch(app.url("/api/users/me"))
        .bearer_auth(&token)
        .json(&json!({"locale": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["locale"], "en");
    assert_eq!(app.request_reset(&address).await.status(), 202);
    let mail = wait_for_mails(&address, 3).await.remove(0);
    assert!(!has_chinese(mail["text"].as_str().unwrap()), "{mail}");
    assert!(
        mail["subject"].as_str().unwrap().contains("password"),
        "{mail}"
    );

    let res = app
        .client
        .patch(app.url("/api/users/me"))
        .bearer_auth(&token)
        .json(&json!({"locale": "xx"}))
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "invalid_request").await;
}
