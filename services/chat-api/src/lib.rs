//! chat-api as a library, so tests and benchmarks start the real service in-process.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod avatars;
pub mod chat;
pub mod config;
pub mod llm_keys;
pub mod oauth;
pub mod pagination;
pub mod replicated;
pub mod rooms;
pub mod sensitive;
pub mod state;
