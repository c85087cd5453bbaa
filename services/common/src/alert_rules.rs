//! The metrics the Prometheus alert rules (deploy/prometheus/alerts.yml) and
//! the Grafana dashboard (deploy/grafana/paychat.json) name, so each service's
//! tests can check, against a real scrape of its /metrics, that every rule of
//! its group and every panel query of its metrics watches a series that exists. (`promtool` is
//! not part of the build; a rule naming a metric nobody exports would never
//! fire, and that is the mistake this catches.)

/// deploy/prometheus/alerts.yml in the repository.
pub const ALERTS_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/prometheus/alerts.yml"
);

/// deploy/grafana/paychat.json in the repository.
pub const DASHBOARD_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/grafana/paychat.json"
);

/// Endings of the services' metric names (counters, histograms, gauges) as
/// this project names them; PromQL functions and labels never end so.
const METRIC_ENDINGS: [&str; 4] = ["_total", "_seconds", "_bucket", "_open"];

/// The metric names in the `expr:` lines of group `group`.
pub fn metrics_of_group(rules: &str, group: &str) -> Vec<String> {
    let mut inside = false;
    let mut names: Vec<String> = Vec::new();
    for line in rules.lines() {
        let trimmed = line.trim_start();
        if let Some(name) = trimmed.strip_prefix("- name:") {
            inside = name.trim() == group;
            continue;
        }
        if let Some(expr) = trimmed.strip_prefix("expr:").filter(|_| inside) {
            add_metrics(expr, &mut names);
        }
    }
    names
}

/// The metric names in the dashboard's panel queries whose names start with
/// one of `prefixes` (a service's own metrics). Empty when it is not JSON.
pub fn metrics_of_dashboard(dashboard: &str, prefixes: &[&str]) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(dashboard) else {
        return names;
    };
    let panels = doc["panels"].as_array().cloned().unwrap_or_default();
    for panel in &panels {
        for target in panel["targets"].as_array().cloned().unwrap_or_default() {
            if let Some(expr) = target["expr"].as_str() {
                add_metrics(expr, &mut names);
            }
        }
    }
    names.retain(|n| prefixes.iter().any(|p| n.starts_with(p)));
    names
}

fn add_metrics(expr: &str, names: &mut Vec<String>) {
    for token in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')) {
        if METRIC_ENDINGS.iter().any(|e| token.ends_with(e)) && !names.iter().any(|n| n == token) {
            names.push(token.to_owned());
        }
    }
}

/// The names of `wanted` with no sample in `scrape` (Prometheus text format).
pub fn missing_from(scrape: &str, wanted: &[String]) -> Vec<String> {
    wanted
        .iter()
        .filter(|name| {
            !scrape.lines().any(|line| {
                line.strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
        })
        .cloned()
        .collect()
}

/// The value of the sample `series` (`name` or `name{labels}` exactly as
/// rendered), if the scrape has it.
pub fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?.strip_prefix(' ')?;
        rest.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_group_names_metrics() {
        let rules = std::fs::read_to_string(ALERTS_FILE).expect("alerts.yml");
        for group in ["paychat-orders", "paychat-chat-api", "paychat-gateway"] {
            assert!(!metrics_of_group(&rules, group).is_empty(), "{group}");
        }
        let chat = metrics_of_group(&rules, "paychat-chat-api");
        assert!(chat.contains(&"chat_upstream_errors_total".to_owned()));
        assert!(!chat.contains(&"fulfilment_failures_total".to_owned()));
    }

    #[test]
    fn the_dashboard_is_json_and_names_each_services_metrics() {
        let dashboard = std::fs::read_to_string(DASHBOARD_FILE).expect("paychat.json");
        let chat = metrics_of_dashboard(&dashboard, &["chat_"]);
        assert!(chat.contains(&"chat_streams_open".to_owned()), "{chat:?}");
        assert!(chat.contains(&"chat_upstream_errors_total".to_owned()));
        let orders = metrics_of_dashboard(&dashboard, &["orders_", "gateway_"]);
        assert!(
            orders.contains(&"gateway_notifies_total".to_owned()),
            "{orders:?}"
        );
        assert!(metrics_of_dashboard("not json", &[""]).is_empty());
    }

    #[test]
    fn a_scrape_is_read_by_name_and_labels() {
        let scrape = "# TYPE a_total counter\na_total{x=\"1\"} 3\nb_open 2\n";
        let wanted = [
            "a_total".to_owned(),
            "b_open".to_owned(),
            "c_total".to_owned(),
        ];
        assert_eq!(missing_from(scrape, &wanted), ["c_total"]);
        assert_eq!(sample(scrape, "a_total{x=\"1\"}"), Some(3.0));
        assert_eq!(sample(scrape, "b_open"), Some(2.0));
        assert_eq!(sample(scrape, "a_total"), None);
    }
}
