//! Accounts: registration, email verification, login, sessions, password reset
//! and the profile (API.md's Accounts table, DESIGN.md's Account flow).
//!
//! - `register.rs`: register, verify-email, resend-verification
//! - `login.rs`: login (rate limited, logged), logout
//! - `reset.rs`: password reset request and confirm
//! - `me.rs`: `GET`/`PATCH /api/users/me`
//! - `password_change.rs`: `POST /api/users/me/password`
//! - `history.rs`: `GET /api/users/me/times-history` (read from the rows that record each change)
//! - `sessions.rs`: the sessions page (list, end one, end the others)
//! - `domain.rs` (input types), `password.rs` (argon2id on a bounded pool), `codes.rs` (one-time
//!   codes), `mailer.rs` (lettre + send log), `queries.rs` (SQL), `types.rs` (bodies)

pub mod codes;
pub mod config;
pub mod domain;
pub mod history;
pub mod login;
pub mod mailer;
pub mod me;
pub mod password;
pub mod password_change;
pub mod queries;
pub mod register;
pub mod reset;
pub mod sessions;
pub mod types;

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use axum::http::StatusCode;
use paychat_common::ApiError;
use paychat_common::auth::Role;
use paychat_common::locale::Locale;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, MySql, MySqlPool};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use codes::BizType;
use config::AccountsConfig;
use domain::Email;
use mailer::{Mailer, Outgoing};

/// What the accounts handlers need beyond the shared state.
pub struct Accounts {
    pub config: AccountsConfig,
    pub mailer: Mailer,
    pub hasher: password::Hasher,
    admins: HashSet<String>,
}

impl Accounts {
    pub fn new(config: &AccountsConfig) -> anyhow::Result<Self> {
        Ok(Self {
            mailer: Mailer::new(config)?,
            hasher: password::Hasher::start(
                config.password_hash_threads,
                config.password_hash_queue_wait(),
            )?,
            admins: config.admin_set(),
            config: config.clone(),
        })
    }

    /// Admin for the addresses in `admin_emails`, else what the account has.
    pub fn role_for(&self, email: &Email, stored: Role) -> Role {
        if self.admins.contains(email.as_str()) {
            Role::Admin
        } else {
            stored
        }
    }
}

/// The accounts part of the OpenAPI document: its tag and the bearer scheme
/// the signed-in routes name.
#[derive(utoipa::OpenApi)]
#[openapi(
    modifiers(&BearerAuth),
    tags((name = "accounts", description = "Registration, email verification, sessions, password reset, profile"))
)]
struct AccountsDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The token from POST /api/auth/login"))
                    .build(),
            ),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    use utoipa::OpenApi as _;
    OpenApiRouter::with_openapi(AccountsDoc::openapi())
        .routes(routes!(register::register))
        .routes(routes!(register::verify_email))
        .routes(routes!(register::resend_verification))
        .routes(routes!(login::login))
        .routes(routes!(login::logout))
        .routes(routes!(reset::request_reset))
        .routes(routes!(reset::confirm_reset))
        .routes(routes!(me::get_me, me::update_me))
        .routes(routes!(password_change::change_password))
        .routes(routes!(history::times_history))
        .routes(routes!(sessions::list, sessions::revoke_others))
        .routes(routes!(sessions::revoke))
}

/// Counts one email for the caller's address and IP, before it is sent; 429
/// past either limit.
pub(crate) async fn mail_limits(
    state: &AppState,
    email: &Email,
    ip: IpAddr,
) -> Result<(), ApiError> {
    let config = &state.accounts.config;
    state
        .limiter
        .hit(&[
            (&format!("mail:ip:{ip}"), config.mail_limit_ip()),
            (&format!("mail:email:{email}"), config.mail_limit_email()),
        ])
        .await
}

