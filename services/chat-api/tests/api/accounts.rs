//! Accounts flows over real HTTP, MariaDB, Redis and the sandbox mail sink:
//! register → email → verify → login → profile; resend; reset; logout; admins.

use chrono::DateTime;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::accounts_support::*;

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn register_verify_login_and_read_the_profile() {
    let app = spawn_accounts_app(&[]).await;
    let address = email("Flow");
    // Sent in mixed case with blanks: stored trimmed and lower-cased.
    let res = app
        .post(
            "/api/auth/register",
            &json!({"email": format!("  {}  ", address.to_uppercase()), "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let user_id = res.json::<Value>().await.unwrap()["user_id"]
        .as_str()
        .expect("user_id is a string")
        .to_owned();

    let (username, hash, verified): (String, String, bool) =
        sqlx::query_as("SELECT username, password, verified FROM chat_user_binding_email")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(username, address.to_lowercase());
    assert!(hash.starts_with("$argon2id$"), "argon2id PHC string");
    assert!(!verified);
    let (binding_user, binding_type): (i64, String) =
        sqlx::query_as("SELECT user_id, binding_type FROM chat_user_binding")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(binding_user.to_string(), user_id);
    assert_eq!(binding_type, "email");

    let mail = latest_mail(&address.to_lowercase()).await;
    assert_eq!(mail["subject"], "Verify your PayChat email");
    assert_eq!(mail["from"], "no-reply@paychat.local");
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("{PUBLIC_BASE}/api/auth/verify-email?code=")),
        "{text}"
    );
    assert!(
        mail["html"]
            .as_str()
            .unwrap()
            .contains("href=\"http://edge.test/api/auth/verify-email?code=")
    );
    let code = code_in(&mail);
    assert_eq!(code.len(), 43);

    // Only the code's SHA-256 is stored, and the send log has the link redacted.
    let (stored, biz, used): (String, i8, bool) =
        sqlx::query_as("SELECT verify_code, biz_type, is_used FROM sys_email_verify_code")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, sha256_hex(&code));
    assert_eq!(biz, 10);
    assert!(!used);
    let (status, content, message, biz): (i8, String, String, i32) =
        eventually("the send log row", || async {
            sqlx::query_as("SELECT status, content, message, biz_type FROM sys_email_send_log")
                .fetch_optional(&app.db)
                .await
                .unwrap()
        })
        .await;
    assert_eq!((status, message.as_str(), biz), (1, "success", 10));
    assert!(
        !content.contains(&code),
        "the code is never logged in clear"
    );
    assert!(content.contains("code=[redacted]"), "{content}");

    // Not verified yet: the right password is refused with 403.
    let res = app.login(&address, PASSWORD).await;
    expect_error(res, 403, "email_not_verified").await;

    assert_eq!(
        app.verify(&code).await,
        format!("{WEB_BASE}/verify/success")
    );
    assert!(app.email_verified().await);
    let (used, ip): (bool, Option<String>) =
        sqlx::query_as("SELECT is_used, verify_ip FROM sys_email_verify_code")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(used);
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    // The same link again is `used`.
    assert_eq!(
        app.verify(&code).await,
        format!("{WEB_BASE}/verify/failure?reason=used")
    );

    let res = app.login(&address, PASSWORD).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 43);
    assert!(DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).is_ok());
    let user = &body["user"];
    assert_eq!(user["id"], user_id.as_str());
    assert_eq!(user["email"], address.to_lowercase());
    assert_eq!(
        user["nickname"],
        address.to_lowercase().split('@').next().unwrap()[..16]
    );
    assert_eq!(user["description"], Value::Null);
    assert_eq!(user["role"], "user");
    assert_eq!(user["can_conversation_times"], 0);
    assert_eq!(user["last_login_ip"], "127.0.0.1");
    assert!(DateTime::parse_from_rfc3339(user["created_at"].as_str().unwrap()).is_ok());

    let res = app.me(token).await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(&me, user);

    // Both attempts are in the login log: the refused one and the good one.
    let rows = app.login_log().await;
    let uid: i64 = user_id.parse().unwrap();
    assert_eq!(
        rows,
        [
            (
                Some(uid),
                false,
                "email not verified".to_owned(),
                "127.0.0.1".to_owned()
            ),
            (
                Some(uid),
                true,
                "success".to_owned(),
                "127.0.0.1".to_owned()
            ),
        ]
    );
    let (last_ip,): (Option<String>,) = sqlx::query_as("SELECT last_login_ip FROM chat_user")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(last_ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn bad_expired_and_missing_codes_redirect_with_a_reason() {
    let app = spawn_accounts_app(&[]).await;
    let failure = |reason: &str| format!("{WEB_BASE}/verify/failure?reason={reason}");
    let bogus = "A".repeat(43);
    assert_eq!(app.verify(&bogus).await, failure("invalid"));
    assert_eq!(app.verify("' OR 1=1 --").await, failure("invalid"));
    assert_eq!(app.verify("").await, failure("invalid"));
    let res = app
        .no_redirect_client()
        .get(app.url("/api/auth/verify-email"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], failure("invalid").as_str());

    let address = email("expired");
    assert_eq!(app.register(&address, PASSWORD).await.status(), 201);
    let code = code_in(&latest_mail(&address).await);
    sqlx::query(
        "UPDATE sys_email_verify_code SET expire_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE",
    )
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(app.verify(&code).await, failure("expired"));
    assert!(!app.email_verified().await);
}

#[tokio::test]
async fn unverified_addresses_are_resent_and_verified_ones_are_taken() {
    let app = spawn_accounts_app(&[]).await;
    let address = email("again");
    let first = app.register(&address, PASSWORD).await;
    assert_eq!(first.status(), 201);
    let first_id = first.json::<Value>().await.unwrap()["user_id"].clone();
    wait_for_mails(&address, 1).await;

    // Registering again before verifying: same user, a new email, the new password.
    let second = app
        .post(
            "/api/auth/register",
            &json!({"email": address, "password": "another password", "nickname": "Second"}),
        )
        .await;
    assert_eq!(second.status(), 201);
    assert_eq!(second.json::<Value>().await.unwrap()["user_id"], first_id);
    let mails = wait_for_mails(&address, 2).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_user").await, 1);
    let code = code_in(&mails[0]);
    assert_eq!(
        app.verify(&code).await,
        format!("{WEB_BASE}/verify/success")
    );
    app.login_refused(&address, PASSWORD).await;
    let res = app.login(&address, "another password").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["user"]["nickname"],
        "Second"
    );

    // Verified now: the address is taken, whatever its case.
    let res = app.register(&address.to_uppercase(), PASSWORD).await;
    expect_error(res, 409, "email_taken").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_user").await, 1);
}

