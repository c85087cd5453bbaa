//! RabbitMQ plumbing shared by the timeout and payment workers: the broker
//! connection with its topology and publishing (`broker`), the consumer loop
//! with manual acks (`queue`), and the attempt count a retried message carries.

pub mod broker;
pub mod queue;

pub use broker::{Broker, attempts};
