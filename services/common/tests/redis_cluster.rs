//! The shared Redis users on a real Redis Cluster (3 masters, a replica each;
//! `scripts/cluster.sh redis-up`): rate limits over keys in different slots,
//! the session store, and id leases. A single node accepts what a cluster
//! refuses (a pipeline or script across slots), so only this run proves them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use paychat_common::ApiError;
use paychat_common::auth::{Role, Sessions};
use paychat_common::ids::IdGenerator;
use paychat_common::ratelimit::{Limit, RateLimiter};
use paychat_common::redis::{Keys, Redis};
use paychat_common::testing;
use redis::AsyncCommands;

fn setup() -> Option<(Redis, Keys)> {
    let redis = testing::redis_cluster()?;
    assert!(redis.is_cluster());
    Some((redis, Keys::new(testing::unique("t") + ":")))
}

/// The key's cluster slot, as the cluster computes it.
async fn slot(redis: &Redis, key: &str) -> i64 {
    let mut conn = redis.clone();
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_cluster_refuses_a_pipeline_across_slots_so_these_tests_can_tell() {
    let Some((redis, keys)) = setup() else { return };
    let (a, b) = (keys.key("rl:a"), keys.key("rl:b"));
    assert_ne!(slot(&redis, &a).await, slot(&redis, &b).await);
    let mut conn = redis.clone();
    let crossed: redis::RedisResult<(i64, i64)> = redis::pipe()
        .incr(&a, 1)
        .incr(&b, 1)
        .query_async(&mut conn)
        .await;
    assert!(crossed.is_err(), "a cross-slot pipeline ran: {crossed:?}");
}

#[tokio::test]
async fn rate_limits_over_keys_in_different_slots_count_and_give_back() {
    let Some((redis, keys)) = setup() else { return };
    let limiter = RateLimiter::new(redis.clone(), keys.clone());
    let (email, ip) = ("login:email:a@example.com", "login:ip:10.0.0.1");
    assert_ne!(
        slot(&redis, &keys.key(&format!("rl:{email}"))).await,
        slot(&redis, &keys.key(&format!("rl:{ip}"))).await
    );
    let window = Duration::from_secs(60);
    let limits = [(email, Limit::per(2, window)), (ip, Limit::per(5, window))];
    limiter.hit(&limits).await.unwrap();
    limiter.hit(&limits).await.unwrap();
    let third = limiter.hit(&limits).await;
    assert!(
        matches!(third, Err(ApiError::RateLimited { retry_after_secs }) if (1..=60).contains(&retry_after_secs)),
        "{third:?}"
    );
    let mut conn = redis.clone();
    let ip_count: i64 = conn.get(keys.key(&format!("rl:{ip}"))).await.unwrap();
    assert_eq!(ip_count, 3);

    // Attempts: taken from both keys, given back to both on success.
    let other = "login:email:b@example.com";
    let attempt_limits = [(other, Limit::per(1, window)), (ip, Limit::per(10, window))];
    let attempt = limiter.attempt(&attempt_limits).await.unwrap();
    attempt.succeeded().await;
    let again = limiter.attempt(&attempt_limits).await.unwrap();
    let full = limiter.attempt(&attempt_limits).await;
    assert!(
        matches!(full, Err(ApiError::RateLimited { .. })),
        "{:?}",
        full.err()
    );
    drop(again);
    let ip_count: i64 = conn.get(keys.key(&format!("rl:{ip}"))).await.unwrap();
    // 3 hits, one attempt given back, one kept, the refused one given back.
    assert_eq!(ip_count, 4);
}

#[tokio::test]
async fn sessions_are_created_listed_and_ended_on_a_cluster() {
    let Some((redis, keys)) = setup() else { return };
    let sessions = Sessions::new(redis.clone(), keys.clone(), Duration::from_secs(600));
    let user_id = 4242;
    let mut issued = Vec::new();
    for _ in 0..4 {
        issued.push(sessions.create(user_id, Role::User).await.unwrap());
    }
    let me = sessions.lookup(&issued[0].token).await.unwrap().unwrap();
    assert_eq!(me.user_id, user_id);
    assert_eq!(sessions.list(&me).await.unwrap().len(), 4);

    // One ended by its id, then every other but mine.
    let second = sessions.lookup(&issued[1].token).await.unwrap().unwrap();
    assert!(
        sessions
            .revoke_id(user_id, &second.session_id())
            .await
            .unwrap()
    );
    assert!(sessions.lookup(&issued[1].token).await.unwrap().is_none());
    sessions.revoke_others(&me).await.unwrap();
    for gone in &issued[1..] {
        assert!(sessions.lookup(&gone.token).await.unwrap().is_none());
    }
    let listed = sessions.list(&me).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current);

    // Sign-out, and "end every session" after new ones on other slots.
    let more = sessions.create(user_id, Role::User).await.unwrap();
    sessions.revoke(&me).await.unwrap();
    assert!(sessions.lookup(&issued[0].token).await.unwrap().is_none());
    let other = sessions.create(user_id, Role::Admin).await.unwrap();
    sessions.revoke_all(user_id).await.unwrap();
    assert!(sessions.lookup(&more.token).await.unwrap().is_none());
    assert!(sessions.lookup(&other.token).await.unwrap().is_none());
}

#[tokio::test]
async fn id_worker_numbers_are_leased_and_renewed_on_a_cluster() {
    let Some((redis, keys)) = setup() else { return };
    let a = IdGenerator::lease(redis.clone(), &keys).await.unwrap();
    let b = IdGenerator::lease(redis.clone(), &keys).await.unwrap();
    assert_ne!(a.worker(), b.worker());
    a.renew().await.unwrap();
    assert!(a.try_next().is_ok());
    let mut conn = redis.clone();
    let holder: Option<String> = conn
        .get(keys.key(&format!("idworker:{}", a.worker().unwrap())))
        .await
        .unwrap();
    assert!(holder.is_some());
}

#[tokio::test]
async fn a_ping_reaches_the_cluster() {
    let Some((redis, _)) = setup() else { return };
    let mut conn = redis.clone();
    paychat_common::redis::ping(&mut conn).await.unwrap();
}
