//! The mixed load: users that sign up, log in, buy, pay through the sandbox Alipay,
//! close, redeem and chat, each in its own task, until told to stop. Every step
//! tolerates the processes it talks to dying: it gives up on that step and goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rand::Rng;
use reqwest::Method;
use serde_json::{Value, json};

use crate::api::Api;

pub const ADMIN_EMAIL: &str = "faults-admin@paychat.test";
const PASSWORD: &str = "fault-matrix-password";

/// Models chat-api is configured to accept: the ordinary one and the sandbox LLM's
/// fault models the LLM faults switch the load to.
pub const MODELS: [&str; 3] = ["sandbox-chat", LLM_CUT, LLM_SLOW_HEADERS];
/// The upstream cuts the answer after two chunks.
pub const LLM_CUT: &str = "fault-cut-after-2";
/// The upstream holds its headers 4 s, past chat-api's 2 s first-byte timeout.
pub const LLM_SLOW_HEADERS: &str = "fault-headers-after-4000";

/// What the load has done; one counter per kind of operation that succeeded.
#[derive(Debug, Default)]
pub struct Counters {
    pub signups: AtomicU64,
    pub logins: AtomicU64,
    pub orders: AtomicU64,
    pub payments: AtomicU64,
    pub late_payments: AtomicU64,
    pub redemptions: AtomicU64,
    pub chats: AtomicU64,
    pub closes: AtomicU64,
    pub failed_steps: AtomicU64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub signups: u64,
    pub logins: u64,
    pub orders: u64,
    pub payments: u64,
    pub late_payments: u64,
    pub redemptions: u64,
    pub chats: u64,
    pub closes: u64,
    pub failed_steps: u64,
}

impl Counters {
    pub fn snapshot(&self) -> Counts {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counts {
            signups: g(&self.signups),
            logins: g(&self.logins),
            orders: g(&self.orders),
            payments: g(&self.payments),
            late_payments: g(&self.late_payments),
            redemptions: g(&self.redemptions),
            chats: g(&self.chats),
            closes: g(&self.closes),
            failed_steps: g(&self.failed_steps),
        }
    }
}

impl Counts {
    pub fn minus(self, o: Self) -> Self {
        Self {
            signups: self.signups - o.signups,
            logins: self.logins - o.logins,
            orders: self.orders - o.orders,
            payments: self.payments - o.payments,
            late_payments: self.late_payments - o.late_payments,
            redemptions: self.redemptions - o.redemptions,
            chats: self.chats - o.chats,
            closes: self.closes - o.closes,
            failed_steps: self.failed_steps - o.failed_steps,
        }
    }
}

