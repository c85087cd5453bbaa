//! Throughput of the gateway's crypto hot paths, with the shipped sandbox keys:
//! envelope seal + open round trips per second (orders → gateway), and Alipay notify
//! signature verifications per second. Run in release:
//! `cargo run --release -p paychat-payment-gateway --bin bench_envelope [seconds]`.

use std::time::{Duration, Instant};

use anyhow::Context;
use paychat_common::envelope::{self, EnvelopePrivateKey, EnvelopePublicKey};
use paychat_payment_gateway::alipay::{AlipayPublicKey, AppPrivateKey, verify_notify};
use paychat_payment_gateway::sealed::PAY;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/sandbox-keys/");

fn read(name: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(format!("{KEYS}{name}")).with_context(|| format!("reading {name}"))
}

/// Runs `f` repeatedly for about `budget` and returns operations per second.
fn rate(budget: Duration, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    // Warm up caches and lazy initialisation first.
    for _ in 0..20 {
        f()?;
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        f()?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let secs: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()
        .context("the argument is the seconds per measurement")?
        .unwrap_or(3);
    let budget = Duration::from_secs(secs);

    let orders = EnvelopePrivateKey::from_pkcs8_pem(&read("orders_envelope_private.pem")?)?;
    let orders_pub = EnvelopePublicKey::from_spki_pem(&read("orders_envelope_public.pem")?)?;
    let gateway = EnvelopePrivateKey::from_pkcs8_pem(&read("gateway_envelope_private.pem")?)?;
    let gateway_pub = EnvelopePublicKey::from_spki_pem(&read("gateway_envelope_public.pem")?)?;
    let request = br#"{"order_id":"7301234567890123456","out_trade_no":"7301234567890123456_1","total_amount":"29.90","subject":"PayChat 100 chats","qr_code_timeout_express":"30m"}"#;
    let now = 1_790_000_000;

    let round_trips = rate(budget, || {
        let env = envelope::seal(request, PAY, &gateway_pub, &orders, now)?;
        let opened = envelope::open(&env, PAY, &gateway, &orders_pub, now)?;
        anyhow::ensure!(opened.plaintext.len() == request.len());
        Ok(())
    })?;

    // A notify as the sandbox sends it, signed with the sandbox "Alipay" key.
    let alipay_signer = AppPrivateKey::from_text(&read("alipay_private.pem")?)?;
    let alipay_key = AlipayPublicKey::from_text(&read("alipay_public.pem")?)?;
    let mut params: Vec<(String, String)> = [
        ("app_id", "2021000000000001"),
        ("auth_app_id", "2021000000000001"),
        ("buyer_id", "2088102000000001"),
        ("buyer_logon_id", "sandbox***@example.com"),
        ("buyer_pay_amount", "29.90"),
        ("charset", "utf-8"),
        (
            "fund_bill_list",
            r#"[{"amount":"29.90","fundChannel":"ALIPAYACCOUNT"}]"#,
        ),
        ("gmt_create", "2026-11-23 10:00:00"),
        ("gmt_payment", "2026-11-23 10:00:05"),
        ("invoice_amount", "29.90"),
        ("notify_id", "2026112300222100005000000000000001"),
        ("notify_time", "2026-11-23 10:00:06"),
        ("notify_type", "trade_status_sync"),
        ("out_trade_no", "7301234567890123456_1"),
        ("point_amount", "0.00"),
        ("receipt_amount", "29.90"),
        ("seller_id", "2088000000000001"),
        ("subject", "PayChat 100 chats"),
        ("total_amount", "29.90"),
        ("trade_no", "2026112322001000000000000001"),
        ("trade_status", "TRADE_SUCCESS"),
        ("version", "1.0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let content = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    params.push(("sign".into(), alipay_signer.sign(content.as_bytes())?));
    params.push(("sign_type".into(), "RSA2".into()));
    let body = serde_urlencoded::to_string(&params)?;

    let verifications = rate(budget, || {
        verify_notify(body.as_bytes(), &alipay_key)?;
        Ok(())
    })?;

    println!(
        "envelope seal+open round trips/s (RSA-2048, {} B payload): {round_trips:.0}",
        request.len()
    );
    println!("notify verifications/s (parse + SHA256withRSA-2048 verify): {verifications:.0}");
    Ok(())
}
