use paychat_payment_gateway::notify::retention;

use crate::helpers::{spawn_app, spawn_app_with};

/// A notify-shaped form whose signature is made up.
fn forged(i: usize) -> String {
    format!(
        "notify_id=n{i}&out_trade_no=123_{i}&trade_no=2026{i}&trade_status=TRADE_SUCCESS\
         &total_amount=9.90&app_id=2021000000000001&sign_type=RSA2&sign=bm90IGEgc2lnbmF0dXJl"
    )
}

#[tokio::test]
async fn an_oversized_notify_is_refused_unread_and_not_stored() {
    let t = spawn_app().await;
    // Below the service-wide body limit, far above any real notify.
    let body = format!("{}&padding={}", forged(1), "a".repeat(32 * 1024));
    let res = t.notify(body).await;
    assert_eq!(res.status(), 413);
    // Streamed without a length, it is cut off all the same.
    let chunks: Vec<Result<String, std::io::Error>> =
        (0..40).map(|_| Ok("a".repeat(1024))).collect();
    let res = t
        .notify(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .await;
    assert_eq!(res.status(), 413);
    assert_eq!(t.notify_rows().await, 0);
}

#[tokio::test]
async fn a_flood_of_forged_notifies_is_rate_limited_and_stores_no_raw_bodies() {
    let t = spawn_app_with(&[("notify_refused_per_minute", "5".into())]).await;
    let mut statuses = Vec::new();
    for i in 0..20 {
        let res = t.notify(forged(i)).await;
        let status = res.status().as_u16();
        if status == 200 {
            assert_eq!(res.text().await.unwrap(), "failure");
        }
        statuses.push(status);
    }
    assert_eq!(&statuses[..5], &[200; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    // At most a summary of each refused notify within the limit, never its body.
    assert!(t.notify_rows().await <= 5);
    let raw: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pay_alipay_notify WHERE raw_body <> ''")
            .fetch_one(&t.db)
            .await
            .unwrap();
    assert_eq!(raw, 0);
}

#[tokio::test]
async fn retention_deletes_old_notifies_and_keeps_new_ones() {
    let t = spawn_app().await;
    for (id, age_days) in [(1_i64, 100), (2, 31), (3, 29), (4, 0)] {
        sqlx::query(
            "INSERT INTO pay_alipay_notify (id, verified, raw_body, create_time) \
             VALUES (?, 1, 'x', NOW(3) - INTERVAL ? DAY)",
        )
        .bind(id)
        .bind(age_days)
        .execute(&t.db)
        .await
        .unwrap();
    }
    // The service's own retention worker runs once at start and may already
    // have taken some of the old rows: what matters is which rows are left.
    let deleted = retention::run_once(&t.db, 30).await.unwrap();
    assert!(deleted <= 2, "deleted {deleted}");
    let left: Vec<i64> = sqlx::query_scalar("SELECT id FROM pay_alipay_notify ORDER BY id")
        .fetch_all(&t.db)
        .await
        .unwrap();
    assert_eq!(left, vec![3, 4]);
}

/// Posts a forged notify through a proxy that names `client`.
async fn forged_from(t: &crate::helpers::TestApp, client: &str, i: usize) -> u16 {
    t.http
        .post(format!("{}/api/alipay/notify", t.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", client)
        .body(forged(i))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_limit_is_per_client_behind_a_trusted_proxy_and_per_peer_otherwise() {
    // The test talks from 127.0.0.1: here the edge, a trusted proxy.
    let t = spawn_app_with(&[
        ("notify_refused_per_minute", "2".into()),
        ("trusted_proxies", "127.0.0.1".into()),
    ])
    .await;
    let a: Vec<u16> =
        futures::future::join_all((0..3).map(|i| forged_from(&t, "203.0.113.1", i))).await;
    assert_eq!(a.iter().filter(|s| **s == 429).count(), 1, "{a:?}");
    // Another client behind the same edge is not held up by the first.
    assert_eq!(forged_from(&t, "203.0.113.2", 9).await, 200);

    // From a peer that is not trusted, the header names nobody: one limit for all.
    let t = spawn_app_with(&[
        ("notify_refused_per_minute", "2".into()),
        ("trusted_proxies", "10.9.9.9".into()),
    ])
    .await;
    assert_eq!(forged_from(&t, "203.0.113.1", 1).await, 200);
    assert_eq!(forged_from(&t, "203.0.113.2", 2).await, 200);
    assert_eq!(forged_from(&t, "203.0.113.3", 3).await, 429);
}
