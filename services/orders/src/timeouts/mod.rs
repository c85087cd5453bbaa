//! Order timeouts: the outbox relay publishes "close order N if still unpaid"
//! messages to RabbitMQ, the consumer acts on them when they come due, and a
//! sweeper closes overdue orders whose message was lost.

pub mod consumer;
pub mod outbox;
pub mod queries;
pub mod sweeper;