/// What the endpoints built on [`mail_code_if`] answer, for their OpenAPI
/// entries: the same 202 whether or not the address has an account.
#[derive(utoipa::IntoResponses)]
#[expect(
    dead_code,
    reason = "describes responses for the OpenAPI document only"
)]
enum MailCodeResponses {
    #[response(
        status = 202,
        description = "Accepted (whether or not the address has an account)"
    )]
    Accepted,
    #[response(status = 400, description = "`invalid_email`")]
    InvalidEmail,
    #[response(status = 429, description = "`rate_limited`, with `Retry-After`")]
    RateLimited,
}

/// Emails a fresh code of kind `biz` to `email` if it has an account that
/// `wanted` accepts, after counting the email against the caller's limits.
/// Answers 202 either way, so the address cannot be probed.
async fn mail_code_if(
    state: &AppState,
    ip: IpAddr,
    email: &str,
    biz: BizType,
    wanted: fn(&queries::Account) -> bool,
    compose: fn(&AccountsConfig, &Email, &str, &str, Locale) -> Outgoing,
) -> Result<StatusCode, ApiError> {
    let email = Email::parse(email).map_err(|p| ApiError::field("invalid_email", "email", p))?;
    mail_limits(state, &email, ip).await?;
    let code = retrying(|| async {
        let mut conn = read_committed(&state.db).await?;
        let mut tx = conn.begin().await?;
        let account = queries::lock_account(&mut *tx, email.as_str()).await?;
        let Some(account) = account.filter(wanted) else {
            return Ok(Ok(None));
        };
        let code = register::insert_new_code(&mut tx, state, &email, biz).await?;
        tx.commit().await?;
        Ok(Ok(Some((code, Locale::from_db(&account.locale)))))
    })
    .await?;
    if let Some((code, locale)) = code {
        send(
            state,
            compose(
                &state.accounts.config,
                &email,
                &code.code,
                &ip.to_string(),
                locale,
            ),
        );
    }
    Ok(StatusCode::ACCEPTED)
}

fn send(state: &AppState, mail: Outgoing) {
    state
        .accounts
        .mailer
        .send_in_background(state.db.clone(), state.ids.clone(), mail);
}

/// A pooled connection whose next transaction runs READ COMMITTED. Under
/// InnoDB's REPEATABLE READ a locking read of an address with no account
/// takes a gap lock, and two sign-ups holding such locks deadlock on their
/// inserts; without gap locks the unique index on the address alone decides
/// who was first. Every accounts transaction locks the account before its
/// codes, so they cannot deadlock with one another either.
async fn read_committed(db: &MySqlPool) -> Result<PoolConnection<MySql>, sqlx::Error> {
    let mut conn = db.acquire().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .execute(&mut *conn)
        .await?;
    Ok(conn)
}

/// How many times an accounts transaction runs before its error is answered.
const TX_ATTEMPTS: u32 = 5;

/// Runs the transaction `tx` until it commits or gives its answer, running
/// it again after a short random pause (so two that collided do not collide
/// again) when it hits a deadlock or a concurrent insert of the same row.
async fn retrying<T, F, Fut>(mut tx: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Result<T, ApiError>, sqlx::Error>>,
{
    let mut attempt = 1;
    loop {
        match tx().await {
            Ok(answer) => return answer,
            Err(e) if retryable(&e) && attempt < TX_ATTEMPTS => {
                metrics::counter!("accounts_tx_retries_total").increment(1);
                tracing::debug!(attempt, error = %e, "accounts transaction runs again");
                let pause_ms = rand::random_range(5..=20 * u64::from(attempt));
                tokio::time::sleep(Duration::from_millis(pause_ms)).await;
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// True for errors worth running an accounts transaction again for: a
/// duplicate from a concurrent insert, or an InnoDB deadlock (1213, SQLSTATE 40001).
fn retryable(err: &sqlx::Error) -> bool {
    paychat_common::error::is_unique_violation(err)
        || matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("40001"))
}