/// What the load shares: the client, the products, the LLM mode the faults set.
pub struct Shared {
    pub api: Api,
    pub run: String,
    pub products: Vec<i64>,
    /// Index into [`MODELS`].
    pub model: AtomicU8,
    pub stop: AtomicBool,
    pub counters: Counters,
    /// Each buyer's pause between steps, in ms: keeps the CPU use of a shared machine moderate.
    pub pace_ms: std::ops::Range<u64>,
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

async fn pause(ms: std::ops::Range<u64>) {
    let ms = rand::rng().random_range(ms);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Registers `email`, follows the link the mail sink caught and logs in.
pub async fn sign_up(api: &Api, email: &str) -> Option<String> {
    let reg = api
        .send(
            "register",
            api.request(
                Method::POST,
                format!("{}/api/auth/register", api.chat),
                None,
            )
            .json(&json!({"email": email, "password": PASSWORD, "nickname": "faults"})),
        )
        .await?;
    if !(reg.ok() || reg.error_code() == "email_taken") {
        return None;
    }
    // The mail goes out after the answer; wait for it a few seconds.
    let mut code = None;
    for _ in 0..40 {
        let mails = api
            .http
            .get(format!("{}/api/messages?to={email}&limit=5", api.mail))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        if let Some(i) = mails.find("verify-email?code=") {
            let rest = &mails[i + "verify-email?code=".len()..];
            let c: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            code = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let code = code?;
    api.send(
        "verify-email",
        api.request(
            Method::GET,
            format!("{}/api/auth/verify-email?code={code}", api.chat),
            None,
        ),
    )
    .await?;
    login(api, email).await
}

pub async fn login(api: &Api, email: &str) -> Option<String> {
    let a = api
        .send(
            "login",
            api.request(Method::POST, format!("{}/api/auth/login", api.chat), None)
                .json(&json!({"email": email, "password": PASSWORD})),
        )
        .await?;
    a.body["token"].as_str().map(str::to_owned)
}

/// One simulated buyer.
struct User {
    email: String,
    token: Option<String>,
    /// Leaves an unpaid order to its timeout: no buying until then.
    waiting_for_timeout_until: Option<Instant>,
}

pub async fn run_user(shared: Arc<Shared>, index: usize) {
    let mut user = User {
        email: format!("u{}-{index}@faults.test", shared.run),
        token: None,
        waiting_for_timeout_until: None,
    };
    // Sign up, however long the faults make it take.
    while !shared.stopped() {
        if let Some(t) = sign_up(&shared.api, &user.email).await {
            user.token = Some(t);
            bump(&shared.counters.signups);
            break;
        }
        bump(&shared.counters.failed_steps);
        pause(500..1500).await;
    }
    while !shared.stopped() {
        if user.token.is_none() {
            match login(&shared.api, &user.email).await {
                Some(t) => {
                    user.token = Some(t);
                    bump(&shared.counters.logins);
                }
                None => {
                    bump(&shared.counters.failed_steps);
                    pause(500..1500).await;
                    continue;
                }
            }
        }
        let roll = rand::rng().random_range(0..100);
        let done = match roll {
            0..=44 => buy(&shared, &mut user).await,
            45..=84 => chat(&shared, &mut user).await,
            85..=94 => redeem(&shared, &mut user).await,
            _ => {
                // Another sign-in, as a second device would.
                let t = login(&shared.api, &user.email).await;
                if t.is_some() {
                    bump(&shared.counters.logins);
                    user.token = t;
                }
                true
            }
        };
        if !done {
            bump(&shared.counters.failed_steps);
        }
        pause(shared.pace_ms.clone()).await;
    }
}

/// Interprets an answer for a user: a 401 means the session is gone (Redis lost it).
fn check_session(user: &mut User, a: &crate::api::Answer) {
    if a.status == reqwest::StatusCode::UNAUTHORIZED {
        user.token = None;
    }
}

async fn buy(shared: &Shared, user: &mut User) -> bool {
    if user
        .waiting_for_timeout_until
        .is_some_and(|t| Instant::now() < t)
    {
        return chat(shared, user).await;
    }
    user.waiting_for_timeout_until = None;
    let api = &shared.api;
    let token = user.token.clone();
    let token = token.as_deref();
    let (product, quantity) = {
        let mut rng = rand::rng();
        let p = shared.products[rng.random_range(0..shared.products.len())];
        (p, rng.random_range(1..=2))
    };
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({"items": [{"product_id": p_str(product), "quantity": quantity}]});
    // The same idempotency key on a retry: one order whatever got lost.
    let mut placed = None;
    for _ in 0..3 {
        let Some(a) = api
            .send(
                "place order",
                api.request(Method::POST, format!("{}/api/orders", api.orders), token)
                    .header("Idempotency-Key", &key)
                    .json(&body),
            )
            .await
        else {
            pause(500..1000).await;
            continue;
        };
        check_session(user, &a);
        placed = Some(a);
        break;
    }
    let Some(a) = placed else { return false };
    let order_id = match (a.status.as_u16(), a.error_code()) {
        (200 | 201, _) => {
            if a.status.as_u16() == 201 {
                bump(&shared.counters.orders);
            }
            a.body["id"].as_str().unwrap_or_default().to_owned()
        }
        (409, "unpaid_order_exists") => {
            // An order of ours still open (its step was cut short): close it.
            let id = a.body["error"]["order_id"]
                .as_str()
                .or(a.body["order_id"].as_str())
                .unwrap_or_default()
                .to_owned();
            return close(shared, user, &id).await;
        }
        (409, "out_of_stock" | "order_in_progress") => return true,
        _ => return false,
    };
    if order_id.is_empty() {
        return false;
    }
    let how = rand::rng().random_range(0..100);
    match how {
        0..=79 => pay(shared, user, &order_id, false).await,
        80..=89 => close(shared, user, &order_id).await,
        90..=94 => pay(shared, user, &order_id, true).await,
        _ => {
            // Ask for a QR code and walk away: the timeout closes it.
            let ok = qr(shared, user, &order_id).await.is_some();
            user.waiting_for_timeout_until = Some(
                Instant::now() + Duration::from_secs(crate::invariants::PAYMENT_WINDOW_SECS + 15),
            );
            ok
        }
    }
}

fn p_str(id: i64) -> String {
    id.to_string()
}

/// `POST /api/orders/{id}/pay`: the trade's out_trade_no.
async fn qr(shared: &Shared, user: &mut User, order_id: &str) -> Option<String> {
    let api = &shared.api;
    for _ in 0..3 {
        let token = user.token.clone();
        let Some(a) = api
            .send(
                "pay order",
                api.request(
                    Method::POST,
                    format!("{}/api/orders/{order_id}/pay", api.orders),
                    token.as_deref(),
                ),
            )
            .await
        else {
            pause(500..1000).await;
            continue;
        };
        check_session(user, &a);
        if a.ok() {
            return a.body["out_trade_no"].as_str().map(str::to_owned);
        }
        if a.status.is_client_error() {
            return None;
        }
        pause(500..1000).await;
    }
    None
}

/// Pays the order's QR code at the sandbox Alipay; `late` closes the order first,
/// so the money arrives for a closed order.
async fn pay(shared: &Shared, user: &mut User, order_id: &str, late: bool) -> bool {
    let Some(out_trade_no) = qr(shared, user, order_id).await else {
        return false;
    };
    if late && !close(shared, user, order_id).await {
        return false;
    }
    let api = &shared.api;
    let Ok(resp) = api
        .http
        .post(format!("{}/sim/pay/{out_trade_no}", api.alipay))
        .send()
        .await
    else {
        return false;
    };
    if !resp.status().is_success() {
        // A trade the close reached at Alipay cannot be paid: that is fine.
        return late;
    }
    bump(&shared.counters.payments);
    if late {
        bump(&shared.counters.late_payments);
    }
    true
}

async fn close(shared: &Shared, user: &mut User, order_id: &str) -> bool {
    if order_id.is_empty() {
        return false;
    }
    let api = &shared.api;
    let token = user.token.clone();
    let Some(a) = api
        .send(
            "close order",
            api.request(
                Method::POST,
                format!("{}/api/orders/{order_id}/close", api.orders),
                token.as_deref(),
            ),
        )
        .await
    else {
        return false;
    };
    check_session(user, &a);
    if a.ok() {
        bump(&shared.counters.closes);
    }
    a.ok() || a.error_code() == "order_not_closable"
}

async fn redeem(shared: &Shared, user: &mut User) -> bool {
    let api = &shared.api;
    let token = user.token.clone();
    let Some(a) = api
        .send(
            "list codes",
            api.request(
                Method::GET,
                format!("{}/api/exchange-codes?limit=100", api.orders),
                token.as_deref(),
            ),
        )
        .await
    else {
        return false;
    };
    check_session(user, &a);
    if !a.ok() {
        return false;
    }
    let items = a.body["items"]
        .as_array()
        .or(a.body.as_array())
        .cloned()
        .unwrap_or_default();
    for item in items.iter().filter(|i| i["used"] == false).take(3) {
        let Some(code) = item["code"].as_str() else {
            continue;
        };
        let Some(r) = api
            .send(
                "redeem",
                api.request(
                    Method::POST,
                    format!("{}/api/exchange-codes/redeem", api.orders),
                    token.as_deref(),
                )
                .json(&json!({ "code": code })),
            )
            .await
        else {
            return false;
        };
        check_session(user, &r);
        if r.ok() {
            bump(&shared.counters.redemptions);
        }
    }
    true
}

async fn chat(shared: &Shared, user: &mut User) -> bool {
    let api = &shared.api;
    let token = user.token.clone();
    let Some(me) = api
        .send(
            "me",
            api.request(
                Method::GET,
                format!("{}/api/users/me", api.chat),
                token.as_deref(),
            ),
        )
        .await
    else {
        return false;
    };
    check_session(user, &me);
    if me.body["can_conversation_times"].as_i64().unwrap_or(0) <= 0 {
        return redeem(shared, user).await;
    }
    let model = MODELS[usize::from(shared.model.load(Ordering::Relaxed)) % MODELS.len()];
    let Ok(resp) = api
        .request(
            Method::POST,
            format!("{}/api/chat/completions", api.chat),
            token.as_deref(),
        )
        .timeout(Duration::from_secs(30))
        .json(&json!({"prompt": "Say something about fault tolerance.", "model": model}))
        .send()
        .await
    else {
        return false;
    };
    let status = resp.status();
    api.note("chat", status);
    if status == reqwest::StatusCode::UNAUTHORIZED {
        user.token = None;
    }
    if !status.is_success() {
        // 503 upstream_unavailable is what a slow upstream should give.
        return status.is_client_error() || status == reqwest::StatusCode::SERVICE_UNAVAILABLE;
    }
    // Read the stream to its end (done, error, or the connection cut).
    let mut stream = resp.bytes_stream();
    let mut text = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(b) => text.extend_from_slice(&b),
            Err(_) => break,
        }
    }
    bump(&shared.counters.chats);
    true
}

/// The admin's session, for creating the products.
pub async fn admin_token(api: &Api) -> anyhow::Result<String> {
    for _ in 0..5 {
        if let Some(t) = sign_up(api, ADMIN_EMAIL).await {
            return Ok(t);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    anyhow::bail!("the admin could not sign up and log in")
}

/// Creates the products the load buys, each with `stock` codes; their ids.
pub async fn create_products(api: &Api, token: &str, stock: u32) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::new();
    for (i, (price, times)) in [("1.00", 3), ("2.50", 5), ("4.90", 10)].iter().enumerate() {
        let a = api
            .send(
                "create product",
                api.request(
                    Method::POST,
                    format!("{}/api/admin/products", api.orders),
                    Some(token),
                )
                .json(&json!({
                    "name": format!("Faults {i}"), "description": "fault matrix",
                    "price": price, "reward_use_times": times, "stock": stock, "expires_days": 0,
                })),
            )
            .await
            .ok_or_else(|| anyhow::anyhow!("orders did not answer"))?;
        if !a.ok() {
            anyhow::bail!("creating a product answered {}: {}", a.status, a.body);
        }
        let id = match &a.body["id"] {
            Value::String(s) => s.parse()?,
            Value::Number(n) => n.as_i64().unwrap_or_default(),
            _ => anyhow::bail!("a product without id: {}", a.body),
        };
        ids.push(id);
    }
    Ok(ids)
}
