//! Accounts under concurrency: a login flood's memory, limits that hold when
//! many requests arrive at once, concurrent sign-ups, and re-registration.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use futures::future::join_all;
use serde_json::json;

use crate::accounts_support::{
    PASSWORD, WEB_BASE, code_in, email, expect_error, spawn_accounts_app, spawn_login_limited,
    wait_for_mails,
};
use crate::helpers::TestApp;

/// How many requests answered each status.
fn tally(statuses: &[u16]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for status in statuses {
        *counts.entry(*status).or_default() += 1;
    }
    counts
}

/// The resident set of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The built chat-api binary as a process of its own (so its memory is its
/// own), on a fresh database; killed when dropped.
struct ChatApiProcess {
    /// Killed when dropped.
    _child: tokio::process::Child,
    pid: u32,
    address: String,
    db: sqlx::MySqlPool,
}

impl ChatApiProcess {
    async fn start(extra: &[(&str, &str)]) -> Self {
        let database_url = paychat_common::testing::fresh_database().await.unwrap();
        let port = paychat_common::testing::free_port().unwrap();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_paychat-chat-api"));
        command
            .current_dir(root)
            .env("PAYCHAT_CONFIG_FILE", format!("{root}/config/default.toml"))
            .env("PAYCHAT_DATABASE_URL", &database_url)
            .env(
                "PAYCHAT_REDIS_PREFIX",
                paychat_common::testing::unique("t") + ":",
            )
            .env("PAYCHAT_CHAT_BIND", format!("127.0.0.1:{port}"))
            .env("PAYCHAT_LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (key, value) in extra {
            command.env(paychat_common::config::env_name(key), value);
        }
        let child = command.spawn().unwrap();
        let pid = child.id().unwrap();
        let address = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let started = Instant::now();
        while client
            .get(format!("{address}/healthz"))
            .send()
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chat-api did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self {
            _child: child,
            pid,
            address,
            db: sqlx::MySqlPool::connect(&database_url).await.unwrap(),
        }
    }