#[tokio::test]
async fn resend_verification_answers_202_without_revealing_accounts() {
    let app = spawn_accounts_app(&[]).await;
    let unknown = email("nobody");
    let res = app.resend_verification(&unknown).await;
    assert_eq!(res.status(), 202);

    let pending = email("pending");
    assert_eq!(app.register(&pending, PASSWORD).await.status(), 201);
    wait_for_mails(&pending, 1).await;
    let res = app.resend_verification(&pending).await;
    assert_eq!(res.status(), 202);
    let mails = wait_for_mails(&pending, 2).await;
    // Both links work until one is used.
    assert_eq!(
        app.verify(&code_in(&mails[0])).await,
        format!("{WEB_BASE}/verify/success")
    );

    // A verified address gets nothing more.
    let res = app.resend_verification(&pending).await;
    assert_eq!(res.status(), 202);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(mails_to(&pending).await.len(), 2);
    assert!(mails_to(&unknown).await.is_empty());
}

#[tokio::test]
async fn wrong_passwords_and_unknown_addresses_are_401_and_logged() {
    let app = spawn_accounts_app(&[]).await;
    let address = email("wrong");
    let (user_id, _) = app.signed_up(&address, PASSWORD).await;

    app.login_refused(&address, "not the password").await;
    let res = app.login(&email("ghost"), PASSWORD).await;
    let body = expect_error(res, 401, "invalid_credentials").await;
    assert_eq!(
        body["error"]["message"], "wrong email or password",
        "same answer for both"
    );
    app.login_refused(&address, "' OR 1=1 --").await;

    let rows: Vec<_> = app
        .login_log()
        .await
        .into_iter()
        .filter(|&(_, success, ..)| !success)
        .map(|(user, success, message, _)| (user, success, message))
        .collect();
    let uid: i64 = user_id.parse().unwrap();
    assert_eq!(
        rows,
        [
            (Some(uid), false, "wrong password".to_owned()),
            (None, false, "unknown email".to_owned()),
            (Some(uid), false, "wrong password".to_owned()),
        ]
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_accounts_app(&[]).await;
    let address = email("logout");
    let (_, token) = app.signed_up(&address, PASSWORD).await;
    let other = app.login_token(&address, PASSWORD).await;
    assert_eq!(app.me(&token).await.status(), 200);

    let logout = |token: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/auth/logout"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(logout(token.clone()).await.status(), 204);
    expect_error(app.me(&token).await, 401, "unauthorized").await;
    expect_error(logout(token.clone()).await, 401, "unauthorized").await;
    assert_eq!(app.me(&other).await.status(), 200, "other sessions live on");

    let res = app
        .client
        .get(app.url("/api/users/me"))
        .send()
        .await
        .unwrap();
    expect_error(res, 401, "unauthorized").await;
    expect_error(app.me(&"x".repeat(43)).await, 401, "unauthorized").await;
    expect_error(app.me("garbage").await, 401, "unauthorized").await;
    let res = app
        .client
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    expect_error(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn password_reset_ends_every_session_and_changes_the_password() {
    let app = spawn_accounts_app(&[]).await;
    let address = email("reset");
    let (_, token_a) = app.signed_up(&address, PASSWORD).await;
    let token_b = app.login_token(&address, PASSWORD).await;

    let res = app.request_reset(&address).await;
    assert_eq!(res.status(), 202);
    let mails = wait_for_mails(&address, 2).await;
    let mail = &mails[0];
    assert_eq!(mail["subject"], "Reset your PayChat password");
    assert!(
        mail["text"]
            .as_str()
            .unwrap()
            .contains(&format!("{WEB_BASE}/reset-password?code="))
    );
    let code = code_in(mail);
    let (biz,): (i8,) =
        sqlx::query_as("SELECT biz_type FROM sys_email_verify_code WHERE verify_code = ?")
            .bind(hex::encode(Sha256::digest(code.as_bytes())))
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(biz, 11);

    let confirm = |code: String, password: &'static str| {
        let app = &app;
        async move {
            app.post(
                "/api/auth/password-reset/confirm",
                &json!({"code": code, "new_password": password}),
            )
            .await
        }
    };
    expect_error(confirm(code.clone(), "short").await, 400, "weak_password").await;
    expect_error(
        confirm("B".repeat(43), "a new password").await,
        400,
        "invalid_code",
    )
    .await;
    expect_error(
        confirm("' OR 1=1 --".into(), "a new password").await,
        400,
        "invalid_code",
    )
    .await;
    // The verification link's code is no reset code.
    let verification_code = code_in(&mails[1]);
    expect_error(
        confirm(verification_code, "a new password").await,
        400,
        "invalid_code",
    )
    .await;
    assert_eq!(
        app.me(&token_a).await.status(),
        200,
        "failed attempts change nothing"
    );

    assert_eq!(confirm(code.clone(), "a new password").await.status(), 204);
    expect_error(app.me(&token_a).await, 401, "unauthorized").await;
    expect_error(app.me(&token_b).await, 401, "unauthorized").await;
    app.login_refused(&address, PASSWORD).await;
    assert_eq!(app.login(&address, "a new password").await.status(), 200);
    expect_error(confirm(code, "yet another one").await, 400, "invalid_code").await;

    // An expired code.
    let res = app.request_reset(&address).await;
    assert_eq!(res.status(), 202);
    let code = code_in(&wait_for_mails(&address, 3).await[0]);
    sqlx::query(
        "UPDATE sys_email_verify_code SET expire_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE biz_type = 11",
    )
    .execute(&app.db)
    .await
    .unwrap();
    expect_error(confirm(code, "yet another one").await, 400, "expired_code").await;

    // An unknown address: the same 202, and no mail.
    let ghost = email("ghost");
    let res = app.request_reset(&ghost).await;
    assert_eq!(res.status(), 202);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(mails_to(&ghost).await.is_empty());
}

#[tokio::test]
async fn the_profile_can_be_changed_within_limits() {
    let app = spawn_accounts_app(&[]).await;
    let (_, token) = app.signed_up(&email("profile"), PASSWORD).await;
    let patch = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            app.client
                .patch(app.url("/api/users/me"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let res = patch(json!({"nickname": "  Zoë  ", "description": "likes tea"})).await;
    assert_eq!(res.status(), 200);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["nickname"], "Zoë");
    assert_eq!(user["description"], "likes tea");

    let res = patch(json!({"description": ""})).await;
    assert_eq!(res.status(), 200);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["description"], Value::Null);
    assert_eq!(user["nickname"], "Zoë", "untouched");

    let body = expect_error(
        patch(json!({"nickname": "n".repeat(17)})).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(body["error"]["fields"]["nickname"].is_string());
    let body = expect_error(patch(json!({"nickname": ""})).await, 400, "invalid_request").await;
    assert!(body["error"]["fields"]["nickname"].is_string());
    let body = expect_error(
        patch(json!({"description": "d".repeat(65)})).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(body["error"]["fields"]["description"].is_string());
    let body = expect_error(
        patch(json!({"description": "bell\u{7}"})).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(body["error"]["fields"]["description"].is_string());
    expect_error(patch(json!({"nickname": 5})).await, 400, "invalid_request").await;

    let me: Value = app.me(&token).await.json().await.unwrap();
    assert_eq!(me["nickname"], "Zoë");
    assert_eq!(me["description"], Value::Null);
}

#[tokio::test]
async fn admin_emails_get_the_admin_role() {
    let boss = email("boss");
    let app = spawn_accounts_app(&[(
        "admin_emails",
        format!("someone@example.com, {}", boss.to_uppercase()),
    )])
    .await;
    let (_, token) = app.signed_up(&boss, PASSWORD).await;
    assert_eq!(app.stored_role().await, "admin", "stored at registration");
    let me: Value = app.me(&token).await.json().await.unwrap();
    assert_eq!(me["role"], "admin");

    // Set again at login, and carried by the session.
    sqlx::query("UPDATE chat_user SET role = 'user'")
        .execute(&app.db)
        .await
        .unwrap();
    let res = app.login(&boss, PASSWORD).await;
    assert_eq!(res.json::<Value>().await.unwrap()["user"]["role"], "admin");
    assert_eq!(app.stored_role().await, "admin");

    let (_, token) = app.signed_up(&email("plain"), PASSWORD).await;
    let me: Value = app.me(&token).await.json().await.unwrap();
    assert_eq!(me["role"], "user");
}

#[tokio::test]
async fn a_failed_send_is_logged_and_registration_still_answers() {
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_accounts_app(&[
        ("smtp_port", port.to_string()),
        ("smtp_timeout_ms", "2000".into()),
    ])
    .await;
    let address = email("unsent");
    assert_eq!(app.register(&address, PASSWORD).await.status(), 201);
    let (status, message, to): (i8, String, String) =
        eventually("the failed send log row", || async {
            sqlx::query_as("SELECT status, message, to_email_address FROM sys_email_send_log")
                .fetch_optional(&app.db)
                .await
                .unwrap()
        })
        .await;
    assert_eq!(status, 0);
    assert_eq!(to, address);
    assert!(!message.is_empty() && message != "success", "{message}");
}

#[tokio::test]
async fn the_openapi_document_lists_the_accounts_routes() {
    let app = spawn_accounts_app(&[]).await;
    let doc: Value = app
        .client
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, method) in [
        ("/api/auth/register", "post"),
        ("/api/auth/verify-email", "get"),
        ("/api/auth/resend-verification", "post"),
        ("/api/auth/login", "post"),
        ("/api/auth/logout", "post"),
        ("/api/auth/password-reset", "post"),
        ("/api/auth/password-reset/confirm", "post"),
        ("/api/users/me", "get"),
        ("/api/users/me", "patch"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing"
        );
    }
    assert!(doc["components"]["schemas"]["User"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}
