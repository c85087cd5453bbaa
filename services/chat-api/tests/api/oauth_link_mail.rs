//! Proving an existing account by a mailed link before a provider is linked
//! to it: the link links exactly once, an expired or used one is refused,
//! and nothing is linked before it is followed.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::accounts_support::{PASSWORD, code_in, expect_error, wait_for_mails};
use crate::oauth::{OAuthEnv, oauth_app, sandbox_email};

impl OAuthEnv {
    async fn link_mail(&self, ticket: &str) -> reqwest::Response {
        self.app
            .post("/api/auth/oauth/link-mail", &json!({ "ticket": ticket }))
            .await
    }

    async fn link_confirm(&self, code: &str) -> reqwest::Response {
        self.app
            .post("/api/auth/oauth/link-confirm", &json!({ "code": code }))
            .await
    }

    async fn oauth_bindings(&self) -> i64 {
        self.app
            .count("SELECT COUNT(*) FROM chat_user_binding_oauth")
            .await
    }
}

/// An account at `email` (signed up, verified) and a provider sign-in with
/// the same address waiting for proof; answers the user id and the ticket.
async fn waiting_sign_in(env: &OAuthEnv, email: &str) -> (String, String) {
    let (user_id, _) = env.app.signed_up(email, PASSWORD).await;
    let ticket = env.ticket("sandbox", email).await;
    expect_error(
        env.exchange(json!({ "ticket": ticket })).await,
        409,
        "link_required",
    )
    .await;
    (user_id, ticket)
}

/// Mails the proof; answers the code in the link (the newest mail to `email`,
/// after the sign-up's verification mail).
async fn mailed_code(env: &OAuthEnv, ticket: &str, email: &str) -> String {
    let res = env.link_mail(ticket).await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["email"], email);
    let mail = wait_for_mails(email, 2).await.remove(0);
    assert!(
        mail["subject"].as_str().unwrap().contains("Sandbox OIDC"),
        "{mail}"
    );
    assert!(
        mail["text"]
            .as_str()
            .unwrap()
            .contains("http://web.test/oauth/link?code="),
        "{mail}"
    );
    code_in(&mail)
}

#[tokio::test]
async fn a_mailed_link_links_exactly_once() {
    let env = oauth_app().await;
    let email = sandbox_email("mailproof");
    let (user_id, ticket) = waiting_sign_in(&env, &email).await;
    let code = mailed_code(&env, &ticket, &email).await;

    // Mailing is no proof: nothing linked, no second user.
    assert_eq!(env.oauth_bindings().await, 0);
    assert_eq!(env.app.count("SELECT COUNT(*) FROM chat_user").await, 1);
    // The code rests only as its hash.
    let stored: String = sqlx::query_scalar("SELECT code_hash FROM chat_user_link_proof")
        .fetch_one(&env.app.db)
        .await
        .unwrap();
    assert_eq!(stored, hex::encode(Sha256::digest(code.as_bytes())));
    assert_ne!(stored, code);

    let res = env.link_confirm(&code).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["id"], user_id.as_str());
    assert_eq!(body["return_to"], "/account");
    let me = env.app.me(body["token"].as_str().unwrap()).await;
    assert_eq!(me.status(), 200);
    assert_eq!(env.oauth_bindings().await, 1);

    // Used once: the same link again is refused and links nothing more.
    expect_error(env.link_confirm(&code).await, 400, "invalid_code").await;
    assert_eq!(env.oauth_bindings().await, 1);

    // The provider now signs in to that account directly.
    let again = env.signed_in("sandbox", &email).await;
    assert_eq!(again["user"]["id"], user_id.as_str());
    assert_eq!(env.app.count("SELECT COUNT(*) FROM chat_user").await, 1);
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let env = oauth_app().await;
    let email = sandbox_email("mailexpired");
    let (_, ticket) = waiting_sign_in(&env, &email).await;
    let code = mailed_code(&env, &ticket, &email).await;
    sqlx::query("UPDATE chat_user_link_proof SET expire_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND")
        .execute(&env.app.db)
        .await
        .unwrap();
    expect_error(env.link_confirm(&code).await, 400, "expired_code").await;
    assert_eq!(env.oauth_bindings().await, 0);
}

#[tokio::test]
async fn junk_codes_and_tickets_are_refused() {
    let env = oauth_app().await;
    for code in ["", "short", &"A".repeat(43), "' OR 1=1 --"] {
        expect_error(env.link_confirm(code).await, 400, "invalid_code").await;
    }
    expect_error(env.link_mail("no-such-ticket").await, 400, "invalid_ticket").await;
    // A sign-in whose address has no account needs no proof: nothing is mailed.
    let email = sandbox_email("mailnew");
    let ticket = env.ticket("sandbox", &email).await;
    expect_error(env.link_mail(&ticket).await, 400, "invalid_ticket").await;
    assert_eq!(
        env.app
            .count("SELECT COUNT(*) FROM chat_user_link_proof")
            .await,
        0
    );
}

#[tokio::test]
async fn the_password_still_works_after_a_link_was_mailed() {
    let env = oauth_app().await;
    let email = sandbox_email("mailthenpw");
    let (user_id, ticket) = waiting_sign_in(&env, &email).await;
    let code = mailed_code(&env, &ticket, &email).await;
    let res = env
        .exchange(json!({ "ticket": ticket, "password": PASSWORD }))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(env.oauth_bindings().await, 1);
    // The mailed link, followed later, finds the link made and links nothing twice.
    let res = env.link_confirm(&code).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["id"], user_id.as_str());
    assert_eq!(env.oauth_bindings().await, 1);
}