    /// `count` verified accounts `flood<i>@example.com`, all with `password`.
    async fn accounts(&self, count: usize, password: &str) {
        let salt = SaltString::generate(&mut OsRng);
        let phc = argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string();
        let mut tx = self.db.begin().await.unwrap();
        for i in 0..count {
            let id = 1_000_000 + i64::try_from(i).unwrap() * 3;
            sqlx::query("INSERT INTO chat_user (id, nickname) VALUES (?, ?)")
                .bind(id)
                .bind(format!("flood{i}"))
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query(
                "INSERT INTO chat_user_binding_email (id, username, password, verified) \
                 VALUES (?, ?, ?, 1)",
            )
            .bind(id + 1)
            .bind(format!("flood{i}@example.com"))
            .bind(&phc)
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO chat_user_binding (id, binding_type, user_binding_email_id, user_id) \
                 VALUES (?, 'email', ?, ?)",
            )
            .bind(id + 2)
            .bind(id + 1)
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn a_login_flood_leaves_memory_where_it_was() {
    const FLOOD: usize = 300;
    const ALLOWED_GROWTH_KIB: u64 = 256 * 1024;
    let app = ChatApiProcess::start(&[]).await;
    app.accounts(FLOOD, PASSWORD).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let login = |i: usize, password: &'static str| {
        let client = client.clone();
        let url = format!("{}/api/auth/login", app.address);
        async move {
            client
                .post(url)
                // Each from an address of its own, so no per-IP limit is reached.
                .header(
                    "x-forwarded-for",
                    format!("10.9.{}.{}", i / 250, i % 250 + 1),
                )
                .json(&json!({"email": format!("flood{i}@example.com"), "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // A settled process: connections open, the first hashes done.
    for i in 0..4 {
        assert_eq!(login(FLOOD + i, "wrong password").await, 401);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(app.pid);

    let peak = Arc::new(AtomicU64::new(before));
    let sampler = tokio::spawn({
        let (peak, pid) = (peak.clone(), app.pid);
        async move {
            loop {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    });
    let started = Instant::now();
    let statuses = join_all((0..FLOOD).map(|i| login(i, "wrong password"))).await;
    let flood_secs = started.elapsed().as_secs_f64();
    sampler.abort();
    let peak = peak.load(Ordering::Relaxed).max(rss_kib(app.pid));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(app.pid);
    let counts = tally(&statuses);
    eprintln!(
        "login flood of {FLOOD}: {counts:?} in {flood_secs:.1} s; RSS before {before} KiB, \
         at most {peak} KiB during it, a second later {after} KiB"
    );
    assert!(
        counts.keys().all(|s| [401, 429, 503].contains(s)),
        "{counts:?}"
    );
    assert!(
        after.saturating_sub(before) < ALLOWED_GROWTH_KIB,
        "RSS grew from {before} KiB to {after} KiB"
    );
    assert!(
        peak.saturating_sub(before) < ALLOWED_GROWTH_KIB,
        "RSS grew from {before} KiB to {peak} KiB"
    );
    // Still serving: a right password signs in once the flood is over.
    assert_eq!(login(0, PASSWORD).await, 200);
}

impl TestApp {
    /// `POST path` with `body` as if from `ip` (the edge's X-Forwarded-For).
    async fn post_from(&self, ip: &str, path: &str, body: &serde_json::Value) -> u16 {
        self.client
            .post(self.url(path))
            .header("x-forwarded-for", ip)
            .json(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn login_messages(&self) -> BTreeMap<String, i64> {
        sqlx::query_as::<_, (String, i64)>(
            "SELECT message, COUNT(*) FROM chat_user_login_log GROUP BY message",
        )
        .fetch_all(&self.db)
        .await
        .unwrap()
        .into_iter()
        .collect()
    }
}

#[tokio::test]
async fn concurrent_wrong_passwords_reach_the_check_at_most_the_limit() {
    let app = spawn_login_limited(10, 1000).await;
    let address = email("race");
    app.signed_up(&address, PASSWORD).await;
    let body = json!({"email": address, "password": "wrong password"});
    let statuses =
        join_all((0..50).map(|_| app.post_from("10.7.0.1", "/api/auth/login", &body))).await;
    let counts = tally(&statuses);
    assert!(counts.keys().all(|s| [401, 429].contains(s)), "{counts:?}");
    let messages = app.login_messages().await;
    let checked = messages.get("wrong password").copied().unwrap_or(0);
    assert!(
        checked <= 10,
        "{checked} reached the password check: {messages:?}"
    );
    assert_eq!(
        counts.get(&401).copied().unwrap_or(0),
        usize::try_from(checked).unwrap()
    );

    // The same for one IP trying many addresses.
    let app = spawn_login_limited(1000, 10).await;
    let app = &app;
    let statuses = join_all((0..50).map(|i| {
        let body = json!({"email": format!("nobody{i}@example.com"), "password": "x"});
        async move { app.post_from("10.7.0.2", "/api/auth/login", &body).await }
    }))
    .await;
    let counts = tally(&statuses);
    assert!(counts.keys().all(|s| [401, 429].contains(s)), "{counts:?}");
    let messages = app.login_messages().await;
    let checked = messages.get("unknown email").copied().unwrap_or(0);
    assert!(
        checked <= 10,
        "{checked} reached the password check: {messages:?}"
    );
}

#[tokio::test]
async fn a_right_password_gives_its_attempt_back() {
    let app = spawn_accounts_app(&[("login_fail_limit_email", "3".into())]).await;
    let address = email("back");
    app.signed_up(&address, PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(app.login(&address, PASSWORD).await.status(), 200);
    }
    for _ in 0..3 {
        app.login_refused(&address, "wrong password").await;
    }
    expect_error(app.login(&address, PASSWORD).await, 429, "rate_limited").await;
}

#[tokio::test]
async fn concurrent_mail_requests_send_at_most_the_limit() {
    let app = spawn_accounts_app(&[
        ("mail_limit_email", "5".into()),
        ("mail_limit_ip", "1000".into()),
    ])
    .await;
    let address = email("mailrace");
    assert_eq!(app.register(&address, PASSWORD).await.status(), 201);
    let body = json!({"email": address});
    let statuses = join_all(
        (0..50).map(|_| app.post_from("10.7.0.3", "/api/auth/resend-verification", &body)),
    )
    .await;
    let counts = tally(&statuses);
    assert!(counts.keys().all(|s| [202, 429].contains(s)), "{counts:?}");
    assert_eq!(counts.get(&202), Some(&4), "{counts:?}");
    let codes = app
        .count("SELECT COUNT(*) FROM sys_email_verify_code")
        .await;
    assert_eq!(codes, 5);

    // Per IP, across addresses.
    let app = spawn_accounts_app(&[
        ("mail_limit_email", "1000".into()),
        ("mail_limit_ip", "5".into()),
    ])
    .await;
    let app = &app;
    let statuses = join_all((0..50).map(|i| {
        let body = json!({"email": format!("nobody{i}@example.com")});
        async move {
            app.post_from("10.7.0.4", "/api/auth/password-reset", &body)
                .await
        }
    }))
    .await;
    let counts = tally(&statuses);
    assert_eq!(counts.get(&202), Some(&5), "{counts:?}");
}

/// Settings under which only concurrency itself can fail a registration.
fn roomy() -> Vec<(&'static str, String)> {
    vec![
        ("register_limit_ip", "1000".into()),
        ("mail_limit_email", "1000".into()),
        ("mail_limit_ip", "1000".into()),
        ("password_hash_queue_ms", "60000".into()),
    ]
}

#[tokio::test]
async fn concurrent_sign_ups_all_succeed() {
    let app = spawn_accounts_app(&roomy()).await;
    let app = &app;
    let statuses = join_all((0..64).map(|i| {
        let body = json!({"email": email(&format!("many{i}")), "password": PASSWORD});
        let ip = format!("10.8.0.{}", i + 1);
        async move { app.post_from(&ip, "/api/auth/register", &body).await }
    }))
    .await;
    assert_eq!(tally(&statuses), BTreeMap::from([(201, 64)]));
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_user").await, 64);

    // One unverified address registered again by many at once: one account.
    let address = email("again");
    let app = &app;
    let statuses = join_all((0..16).map(|i| {
        let body = json!({"email": address, "password": format!("{PASSWORD} {i}")});
        let ip = format!("10.8.1.{}", i + 1);
        async move { app.post_from(&ip, "/api/auth/register", &body).await }
    }))
    .await;
    assert_eq!(tally(&statuses), BTreeMap::from([(201, 16)]));
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_user").await, 65);
    // Of all the links sent, only the last one stored still works.
    let open = app
        .count(
            "SELECT COUNT(*) FROM sys_email_verify_code \
             WHERE is_used = 0 AND expire_at > UTC_TIMESTAMP(3) AND to_email_address LIKE 'again.%'",
        )
        .await;
    assert_eq!(open, 1);
}

#[tokio::test]
async fn registering_again_retires_the_earlier_link() {
    let app = spawn_accounts_app(&[]).await;
    let address = email("twice");
    let second_password = "another horse staple";
    assert_eq!(app.register(&address, PASSWORD).await.status(), 201);
    let first = code_in(&wait_for_mails(&address, 1).await[0]);
    assert_eq!(app.register(&address, second_password).await.status(), 201);
    let mails = wait_for_mails(&address, 2).await;
    let second = code_in(&mails[0]);
    assert_ne!(first, second);

    let location = app.verify(&first).await;
    assert!(
        location.starts_with(&format!("{WEB_BASE}/verify/failure")),
        "{location}"
    );
    assert!(!app.email_verified().await);
    assert_eq!(
        app.verify(&second).await,
        format!("{WEB_BASE}/verify/success")
    );
    app.login_refused(&address, PASSWORD).await;
    assert_eq!(app.login(&address, second_password).await.status(), 200);
}

#[tokio::test]
async fn following_a_link_while_registering_again_never_fails_inside() {
    let app = spawn_accounts_app(&roomy()).await;
    let address = email("crossing");
    assert_eq!(app.register(&address, PASSWORD).await.status(), 201);
    let code = code_in(&wait_for_mails(&address, 1).await[0]);
    let clicks = join_all((0..8).map(|_| app.verify(&code)));
    let app_ref = &app;
    let registrations = join_all((0..8).map(|i| {
        let body = json!({"email": address, "password": format!("{PASSWORD} {i}")});
        let ip = format!("10.8.2.{}", i + 1);
        async move { app_ref.post_from(&ip, "/api/auth/register", &body).await }
    }));
    let (locations, statuses) = tokio::join!(clicks, registrations);
    // Each click either verified, or found its link used or ended by a registration.
    assert!(
        locations
            .iter()
            .all(|l| l.starts_with(&format!("{WEB_BASE}/verify/"))),
        "{locations:?}"
    );
    let counts = tally(&statuses);
    assert!(counts.keys().all(|s| [201, 409].contains(s)), "{counts:?}");
}
