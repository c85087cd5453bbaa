//! The books after the run, read from the database, the sandbox Alipay's own
//! records and Redis. Each invariant is counted in violations, with a few
//! examples so a failure can be looked into.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::MySqlPool;

use crate::api::ServerError;
use crate::faults::Window;

/// The timers the services of the run get (see processes.rs): an unpaid order
/// must be closed by window + grace + one sweeper interval.
pub const PAYMENT_WINDOW_SECS: u64 = 20;
pub const SWEEPER_INTERVAL_SECS: u64 = 5;
pub const SWEEPER_GRACE_SECS: u64 = 5;

#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: &'static str,
    pub violations: usize,
    pub examples: Vec<String>,
}

impl Outcome {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            violations: 0,
            examples: Vec::new(),
        }
    }

    fn violation(&mut self, example: impl FnOnce() -> String) {
        self.violations += 1;
        if self.examples.len() < 3 {
            self.examples.push(example());
        }
    }
}

pub struct Books<'a> {
    pub db: &'a MySqlPool,
    pub redis: &'a redis::Client,
    pub redis_prefix: &'a str,
    pub http: &'a reqwest::Client,
    pub alipay: &'a str,
    /// Product id → the stock it was created with.
    pub initial_stock: &'a HashMap<i64, i64>,
    pub admin_email: &'a str,
}

#[derive(Debug, Default)]
struct TradeRows {
    order_id: Option<i64>,
    paid: i64,
    refunded: i64,
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    status: i8,
    units: i64,
    codes: i64,
}

fn decimal(v: &Value) -> Decimal {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_default()
}

