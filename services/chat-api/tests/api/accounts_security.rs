//! Accounts at the edges: validation, body limits, SQL-looking input, rate
//! limits, what error bodies may contain, and readiness when Redis goes away.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::accounts_support::*;
use crate::helpers::spawn_app_with;

#[tokio::test]
async fn invalid_registrations_are_400_and_store_nothing() {
    let app = spawn_accounts_app(&[]).await;
    let bad_email = |address: &str| {
        (
            json!({"email": address, "password": PASSWORD}),
            "invalid_email",
            "email",
        )
    };
    let cases = [
        bad_email("' OR 1=1 --"),
        bad_email("x' OR '1'='1@example.com"),
        bad_email("not-an-address"),
        bad_email(""),
        bad_email(&format!("{}@example.com", "a".repeat(60))),
        bad_email("a\u{0}b@example.com"),
        (
            json!({"email": email("weak"), "password": "1234567"}),
            "weak_password",
            "password",
        ),
        (
            json!({"email": email("long"), "password": "p".repeat(129)}),
            "weak_password",
            "password",
        ),
        (
            json!({"email": email("nick"), "password": PASSWORD, "nickname": "n".repeat(17)}),
            "invalid_request",
            "nickname",
        ),
        (
            json!({"email": email("nick"), "password": PASSWORD, "nickname": "tab\there"}),
            "invalid_request",
            "nickname",
        ),
        (
            json!({"email": email("nick"), "password": PASSWORD, "nickname": "'; DROP TABLE chat_user; --"}),
            "invalid_request",
            "nickname",
        ),
    ];
    for (body, code, field) in cases {
        let res = app.post("/api/auth/register", &body).await;
        let err = expect_error(res, 400, code).await;
        assert!(err["error"]["fields"][field].is_string(), "{body} → {err}");
    }
    for (sql, what) in [
        ("SELECT COUNT(*) FROM chat_user", "users"),
        ("SELECT COUNT(*) FROM chat_user_binding_email", "identities"),
        ("SELECT COUNT(*) FROM chat_user_binding", "bindings"),
        ("SELECT COUNT(*) FROM sys_email_verify_code", "codes"),
    ] {
        assert_eq!(app.count(sql).await, 0, "no {what} stored");
    }

    // SQL-looking text that fits is just data.
    let address = email("data");
    let res = app
        .post(
            "/api/auth/register",
            &json!({"email": address, "password": "' OR 1=1 -- pw", "nickname": "' OR 1=1 --"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let (nickname,): (String,) = sqlx::query_as("SELECT nickname FROM chat_user")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(nickname, "' OR 1=1 --");
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_user").await, 1);
}

#[tokio::test]
async fn malformed_and_oversized_bodies() {
    let app = spawn_accounts_app(&[]).await;
    let raw = |path: &'static str, body: Vec<u8>, content_type: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url(path))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    for path in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/resend-verification",
        "/api/auth/password-reset",
        "/api/auth/password-reset/confirm",
    ] {
        for (body, content_type) in [
            (&b"{\"email\": "[..], "application/json"),
            (
                &b"{\"email\": 12, \"password\": []}"[..],
                "application/json",
            ),
            (&b"email=a"[..], "application/x-www-form-urlencoded"),
        ] {
            expect_error(
                raw(path, body.to_vec(), content_type).await,
                400,
                "invalid_request",
            )
            .await;
        }
        let huge = format!("{{\"email\": \"{}\"}}", "a".repeat(1024 * 1024)).into_bytes();
        expect_error(
            raw(path, huge, "application/json").await,
            413,
            "payload_too_large",
        )
        .await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_user").await, 0);
}

#[tokio::test]
async fn login_failures_are_rate_limited_per_address_and_per_ip() {
    let app = spawn_login_limited(3, 6).await;
    let address = email("limited");
    app.signed_up(&address, PASSWORD).await;
    for _ in 0..3 {
        app.login_refused(&address, "wrong password").await;
    }
    let res = app.login(&address, "wrong password").await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    expect_error(res, 429, "rate_limited").await;
    // Even the right password waits now.
    expect_error(app.login(&address, PASSWORD).await, 429, "rate_limited").await;
    let (status, message): (bool, String) = sqlx::query_as(
        "SELECT login_status, message FROM chat_user_login_log ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((status, message.as_str()), (false, "rate limited"));

    // Other addresses are still judged, until the IP's own limit (6 failures) is reached.
    for _ in 0..3 {
        app.login_refused(&email("other"), "wrong password").await;
    }
    let res = app.login(&email("other"), "wrong password").await;
    assert!(res.headers().contains_key("retry-after"));
    expect_error(res, 429, "rate_limited").await;
}

#[tokio::test]
async fn emails_and_registrations_are_rate_limited() {
    let app = spawn_accounts_app(&[
        ("mail_limit_email", "2".into()),
        ("mail_limit_ip", "6".into()),
    ])
    .await;
    let address = email("mails");
    assert_eq!(app.register(&address, PASSWORD).await.status(), 201);
    assert_eq!(app.resend_verification(&address).await.status(), 202);
    let res = app.resend_verification(&address).await;
    assert!(res.headers().contains_key("retry-after"));
    expect_error(res, 429, "rate_limited").await;
    let res = app.request_reset(&address).await;
    expect_error(res, 429, "rate_limited").await;
    assert_eq!(wait_for_mails(&address, 2).await.len(), 2);

    // The IP's budget (6, four spent above) is shared by every address.
    assert_eq!(app.resend_verification(&email("a")).await.status(), 202);
    assert_eq!(app.resend_verification(&email("b")).await.status(), 202);
    let res = app.resend_verification(&email("c")).await;
    expect_error(res, 429, "rate_limited").await;

    // Registrations per IP: two attempts in the window (valid or not), then 429.
    let app = spawn_accounts_app(&[("register_limit_ip", "2".into())]).await;
    assert_eq!(app.register(&email("r1"), PASSWORD).await.status(), 201);
    expect_error(app.register("junk", PASSWORD).await, 400, "invalid_email").await;
    let res = app.register(&email("r3"), PASSWORD).await;
    assert!(res.headers().contains_key("retry-after"));
    expect_error(res, 429, "rate_limited").await;
}

#[tokio::test]
async fn error_bodies_never_show_internals() {
    let app = spawn_accounts_app(&[]).await;
    let mut bodies = Vec::new();
    for (path, body) in [
        (
            "/api/auth/register",
            "{\"email\": \"' OR 1=1 --\", \"password\": \"x\"}",
        ),
        (
            "/api/auth/register",
            "{\"email\": \"a@example.com\", \"password\": \"'); DROP TABLE chat_user; --\", \"nickname\": \"\\u0000\"}",
        ),
        ("/api/auth/register", "[1, 2, 3]"),
        ("/api/auth/register", "{\"email\": null}"),
        (
            "/api/auth/login",
            "{\"email\": \"a@example.com\", \"password\": \"' OR '1'='1\"}",
        ),
        (
            "/api/auth/login",
            "{\"email\": \"' UNION SELECT 1 --\", \"password\": \"x\"}",
        ),
        ("/api/auth/login", "{"),
        (
            "/api/auth/password-reset/confirm",
            "{\"code\": \"' OR 1=1 --\", \"new_password\": \"whatever123\"}",
        ),
        ("/api/auth/password-reset/confirm", "{\"code\": 1}"),
    ] {
        let res = app
            .client
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_client_error(),
            "{path} {body}: {}",
            res.status()
        );
        bodies.push(res.text().await.unwrap());
    }
    for path in ["/api/users/me", "/api/nope", "/api/auth/verify-email/extra"] {
        let res = app
            .client
            .get(app.url(path))
            .bearer_auth("' OR 1=1 --")
            .send()
            .await
            .unwrap();
        bodies.push(res.text().await.unwrap());
    }
    for body in &bodies {
        assert_clean(body);
        let parsed: Value = serde_json::from_str(body).unwrap();
        assert!(parsed["error"]["code"].is_string(), "{body}");
    }
}

/// A Redis of the test's own on `port`, stopped when dropped.
fn start_redis(port: u16) -> Child {
    Command::new("redis-server")
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("starting redis-server (is it installed? `make stack` installs it)")
}

async fn wait_port(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis on {port} did not start");
}

#[tokio::test]
async fn readyz_follows_redis_going_away_and_coming_back() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = start_redis(port);
    wait_port(port).await;
    let app = spawn_app_with(&[("redis_url", format!("redis://127.0.0.1:{port}/"))]).await;
    let ready = || async {
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    // Asks every 250 ms, at most `tries` times, until the status is `want`.
    let ready_becomes = |want: u16, tries: usize| async move {
        let mut status = 0;
        for _ in 0..tries {
            status = ready().await;
            if status == want {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        status
    };
    assert_eq!(ready().await, 200);

    redis.kill().await.unwrap();
    redis.wait().await.unwrap();
    assert_eq!(ready_becomes(503, 60).await, 503, "Redis is down");
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["redis"], "unavailable");
    assert_eq!(body["checks"]["database"], "ok");
    // Sessions live in Redis: a request that needs one fails cleanly, leaking nothing.
    let res = app.me(&"x".repeat(43)).await;
    assert!(res.status().is_server_error(), "{}", res.status());
    assert_clean(&res.text().await.unwrap());

    let _redis = start_redis(port);
    wait_port(port).await;
    assert_eq!(ready_becomes(200, 80).await, 200, "Redis is back");
}

#[tokio::test]
async fn an_office_behind_one_address_can_sign_up_and_reset_with_the_default_limits() {
    // Default limits: the per-IP ones are sized for many people sharing one
    // address (an office behind NAT); the per-address ones stay tight.
    let app = spawn_accounts_app(&[]).await;
    let office = "203.0.113.7";
    let mut addresses = Vec::new();
    for i in 0..30 {
        let address = email(&format!("office{i}"));
        let res = app
            .client
            .post(app.url("/api/auth/register"))
            .header("x-forwarded-for", office)
            .json(&json!({"email": address, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "sign-up {i} from the shared address");
        addresses.push(address);
    }
    for (i, address) in addresses.iter().enumerate() {
        let res = app
            .client
            .post(app.url("/api/auth/password-reset"))
            .header("x-forwarded-for", office)
            .json(&json!({"email": address}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202, "reset {i} from the shared address");
    }
    // One address still gets few mails: the sign-up's and the reset's, then
    // three more, then 429 with Retry-After.
    let one = &addresses[0];
    for _ in 0..3 {
        assert_eq!(app.request_reset(one).await.status(), 202);
    }
    let res = app.request_reset(one).await;
    assert!(res.headers().contains_key("retry-after"));
    expect_error(res, 429, "rate_limited").await;
}
