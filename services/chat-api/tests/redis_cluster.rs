//! Chat admission on a real Redis Cluster (`scripts/cluster.sh redis-up`):
//! the one script over a user's rate window and open-stream slots keeps both
//! keys in one slot (the user id as hash tag), so it runs there, and the cap
//! holds across handles as it does across copies of the service.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use paychat_chat_api::chat::slots::{Admission, Limits, admit};
use paychat_common::redis::Keys;
use paychat_common::testing;

#[tokio::test]
async fn admission_caps_streams_and_rate_on_a_cluster() {
    let Some(redis) = testing::redis_cluster() else {
        return;
    };
    // Two handles, as two copies of chat-api would hold.
    let other = testing::redis_cluster().unwrap();
    let keys = Keys::new(testing::unique("t") + ":");
    let limits = Limits {
        per_window: 4,
        window: Duration::from_secs(60),
        max_streams: 2,
        slot_lifetime: Duration::from_secs(60),
    };
    let first = admit(&redis, &keys, 7, 1, limits).await.unwrap();
    let second = admit(&other, &keys, 7, 2, limits).await.unwrap();
    let (Admission::Admitted(first), Admission::Admitted(_second)) = (first, second) else {
        panic!("the first two streams were not admitted");
    };
    assert!(matches!(
        admit(&redis, &keys, 7, 3, limits).await.unwrap(),
        Admission::TooManyStreams
    ));
    // Another user has slots of their own.
    assert!(matches!(
        admit(&other, &keys, 8, 4, limits).await.unwrap(),
        Admission::Admitted(_)
    ));
    first.release().await;
    assert!(matches!(
        admit(&other, &keys, 7, 5, limits).await.unwrap(),
        Admission::Admitted(_)
    ));
    // The fifth request in the window is over the rate.
    assert!(matches!(
        admit(&redis, &keys, 7, 6, limits).await.unwrap(),
        Admission::RateLimited { retry_after_secs } if (1..=60).contains(&retry_after_secs)
    ));
}
