//! Shared building blocks of the PayChat services: configuration, the API error
//! shape, connections to MariaDB/Redis/RabbitMQ, sessions, rate limits, ids,
//! money, telemetry, outgoing mail, the HTTP plumbing every service mounts and
//! the shared part of starting a service.

pub mod alert_rules;
pub mod amqp;
pub mod audit;
pub mod auth;
pub mod config;
pub mod db;
pub mod envelope;
pub mod error;
pub mod health;
pub mod http;
pub mod ids;
pub mod json;
pub mod locale;
pub mod mail;
pub mod money;
pub mod payment;
pub mod ratelimit;
pub mod redis;
pub mod service;
pub mod telemetry;

pub use error::ApiError;
pub use json::Json;
pub mod testing;
