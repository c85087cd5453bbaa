//! orders as a library, so tests and the benchmark start the real service in-process.

pub mod amqp;
pub mod app;
pub mod code_console;
pub mod codes;
pub mod config;
pub mod money_metrics;
pub mod orders;
pub mod payment_console;
pub mod payments;
pub mod products;
pub mod refund;
pub mod state;
pub mod states;
pub mod stats;
pub mod stock;
pub mod timeouts;
pub mod wire;
