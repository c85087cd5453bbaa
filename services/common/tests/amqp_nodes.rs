//! A connection to a RabbitMQ deployment of several nodes goes to one that
//! answers, whichever of them is away (a stopped node of a cluster).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use paychat_common::amqp::connect_any;
use secrecy::SecretString;

const LIVE: &str = "amqp://paychat:paychat@127.0.0.1:35672/paychat_test";

fn closed_node() -> SecretString {
    // A port nothing listens on: bound, then released.
    let port = paychat_common::testing::free_port().unwrap();
    SecretString::from(format!(
        "amqp://paychat:paychat@127.0.0.1:{port}/paychat_test"
    ))
}

#[tokio::test]
async fn a_connection_skips_nodes_that_are_away() {
    // Whichever node the random start picks, the live one is reached.
    for _ in 0..6 {
        let urls = [closed_node(), SecretString::from(LIVE), closed_node()];
        let conn = connect_any(&urls, Duration::from_secs(2)).await.unwrap();
        assert!(conn.status().connected());
        let _ = conn.close(200, "done".into()).await;
    }
}

#[tokio::test]
async fn with_every_node_away_connecting_fails() {
    let urls = [closed_node(), closed_node()];
    assert!(connect_any(&urls, Duration::from_secs(2)).await.is_err());
}