impl Books<'_> {
    /// Every invariant but the 5xx one, which [`server_errors_outside`] counts.
    pub async fn check(&self) -> anyhow::Result<Vec<Outcome>> {
        let trades: Value = self
            .http
            .get(format!("{}/sim/trades", self.alipay))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let trades = trades["items"].as_array().cloned().unwrap_or_default();

        let mut rows: HashMap<String, TradeRows> = HashMap::new();
        let hist: Vec<(String, i64, i8)> = sqlx::query_as(
            "SELECT out_trade_no, order_id, pay_status FROM chat_order_history \
             WHERE out_trade_no IS NOT NULL",
        )
        .fetch_all(self.db)
        .await?;
        for (out, order_id, pay_status) in hist {
            let r = rows.entry(out).or_default();
            r.order_id = Some(order_id);
            match pay_status {
                1 => r.paid += 1,
                4 => r.refunded += 1,
                _ => {}
            }
        }
        let orders: Vec<OrderRow> = sqlx::query_as(
            "SELECT o.id, CAST(o.status AS SIGNED) AS status, \
             CAST(COALESCE((SELECT SUM(i.exchange_num) FROM chat_order_item i WHERE i.order_id = o.id), 0) AS SIGNED) AS units, \
             CAST((SELECT COUNT(*) FROM chat_exchange e WHERE e.order_id = o.id) AS SIGNED) AS codes \
             FROM chat_order o",
        )
        .fetch_all(self.db)
        .await?;
        let orders: HashMap<i64, OrderRow> = orders.into_iter().map(|o| (o.id, o)).collect();

        // 1. Every paid trade is completed exactly once or refunded exactly once.
        let mut settled =
            Outcome::new("every paid trade completed exactly once or refunded exactly once");
        let mut paid_trades = std::collections::HashSet::new();
        for t in &trades {
            if t["ever_paid"] != true {
                continue;
            }
            let out = t["out_trade_no"].as_str().unwrap_or_default().to_owned();
            paid_trades.insert(out.clone());
            let r = rows.get(&out);
            let order = r.and_then(|r| r.order_id).and_then(|id| orders.get(&id));
            let sandbox_refunds = t["refunds"].as_array().map_or(0, Vec::len);
            let refunded_all = decimal(&t["refunded"]) == decimal(&t["total_amount"]);
            let (paid, refunded) = r.map_or((0, 0), |r| (r.paid, r.refunded));
            let completed = paid == 1
                && refunded == 0
                && sandbox_refunds == 0
                && order.is_some_and(|o| o.status == 2 && o.codes == o.units);
            let given_back = paid == 0 && refunded == 1 && sandbox_refunds == 1 && refunded_all;
            if !(completed || given_back) {
                settled.violation(|| {
                    format!(
                        "trade {out}: paid rows {paid}, refund rows {refunded}, Alipay refunds {sandbox_refunds} (all: {refunded_all}), order {:?}",
                        order.map(|o| (o.id, o.status, o.units, o.codes))
                    )
                });
            }
        }

        // 2. No refund (nor fulfilment) without a payment Alipay took.
        let mut unpaid = Outcome::new("no refund or completion without a payment");
        for t in &trades {
            if t["ever_paid"] != true && decimal(&t["refunded"]) > Decimal::ZERO {
                unpaid.violation(|| format!("Alipay refunded unpaid trade {}", t["out_trade_no"]));
            }
        }
        for (out, r) in &rows {
            if (r.paid > 0 || r.refunded > 0) && !paid_trades.contains(out) {
                unpaid.violation(|| {
                    format!("trade {out} recorded paid/refunded, never paid at Alipay")
                });
            }
        }
        let paid_orders: std::collections::HashSet<i64> = rows
            .values()
            .filter(|r| r.paid > 0)
            .filter_map(|r| r.order_id)
            .collect();
        for o in orders.values() {
            if o.status == 2 && !paid_orders.contains(&o.id) {
                unpaid.violation(|| format!("order {} completed without a paid trade", o.id));
            }
        }

        // 3. Stock: initial = database + sold; Redis = database - held by open orders.
        let mut stock =
            Outcome::new("stock: initial = DB + sold, Redis = DB - held by open orders");
        let products: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT p.id, CAST(p.stock AS SIGNED), \
             CAST(COALESCE((SELECT SUM(i.exchange_num) FROM chat_order_item i JOIN chat_order o ON o.id = i.order_id \
               WHERE i.product_id = p.id AND o.status = 2), 0) AS SIGNED), \
             CAST(COALESCE((SELECT SUM(i.exchange_num) FROM chat_order_item i JOIN chat_order o ON o.id = i.order_id \
               WHERE i.product_id = p.id AND o.status IN (0, 1)), 0) AS SIGNED) \
             FROM chat_product p",
        )
        .fetch_all(self.db)
        .await?;
        let mut conn = self.redis.get_multiplexed_async_connection().await?;
        for (id, db_stock, sold, held) in products {
            let Some(initial) = self.initial_stock.get(&id) else {
                continue;
            };
            if *initial != db_stock + sold {
                stock.violation(|| {
                    format!("product {id}: initial {initial} != DB {db_stock} + sold {sold}")
                });
            }
            let key = format!("{}stock:{{stock}}:{id}", self.redis_prefix);
            let in_redis: Option<i64> = redis::cmd("GET").arg(&key).query_async(&mut conn).await?;
            // A missing count is loaded from the database before anything uses it.
            if let Some(r) = in_redis
                && r != db_stock - held
            {
                stock.violation(|| {
                    format!("product {id}: Redis {r} != DB {db_stock} - held {held}")
                });
            }
        }

        // 4. No order left awaiting payment past its window and the sweeper's grace.
        let mut overdue = Outcome::new("no order awaiting payment past its window + sweeper grace");
        let late: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM chat_order WHERE status IN (0, 1) \
             AND expire_time < UTC_TIMESTAMP(3) - INTERVAL ? SECOND",
        )
        .bind(SWEEPER_GRACE_SECS + SWEEPER_INTERVAL_SECS)
        .fetch_all(self.db)
        .await?;
        for (id,) in late {
            overdue.violation(|| format!("order {id} still awaiting payment"));
        }

        // 5. Chat times = redeemed - answers delivered (+ admin adjustments).
        let mut times = Outcome::new("chat times = redeemed - answers delivered + adjustments");
        let users: Vec<(i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT u.id, CAST(u.can_conversation_times AS SIGNED), \
             CAST(COALESCE((SELECT SUM(e.reward_use_times) FROM chat_user_exchange_record r \
               JOIN chat_exchange e ON e.id = r.exchange_id WHERE r.user_id = u.id), 0) AS SIGNED), \
             CAST((SELECT COUNT(*) FROM chat_message m WHERE m.user_id = u.id AND m.message_type = 2 \
               AND m.content <> '') AS SIGNED), \
             CAST(COALESCE((SELECT SUM(a.delta) FROM chat_times_adjustment a WHERE a.user_id = u.id), 0) AS SIGNED) \
             FROM chat_user u",
        )
        .fetch_all(self.db)
        .await?;
        for (id, balance, redeemed, delivered, adjusted) in users {
            if balance != redeemed - delivered + adjusted {
                times.violation(|| {
                    format!("user {id}: {balance} times, redeemed {redeemed} - delivered {delivered} + adjusted {adjusted}")
                });
            }
        }

        // 6. No code redeemed twice, and a code is marked used exactly when redeemed.
        let mut codes = Outcome::new("no code redeemed twice");
        let twice: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT exchange_id, COUNT(*) FROM chat_user_exchange_record \
             GROUP BY exchange_id HAVING COUNT(*) > 1",
        )
        .fetch_all(self.db)
        .await?;
        for (id, n) in twice {
            codes.violation(|| format!("code {id} redeemed {n} times"));
        }
        let mismatched: Vec<(i64,)> = sqlx::query_as(
            "SELECT e.id FROM chat_exchange e WHERE (e.is_used = 1) <> \
             EXISTS (SELECT 1 FROM chat_user_exchange_record r WHERE r.exchange_id = e.id)",
        )
        .fetch_all(self.db)
        .await?;
        for (id,) in mismatched {
            codes.violation(|| format!("code {id}: used flag and redemption records disagree"));
        }
        let _ = self.admin_email;
        Ok(vec![settled, unpaid, stock, overdue, times, codes])
    }
}

/// 7. No 5xx outside a fault window.
pub fn server_errors_outside(errors: &[ServerError], windows: &[Window]) -> Outcome {
    let mut o = Outcome::new("no 5xx outside a fault window");
    for e in errors {
        if !windows.iter().any(|w| w.contains(e.at)) {
            o.violation(|| format!("{} answered {}", e.what, e.status));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::faults::Fault;

    #[test]
    fn only_server_errors_outside_every_window_are_violations() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let windows = [Window {
            fault: Fault::KillOrders,
            start: at(10),
            end: at(20),
        }];
        let errors: Vec<ServerError> = [5, 10, 15, 20, 21]
            .into_iter()
            .map(|s| ServerError {
                at: at(s),
                what: "place order",
                status: 502,
            })
            .collect();
        let o = server_errors_outside(&errors, &windows);
        assert_eq!(o.violations, 2);
        assert_eq!(o.examples.len(), 2);
    }
}
