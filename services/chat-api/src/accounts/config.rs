//! The accounts keys of `config/default.toml` (each overridable as
//! `PAYCHAT_<KEY>`): how mail is sent, where links point, code lifetimes,
//! rate limits and the admin list.

use std::collections::HashSet;
use std::time::Duration;

use lettre::message::Mailbox;
use paychat_common::config::{ConfigError, Problems, SmtpTls, load_validated, split_list};
use paychat_common::ratelimit::Limit;
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct AccountsConfig {
    pub smtp_host: String,
    pub smtp_port: u16,
    /// Empty: no authentication.
    #[serde(default)]
    pub smtp_username: String,
    #[serde(default = "empty_secret")]
    pub smtp_password: SecretString,
    /// `none` (plaintext, for the sandbox), `starttls` or `tls`.
    pub smtp_tls: SmtpTls,
    pub smtp_timeout_ms: u64,
    /// The From of every mail, e.g. `PayChat <no-reply@paychat.local>`.
    pub mail_from: String,
    /// Where the API is reached from outside (the edge); verification links point here.
    pub public_base_url: String,
    /// Where the web app is; verification redirects and reset links point here.
    pub web_base_url: String,
    /// Comma-separated addresses that get role admin at registration and login.
    #[serde(default)]
    pub admin_emails: String,
    pub verify_code_ttl_secs: u64,
    pub reset_code_ttl_secs: u64,
    pub login_fail_limit_email: u32,
    pub login_fail_limit_ip: u32,
    pub login_fail_window_secs: u64,
    pub mail_limit_email: u32,
    pub mail_limit_ip: u32,
    pub mail_limit_window_secs: u64,
    pub register_limit_ip: u32,
    pub register_limit_window_secs: u64,
    /// Password hashes computed at once (19 MiB each); 0: one per core.
    pub password_hash_threads: usize,
    /// How long a login or registration waits for a hashing thread before 503 `busy`.
    pub password_hash_queue_ms: u64,
}

fn empty_secret() -> SecretString {
    SecretString::from(String::new())
}

impl AccountsConfig {
    pub fn load(overrides: &[(&str, String)]) -> Result<Self, ConfigError> {
        load_validated(overrides, Self::validate)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut p = Problems::default();
        p.check(
            !self.smtp_host.trim().is_empty(),
            "smtp_host",
            "must not be empty",
        );
        p.check(self.smtp_port != 0, "smtp_port", "must be a port number");
        p.check(
            self.smtp_timeout_ms >= 100,
            "smtp_timeout_ms",
            "must be at least 100",
        );
        p.check(
            self.mail_from.parse::<Mailbox>().is_ok(),
            "mail_from",
            "must be an address such as PayChat <no-reply@example.com>",
        );
        for (key, value) in [
            ("public_base_url", &self.public_base_url),
            ("web_base_url", &self.web_base_url),
        ] {
            p.check(
                (value.starts_with("http://") || value.starts_with("https://"))
                    && url_has_host(value),
                key,
                "must be an http(s) URL such as http://localhost:8080",
            );
        }
        p.check(
            split_list(&self.admin_emails)
                .all(|e| crate::accounts::domain::Email::parse(e).is_ok()),
            "admin_emails",
            "must be a comma-separated list of email addresses",
        );
        p.check(
            self.verify_code_ttl_secs >= 60,
            "verify_code_ttl_secs",
            "must be at least 60",
        );
        p.check(
            self.reset_code_ttl_secs >= 60,
            "reset_code_ttl_secs",
            "must be at least 60",
        );
        for (key, value) in [
            ("login_fail_limit_email", self.login_fail_limit_email),
            ("login_fail_limit_ip", self.login_fail_limit_ip),
            ("mail_limit_email", self.mail_limit_email),
            ("mail_limit_ip", self.mail_limit_ip),
            ("register_limit_ip", self.register_limit_ip),
        ] {
            p.check(value >= 1, key, "must be at least 1");
        }
        for (key, value) in [
            ("login_fail_window_secs", self.login_fail_window_secs),
            ("mail_limit_window_secs", self.mail_limit_window_secs),
            (
                "register_limit_window_secs",
                self.register_limit_window_secs,
            ),
        ] {
            p.check(value >= 1, key, "must be at least 1");
        }
        p.check(
            self.password_hash_threads <= 64,
            "password_hash_threads",
            "must be at most 64 (0: one per core)",
        );
        p.check(
            (10..=60_000).contains(&self.password_hash_queue_ms),
            "password_hash_queue_ms",
            "must be between 10 and 60000",
        );
        p.into_result()
    }

    pub fn password_hash_queue_wait(&self) -> Duration {
        Duration::from_millis(self.password_hash_queue_ms)
    }

    /// The admin addresses, normalised like [`crate::accounts::domain::Email`].
    pub fn admin_set(&self) -> HashSet<String> {
        split_list(&self.admin_emails)
            .filter_map(|e| crate::accounts::domain::Email::parse(e).ok())
            .map(|e| e.as_str().to_owned())
            .collect()
    }

    pub fn public_base(&self) -> &str {
        self.public_base_url.trim_end_matches('/')
    }

    pub fn web_base(&self) -> &str {
        self.web_base_url.trim_end_matches('/')
    }

    pub fn login_limit_email(&self) -> Limit {
        Limit::per(
            self.login_fail_limit_email,
            Duration::from_secs(self.login_fail_window_secs),
        )
    }

    pub fn login_limit_ip(&self) -> Limit {
        Limit::per(
            self.login_fail_limit_ip,
            Duration::from_secs(self.login_fail_window_secs),
        )
    }

    pub fn mail_limit_email(&self) -> Limit {
        Limit::per(
            self.mail_limit_email,
            Duration::from_secs(self.mail_limit_window_secs),
        )
    }

    pub fn mail_limit_ip(&self) -> Limit {
        Limit::per(
            self.mail_limit_ip,
            Duration::from_secs(self.mail_limit_window_secs),
        )
    }

    pub fn register_limit_ip(&self) -> Limit {
        Limit::per(
            self.register_limit_ip,
            Duration::from_secs(self.register_limit_window_secs),
        )
    }
}

fn url_has_host(value: &str) -> bool {
    value
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
        .is_some_and(|host| !host.is_empty() && !host.contains(char::is_whitespace))
}
