//! The sales dashboard (`/api/admin/stats/*`): every figure equals a direct
//! count over the seeded rows, before and after the Redis rankings and day
//! counters are lost and rebuilt; a completed order counts once however often
//! its fulfilment is delivered; admins only.

use std::collections::HashMap;

use chrono::{Days, NaiveDateTime, TimeDelta, Utc};
use paychat_orders::payments::fulfil::{Payment, fulfil};
use paychat_orders::states::{OrderStatus, PayStatus};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::helpers::{TestApp, User, spawn_app};
use crate::pay_support::{PayApp, pay_app_with};

/// The shop's default offset from UTC (Asia/Shanghai, no daylight saving).
const OFFSET_MINUTES: i64 = 480;

const PATHS: [&str; 5] = [
    "/api/admin/stats/summary",
    "/api/admin/stats/daily?days=30",
    "/api/admin/stats/hot-products?by=units&days=30&limit=10",
    "/api/admin/stats/problems",
    "/api/admin/stats/rebuild",
];

fn offset() -> TimeDelta {
    TimeDelta::minutes(OFFSET_MINUTES)
}

/// UTC start of the shop's calendar day `days_back` days before today.
fn day_start(days_back: u64) -> NaiveDateTime {
    let today = (Utc::now().naive_utc() + offset()).date();
    (today - Days::new(days_back)).and_time(chrono::NaiveTime::MIN) - offset()
}

