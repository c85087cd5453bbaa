//! chat-api integration tests: the real service over HTTP against the local
//! stack (MariaDB, Redis, mail sink), a fresh database per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod accounts_load;
mod accounts_locale;
mod accounts_me;
mod accounts_security;
mod accounts_support;
mod admin_users;
mod avatars;
mod chat;
mod chat_give_back;
mod chat_stale;
mod chat_support;
mod chat_writer;
mod flow_metrics;
mod health;
mod helpers;
mod llm_keys;
mod oauth;
mod oauth_link_mail;
mod rooms;
mod sensitive;
mod sessions;
