//! The "your redemption codes" email (biz_type 12), sent after fulfilment
//! commits. Its words live here; the transport and the `sys_email_send_log`
//! row, with the codes redacted (a code is as good as money; it never rests in
//! a log), are `paychat_common::mail`'s.

use paychat_common::ids::IdGenerator;
use paychat_common::mail::{self, Outgoing, REDACTED, escape_html as escape};
use sqlx::MySqlPool;

use super::config::PaymentsConfig;

/// `sys_email_send_log.biz_type` of a code purchase.
pub const BIZ_CODES_BOUGHT: i32 = 12;

/// One bought code, as the email lists it.
#[derive(Debug, Clone)]
pub struct BoughtCode {
    pub product_name: String,
    pub code: String,
}

#[derive(Clone)]
pub struct Mailer(mail::Mailer);

impl Mailer {
    pub fn new(config: &PaymentsConfig) -> anyhow::Result<Self> {
        mail::Mailer::new(&paychat_common::smtp_settings!(config)).map(Self)
    }

    /// Sends the codes of a paid order and logs the send (codes redacted).
    pub async fn send_codes(
        &self,
        db: &MySqlPool,
        ids: &IdGenerator,
        to: &str,
        order_id: i64,
        codes: &[BoughtCode],
    ) -> anyhow::Result<()> {
        let delivery = self
            .0
            .deliver(db, ids, &codes_email(to, order_id, codes))
            .await?;
        match &delivery.error {
            None => tracing::info!(order_id, message_id = %delivery.message_id, "codes emailed"),
            Some(e) => tracing::warn!(order_id, error = %e, "codes email not sent"),
        }
        Ok(())
    }
}

/// The email listing the codes of order `order_id`; the logged text has them redacted.
fn codes_email(to: &str, order_id: i64, codes: &[BoughtCode]) -> Outgoing {
    let lines = |redact: bool| {
        codes
            .iter()
            .map(|c| {
                let code = if redact { REDACTED } else { c.code.as_str() };
                format!("{}: {code}", c.product_name)
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let text_with = |redact: bool| {
        format!(
            "Hello,\n\nThank you for your purchase (order {order_id}). Your redemption codes:\n\n{}\n\n\
             Redeem them on the recharge page of PayChat.\n\n— PayChat\n",
            lines(redact)
        )
    };
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Hello,</p>\
         <p>Thank you for your purchase (order {order_id}). Your redemption codes:</p><ul>{}</ul>\
         <p>Redeem them on the recharge page of PayChat.</p><p>— PayChat</p></body></html>",
        codes
            .iter()
            .map(|c| format!(
                "<li>{}: <code>{}</code></li>",
                escape(&c.product_name),
                escape(&c.code)
            ))
            .collect::<String>()
    );
    Outgoing {
        to: to.to_owned(),
        biz_type: BIZ_CODES_BOUGHT,
        subject: "Your PayChat redemption codes".into(),
        text: text_with(false),
        html,
        logged_text: text_with(true),
        request_ip: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_are_mailed_and_redacted_in_the_log() {
        let codes = [BoughtCode {
            product_name: "Chat <pack>".into(),
            code: "ABCD-1234".into(),
        }];
        let mail = codes_email("zoe@example.com", 7, &codes);
        assert!(mail.text.contains("Chat <pack>: ABCD-1234"));
        assert!(
            mail.html
                .contains("Chat &lt;pack&gt;: <code>ABCD-1234</code>")
        );
        assert!(!mail.logged_text.contains("ABCD-1234"));
        assert!(mail.logged_text.contains("Chat <pack>: [redacted]"));
        assert_eq!(mail.biz_type, BIZ_CODES_BOUGHT);
        assert_eq!(mail.request_ip, None);
    }
}
