//! The money flows on /metrics: a real scrape after an order is placed and
//! paid through the sandbox Alipay, another placed and closed, and a forged
//! notify refused, shows each counter moved; and every metric the orders and
//! gateway groups of deploy/prometheus/alerts.yml name is exported (the
//! gateway runs in this process, so the one scrape holds both).

use paychat_common::alert_rules::{
    ALERTS_FILE, DASHBOARD_FILE, metrics_of_dashboard, metrics_of_group, missing_from, sample,
};
use paychat_orders::states::OrderStatus;

use crate::pay_support::{PayApp, pay_app};

async fn scrape(t: &PayApp) -> String {
    t.app.get_anonymous("/metrics").await.text().await.unwrap()
}

/// The sum of every sample of `name` (all label sets).
fn total(scrape: &str, name: &str) -> f64 {
    scrape
        .lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn money_counters_move_and_every_alerted_metric_is_exported() {
    let t = pay_app().await;
    let first = scrape(&t).await;
    // Present from the start, at 0.
    for series in [
        "orders_paid_total",
        "orders_refunded_total",
        "payment_events_parked_total",
        "fulfilment_failures_total{path=\"event\"}",
        "reconcile_findings_total{finding=\"paid_without_notify\"}",
        "stock_giveback_failures_total{path=\"close\"}",
    ] {
        assert_eq!(sample(&first, series), Some(0.0), "{series}: {first}");
    }

    let product = t.app.product(5, "3.00").await;
    let (buyer, _) = t.buyer().await;
    let paid = t.order(&buyer, &product, 1).await;
    let out_trade_no = t.out_trade_no(&buyer, &paid).await;
    t.sandbox_pays(&out_trade_no, false).await;
    assert!(t.wait_for_status(&paid, OrderStatus::Completed).await);
    let closed = t.order(&buyer, &product, 1).await;
    assert_eq!(t.app.close(&buyer, &closed).await.status(), 200);
    assert!(
        t.notify("sign=forged&out_trade_no=1".into())
            .await
            .contains("failure")
    );

    let after = scrape(&t).await;
    assert_eq!(
        sample(&after, "orders_placed_total{outcome=\"accepted\"}"),
        Some(2.0),
        "{after}"
    );
    assert_eq!(sample(&after, "orders_paid_total"), Some(1.0));
    assert_eq!(total(&after, "orders_closed_total"), 1.0, "{after}");
    assert_eq!(
        sample(
            &after,
            "gateway_notifies_total{result=\"accepted\",outcome=\"HandedOver\"}"
        ),
        Some(1.0),
        "{after}"
    );
    assert_eq!(
        sample(
            &after,
            "gateway_notifies_total{result=\"refused\",outcome=\"unverified\"}"
        ),
        Some(1.0),
        "{after}"
    );
    assert_eq!(total(&after, "fulfilment_failures_total"), 0.0);

    // The dashboard's money panels watch series that exist.
    let dashboard = std::fs::read_to_string(DASHBOARD_FILE).unwrap();
    let prefixes = [
        "orders_",
        "gateway_",
        "fulfilment_",
        "payment_",
        "reconcile_",
        "stock_",
    ];
    let panels = metrics_of_dashboard(&dashboard, &prefixes);
    assert!(panels.len() >= 8, "{panels:?}");
    assert_eq!(
        missing_from(&after, &panels),
        Vec::<String>::new(),
        "{after}"
    );

    let rules = std::fs::read_to_string(ALERTS_FILE).unwrap();
    for group in ["paychat-orders", "paychat-gateway"] {
        let wanted = metrics_of_group(&rules, group);
        assert!(!wanted.is_empty(), "{group}");
        assert_eq!(
            missing_from(&after, &wanted),
            Vec::<String>::new(),
            "{group}: {after}"
        );
    }
}
