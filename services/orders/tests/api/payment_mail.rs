//! The bought-codes email: written in the buyer's language, pointing at the
//! web app's page where codes are redeemed.

use crate::helpers::eventually;
use crate::pay_support::{PayApp, WAIT, grouped, pay_app_with};

const WEB_BASE: &str = "http://web.test";

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A buyer whose language is `locale` pays for one unit; answers the codes
/// mail and the bought codes.
async fn bought(t: &PayApp, product: &str, locale: &str) -> (serde_json::Value, Vec<String>) {
    let (buyer, email) = t.buyer().await;
    sqlx::query("UPDATE chat_user SET locale = ? WHERE id = ?")
        .bind(locale)
        .bind(buyer.id)
        .execute(&t.app.db)
        .await
        .unwrap();
    let order_id = t.order(&buyer, product, 1).await;
    let paid = t.pay_ok(&buyer, &order_id).await;
    t.sandbox_pays(paid["out_trade_no"].as_str().unwrap(), false)
        .await;
    assert!(
        eventually(WAIT, || async { !t.mails_to(&email).await.is_empty() }).await,
        "no codes email to the buyer"
    );
    let codes = t.owned_codes(&buyer, &order_id).await;
    (t.mails_to(&email).await.remove(0), codes)
}

#[tokio::test]
async fn the_codes_email_is_in_the_buyers_language_and_links_to_my_codes() {
    let t = pay_app_with(&[("web_base_url", WEB_BASE.into())], true).await;
    let product = t.app.product(4, "9.90").await;
    let link = format!("{WEB_BASE}/codes");

    let (mail, codes) = bought(&t, &product, "zh-CN").await;
    let (subject, text, html) = (
        mail["subject"].as_str().unwrap(),
        mail["text"].as_str().unwrap(),
        mail["html"].as_str().unwrap(),
    );
    assert!(has_chinese(subject), "{subject}");
    assert!(has_chinese(text) && !text.contains("Hello"), "{text}");
    assert!(text.contains(&link), "{text}");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    assert!(!text.contains("recharge page"), "{text}");
    for code in &codes {
        assert!(text.contains(&grouped(code)));
    }

    let (mail, _) = bought(&t, &product, "en").await;
    let (subject, text) = (
        mail["subject"].as_str().unwrap(),
        mail["text"].as_str().unwrap(),
    );
    assert!(!has_chinese(subject) && !has_chinese(text), "{text}");
    assert!(text.contains("My codes"), "{text}");
    assert!(text.contains(&link), "{text}");
}