async fn admin_get(app: &TestApp, admin: &User, path: &str) -> Value {
    let res = app.get(admin, path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

async fn scalar(app: &TestApp, sql: &'static str, binds: &[Bind]) -> i64 {
    let mut q = sqlx::query_scalar::<_, i64>(sql);
    for b in binds {
        q = match b {
            Bind::Time(t) => q.bind(*t),
            Bind::Order(s) => q.bind(*s),
            Bind::Pay(s) => q.bind(*s),
        };
    }
    q.fetch_one(&app.db).await.unwrap()
}

enum Bind {
    Time(NaiveDateTime),
    Order(OrderStatus),
    Pay(PayStatus),
}

async fn money(app: &TestApp, from: NaiveDateTime) -> String {
    let d: Decimal = sqlx::query_scalar(
        "SELECT COALESCE(SUM(pay_amount), 0) FROM chat_order WHERE status = ? AND pay_time >= ?",
    )
    .bind(OrderStatus::Completed)
    .bind(from)
    .fetch_one(&app.db)
    .await
    .unwrap();
    format!("{d:.2}")
}

/// The summary of one range, counted directly.
async fn expected_range(app: &TestApp, from: NaiveDateTime) -> Value {
    use Bind::*;
    let answers = scalar(
        app,
        "SELECT COUNT(*) FROM chat_message WHERE message_type = 2 AND create_time >= ?",
        &[Time(from)],
    )
    .await;
    let returned = scalar(
        app,
        "SELECT COUNT(*) FROM chat_message WHERE message_type = 2 AND create_time >= ? \
         AND status <> 1 AND content = ''",
        &[Time(from)],
    )
    .await;
    json!({
        "revenue": money(app, from).await,
        "paid_orders": scalar(app, "SELECT COUNT(*) FROM chat_order WHERE status = ? AND pay_time >= ?",
            &[Order(OrderStatus::Completed), Time(from)]).await,
        "placed_orders": scalar(app, "SELECT COUNT(*) FROM chat_order WHERE create_time >= ?",
            &[Time(from)]).await,
        "closed_orders": scalar(app, "SELECT COUNT(*) FROM chat_order WHERE status = ? AND update_time >= ?",
            &[Order(OrderStatus::Closed), Time(from)]).await,
        "refunded_orders": scalar(app, "SELECT COUNT(DISTINCT order_id) FROM chat_order_history \
             WHERE pay_status = ? AND create_time >= ?", &[Pay(PayStatus::Refunded), Time(from)]).await,
        "new_users": scalar(app, "SELECT COUNT(*) FROM chat_user WHERE create_time >= ?",
            &[Time(from)]).await,
        "answers": answers,
        "chat_times_sold": scalar(app, "SELECT CAST(COALESCE(SUM(e.reward_use_times), 0) AS SIGNED) \
             FROM chat_exchange e JOIN chat_order o ON o.id = e.order_id \
             WHERE o.status = ? AND o.pay_time >= ?", &[Order(OrderStatus::Completed), Time(from)]).await,
        "chat_times_used": answers - returned,
    })
}

async fn expected_summary(app: &TestApp) -> Value {
    json!({
        "today": expected_range(app, day_start(0)).await,
        "last_7_days": expected_range(app, day_start(6)).await,
        "last_30_days": expected_range(app, day_start(29)).await,
    })
}

/// `{date: {field: value}}` of the last 30 days, counted directly.
async fn expected_daily(app: &TestApp) -> Vec<Value> {
    let from = day_start(29);
    let mut days: Vec<Value> = (0..30)
        .rev()
        .map(|back| {
            let date = (Utc::now().naive_utc() + offset()).date() - Days::new(back);
            json!({"date": date.to_string(), "revenue": "0.00", "paid_orders": 0, "placed_orders": 0,
                   "closed_orders": 0, "new_users": 0, "answers": 0, "tokens": 0})
        })
        .collect();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, d) in days.iter().enumerate() {
        index.insert(d["date"].as_str().unwrap().to_owned(), i);
    }
    let grouped: Vec<(String, String, i64, Decimal)> = sqlx::query_as(
        "SELECT 'placed', CAST(DATE(create_time + INTERVAL 480 MINUTE) AS CHAR), COUNT(*), CAST(0 AS DECIMAL(11,2)) \
         FROM chat_order WHERE create_time >= ? GROUP BY 2 \
         UNION ALL SELECT 'paid', CAST(DATE(pay_time + INTERVAL 480 MINUTE) AS CHAR), COUNT(*), SUM(pay_amount) \
         FROM chat_order WHERE status = ? AND pay_time >= ? GROUP BY 2 \
         UNION ALL SELECT 'closed', CAST(DATE(update_time + INTERVAL 480 MINUTE) AS CHAR), COUNT(*), 0 \
         FROM chat_order WHERE status = ? AND update_time >= ? GROUP BY 2 \
         UNION ALL SELECT 'users', CAST(DATE(create_time + INTERVAL 480 MINUTE) AS CHAR), COUNT(*), 0 \
         FROM chat_user WHERE create_time >= ? GROUP BY 2 \
         UNION ALL SELECT 'answers', CAST(DATE(create_time + INTERVAL 480 MINUTE) AS CHAR), COUNT(*), \
         COALESCE(SUM(total_tokens), 0) FROM chat_message WHERE message_type = 2 AND create_time >= ? GROUP BY 2",
    )
    .bind(from)
    .bind(OrderStatus::Completed)
    .bind(from)
    .bind(OrderStatus::Closed)
    .bind(from)
    .bind(from)
    .bind(from)
    .fetch_all(&app.db)
    .await
    .unwrap();
    for (kind, date, n, sum) in grouped {
        let row = &mut days[index[&date]];
        match kind.as_str() {
            "placed" => row["placed_orders"] = json!(n),
            "paid" => {
                row["paid_orders"] = json!(n);
                row["revenue"] = json!(format!("{sum:.2}"));
            }
            "closed" => row["closed_orders"] = json!(n),
            "users" => row["new_users"] = json!(n),
            _ => {
                row["answers"] = json!(n);
                row["tokens"] = json!(i64::try_from(sum.trunc().mantissa()).unwrap());
            }
        }
    }
    days
}

/// The ranking of the last 30 days, counted directly: (product id, units, revenue).
async fn expected_hot(app: &TestApp, by_revenue: bool) -> Vec<(String, i64, String)> {
    let rows: Vec<(i64, i64, Decimal)> = sqlx::query_as(
        "SELECT i.product_id, CAST(SUM(i.exchange_num) AS SIGNED), SUM(i.exchange_num * i.product_price) \
         FROM chat_order o JOIN chat_order_item i ON i.order_id = o.id \
         WHERE o.status = ? AND o.pay_time >= ? GROUP BY i.product_id",
    )
    .bind(OrderStatus::Completed)
    .bind(day_start(29))
    .fetch_all(&app.db)
    .await
    .unwrap();
    let mut rows: Vec<(String, i64, Decimal)> = rows
        .into_iter()
        .map(|(p, u, r)| (p.to_string(), u, r))
        .collect();
    if by_revenue {
        rows.sort_by(|a, b| b.2.cmp(&a.2).then(b.0.cmp(&a.0)));
    } else {
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    }
    rows.into_iter()
        .map(|(p, u, r)| (p, u, format!("{r:.2}")))
        .collect()
}

fn hot_of(body: &Value) -> Vec<(String, i64, String)> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["product_id"].as_str().unwrap().to_owned(),
                i["units"].as_i64().unwrap(),
                i["revenue"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Waits for the counters of orders just completed (bumped right after
/// their fulfilment commits), then asserts.
async fn assert_dashboard_matches_sql(app: &TestApp, admin: &User) {
    crate::helpers::eventually(std::time::Duration::from_secs(10), || async {
        let daily = admin_get(app, admin, "/api/admin/stats/daily?days=30").await;
        daily["items"] == json!(expected_daily(app).await)
    })
    .await;
    let summary = admin_get(app, admin, "/api/admin/stats/summary").await;
    assert_eq!(summary, expected_summary(app).await);
    let daily = admin_get(app, admin, "/api/admin/stats/daily?days=30").await;
    assert_eq!(daily["items"], json!(expected_daily(app).await));
    for (by, by_revenue) in [("units", false), ("revenue", true)] {
        let hot = admin_get(
            app,
            admin,
            &format!("/api/admin/stats/hot-products?by={by}&days=30&limit=10"),
        )
        .await;
        assert_eq!(hot_of(&hot), expected_hot(app, by_revenue).await, "by {by}");
    }
}

/// Deletes every dashboard key of this test's Redis prefix.
async fn lose_redis_stats(t: &PayApp) {
    let mut conn = paychat_common::redis::connect(&t.app.config.common.redis_url).unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}stats:*", t.redis_prefix))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty(), "the dashboard keeps keys in Redis");
    let _: i64 = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .unwrap();
}

/// A paid order through the real payment path (QR code, the buyer pays, the
/// notify is fulfilled).
async fn paid_order(t: &PayApp, product: &str, quantity: i64) -> String {
    let (_, order_id, out_trade_no) = t.order_with_qr(product, quantity).await;
    t.sandbox_pays(&out_trade_no, false).await;
    assert!(t.wait_for_status(&order_id, OrderStatus::Completed).await);
    order_id
}

async fn insert_answer(app: &TestApp, user: i64, at: NaiveDateTime, tokens: i64, content: &str) {
    sqlx::query(
        "INSERT INTO chat_message (id, user_id, message_id, message_type, chat_room_id, api_type, \
         content, status, total_tokens, create_time) VALUES (?, ?, ?, 2, 1, 'api', ?, 2, ?, ?)",
    )
    .bind(app.state.ids.next())
    .bind(user)
    .bind(paychat_common::testing::unique("m"))
    .bind(content)
    .bind(tokens)
    .bind(at)
    .execute(&app.db)
    .await
    .unwrap();
}

/// A completed order paid at `at`, written as history (no Redis counter saw it).
async fn insert_paid_order(
    app: &TestApp,
    product: &str,
    units: i32,
    price: &str,
    at: NaiveDateTime,
) {
    let id = app.state.ids.next();
    let price: Decimal = price.parse().unwrap();
    let total = price * Decimal::from(units);
    sqlx::query(
        "INSERT INTO chat_order (id, user_id, total_amount, pay_amount, status, pay_time, expire_time, \
         create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(app.state.ids.next())
    .bind(total)
    .bind(total)
    .bind(OrderStatus::Completed)
    .bind(at)
    .bind(at)
    .bind(at - TimeDelta::minutes(5))
    .bind(at)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO chat_order_item (id, order_id, product_id, exchange_num, product_name, product_price, \
         create_time) VALUES (?, ?, ?, ?, 'old', ?, ?)",
    )
    .bind(app.state.ids.next())
    .bind(id)
    .bind(product.parse::<i64>().unwrap())
    .bind(units)
    .bind(price)
    .bind(at)
    .execute(&app.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn stats_endpoints_answer_401_to_nobody_and_403_to_a_user() {
    let app = spawn_app().await;
    let user = app.user().await;
    for path in PATHS {
        let post = path.ends_with("/rebuild");
        let anonymous = if post {
            app.client.post(app.url(path)).send().await.unwrap()
        } else {
            app.get_anonymous(path).await
        };
        assert_eq!(anonymous.status(), 401, "{path}");
        let as_user = if post {
            app.post(&user, path, json!({})).await
        } else {
            app.get(&user, path).await
        };
        assert_eq!(as_user.status(), 403, "{path}");
    }
}

#[tokio::test]
async fn stats_days_and_limits_are_checked() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for path in [
        "/api/admin/stats/daily?days=0",
        "/api/admin/stats/daily?days=367",
        "/api/admin/stats/hot-products?by=price",
        "/api/admin/stats/hot-products?limit=0",
    ] {
        assert_eq!(app.get(&admin, path).await.status(), 400, "{path}");
    }
    let daily = admin_get(&app, &admin, "/api/admin/stats/daily?days=7").await;
    let items = daily["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    assert_eq!(
        items[6]["date"],
        json!((Utc::now().naive_utc() + offset()).date().to_string())
    );
    assert_eq!(items[0]["revenue"], json!("0.00"));
}

#[tokio::test]
async fn stats_figures_equal_sql_counts_before_and_after_redis_is_rebuilt() {
    // The sweeper leaves the stale order below alone.
    let t = pay_app_with(&[("sweeper_grace_secs", "86400".into())], true).await;
    let app = &t.app;
    let admin = app.admin().await;
    let cheap = app.product(20, "3.00").await;
    let dear = app.product(20, "5.50").await;

    // Paid before anything read the dashboard: counted by the first rebuild.
    paid_order(&t, &cheap, 2).await;
    // History: paid 3 and 12 days ago, a user from 10 days ago, answers.
    insert_paid_order(app, &dear, 4, "5.50", day_start(3) + TimeDelta::hours(2)).await;
    insert_paid_order(app, &cheap, 1, "3.00", day_start(12) + TimeDelta::hours(5)).await;
    sqlx::query("INSERT INTO chat_user (id, nickname, create_time) VALUES (?, 'old', ?)")
        .bind(app.state.ids.next())
        .bind(day_start(10) + TimeDelta::hours(1))
        .execute(&app.db)
        .await
        .unwrap();
    insert_answer(app, admin.id, Utc::now().naive_utc(), 120, "hello").await;
    insert_answer(app, admin.id, Utc::now().naive_utc(), 0, "").await;
    insert_answer(
        app,
        admin.id,
        day_start(2) + TimeDelta::hours(3),
        300,
        "old",
    )
    .await;
    // Problems: a parked payment, a refused notify, an order past its window.
    sqlx::query(
        "INSERT INTO chat_payment_failure (id, order_id, out_trade_no, event_payload, error_message) \
         VALUES (?, 1, 'x_1', '{}', 'boom')",
    )
    .bind(app.state.ids.next())
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO pay_alipay_notify (id, verified, rejection_reason, raw_body) VALUES (?, 0, 'bad sign', '')",
    )
    .bind(app.state.ids.next())
    .execute(&app.db)
    .await
    .unwrap();
    let stale = app.state.ids.next();
    sqlx::query(
        "INSERT INTO chat_order (id, user_id, total_amount, pay_amount, status, expire_time) \
         VALUES (?, ?, 1.00, 0, ?, UTC_TIMESTAMP(3) - INTERVAL 1 HOUR)",
    )
    .bind(stale)
    .bind(app.state.ids.next())
    .bind(OrderStatus::AwaitingConfirmation)
    .execute(&app.db)
    .await
    .unwrap();

    assert_dashboard_matches_sql(app, &admin).await;

    // Orders after the first read go through the counters kept on completion.
    paid_order(&t, &dear, 1).await;
    paid_order(&t, &cheap, 3).await;
    let (closer, _) = t.buyer().await;
    let closed = t.order(&closer, &cheap, 1).await;
    assert_eq!(app.close(&closer, &closed).await.status(), 200);
    let (_, _unpaid, _) = t.order_with_qr(&dear, 2).await;
    assert_dashboard_matches_sql(app, &admin).await;

    let problems = admin_get(app, &admin, "/api/admin/stats/problems").await;
    assert_eq!(
        problems,
        json!({"payment_failures": 1, "stale_awaiting_confirmation": 1, "refused_notifies_24h": 1})
    );

    // Redis lost its data: the next read rebuilds from the database.
    lose_redis_stats(&t).await;
    assert_dashboard_matches_sql(app, &admin).await;
    // And an operator can ask for it.
    let res = app
        .post(&admin, "/api/admin/stats/rebuild", json!({}))
        .await;
    assert_eq!(res.status(), 200);
    assert_dashboard_matches_sql(app, &admin).await;
}

#[tokio::test]
async fn a_completed_order_bumps_the_ranking_once_even_if_fulfilled_twice() {
    let t = pay_app_with(&[], true).await;
    let app = &t.app;
    let admin = app.admin().await;
    let product = app.product(10, "2.00").await;
    // The keys exist before the order completes.
    let before = admin_get(app, &admin, "/api/admin/stats/hot-products?by=units").await;
    assert_eq!(before["items"], json!([]));

    let (_, order_id, out_trade_no) = t.order_with_qr(&product, 2).await;
    let trade = t.sandbox_pays(&out_trade_no, true).await;
    let payment = Payment {
        order_id: order_id.parse().unwrap(),
        out_trade_no: out_trade_no.clone(),
        trade_no: trade["trade_no"].as_str().unwrap_or_default().to_owned(),
        amount: "4.00".parse().unwrap(),
        buyer_account: None,
    };
    fulfil(&app.state, &payment).await.unwrap();
    fulfil(&app.state, &payment).await.unwrap();
    // The completion call itself, delivered again, is a no-op.
    paychat_orders::stats::ledger::order_completed(&app.state, payment.order_id).await;
    paychat_orders::stats::ledger::order_completed(&app.state, payment.order_id).await;
    assert_eq!(app.order_status(&order_id).await, OrderStatus::Completed);

    let hot = admin_get(app, &admin, "/api/admin/stats/hot-products?by=units").await;
    assert_eq!(hot_of(&hot), vec![(product.clone(), 2, "4.00".to_owned())]);
    let name = hot["items"][0]["name"].as_str().unwrap().to_owned();
    assert!(!name.is_empty());
    let daily = admin_get(app, &admin, "/api/admin/stats/daily?days=1").await;
    assert_eq!(daily["items"][0]["paid_orders"], json!(1));
    assert_eq!(daily["items"][0]["revenue"], json!("4.00"));
}
