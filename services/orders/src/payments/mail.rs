//! The "your redemption codes" email (biz_type 12), sent after fulfilment
//! commits, and the "your payment was refunded" email (biz_type 13), sent once
//! a refund is recorded. Their words live here; the transport and the
//! `sys_email_send_log` row, with the codes redacted (a code is as good as
//! money; it never rests in a log), are `paychat_common::mail`'s.

use paychat_common::ids::IdGenerator;
use paychat_common::mail::{self, Outgoing, REDACTED, escape_html as escape};
use rust_decimal::Decimal;
use sqlx::MySqlPool;

use super::config::PaymentsConfig;
use crate::orders::types::{OrderRow, OrderStatus};
use crate::state::AppState;

/// `sys_email_send_log.biz_type` of a code purchase.
pub const BIZ_CODES_BOUGHT: i32 = 12;
/// `sys_email_send_log.biz_type` of a refunded payment.
pub const BIZ_REFUNDED: i32 = 13;

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

    /// Tells the buyer a payment of `order_id` went back, and logs the send.
    pub async fn send_refund(
        &self,
        db: &MySqlPool,
        ids: &IdGenerator,
        to: &str,
        refund: &RefundNotice,
    ) -> anyhow::Result<()> {
        let delivery = self.0.deliver(db, ids, &refund_email(to, refund)).await?;
        let order_id = refund.order_id;
        match &delivery.error {
            None => tracing::info!(order_id, message_id = %delivery.message_id, "refund emailed"),
            Some(e) => tracing::warn!(order_id, error = %e, "refund email not sent"),
        }
        Ok(())
    }
}

/// A refunded payment, as its email tells it.
#[derive(Debug, Clone)]
pub struct RefundNotice {
    pub order_id: i64,
    pub amount: Decimal,
    /// The order had closed when the money came (rather than being paid already).
    pub after_closing: bool,
}

/// Emails the buyer of `order` that `amount` was refunded. Called once the
/// refund is recorded; a failure is logged, never returned (the refund stands).
pub async fn send_refund_notice(state: &AppState, order: &OrderRow, amount: Decimal) {
    let order_id = order.id;
    let to = match super::queries::buyer_email(&state.db, order.user_id).await {
        Ok(Some(to)) => to,
        Ok(None) => {
            tracing::warn!(
                order_id,
                user_id = order.user_id,
                "buyer has no email address; refund not emailed"
            );
            return;
        }
        Err(e) => {
            tracing::error!(order_id, error = %e, "could not read the buyer's email address");
            return;
        }
    };
    let notice = RefundNotice {
        order_id,
        amount,
        after_closing: order.status() != OrderStatus::Completed,
    };
    if let Err(e) = state
        .payments
        .mailer
        .send_refund(&state.db, &state.ids, &to, &notice)
        .await
    {
        tracing::error!(
            order_id,
            error = format!("{e:#}"),
            "could not log the refund email"
        );
    }
}

/// The email telling the buyer a payment was refunded to their Alipay account.
fn refund_email(to: &str, refund: &RefundNotice) -> Outgoing {
    let RefundNotice {
        order_id, amount, ..
    } = refund;
    let amount = paychat_common::money::to_string(*amount);
    let why = if refund.after_closing {
        format!("Your payment of ¥{amount} for order {order_id} arrived after the order had closed")
    } else {
        format!(
            "Order {order_id} was already paid, so your second payment of ¥{amount} was not needed"
        )
    };
    let text = format!(
        "Hello,\n\n{why}. It has been refunded to your Alipay account; nothing was charged.\n\n\
         To buy again, place a new order on the recharge page of PayChat.\n\n— PayChat\n"
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Hello,</p>\
         <p>{}. It has been refunded to your Alipay account; nothing was charged.</p>\
         <p>To buy again, place a new order on the recharge page of PayChat.</p><p>— PayChat</p></body></html>",
        escape(&why)
    );
    Outgoing {
        to: to.to_owned(),
        biz_type: BIZ_REFUNDED,
        subject: format!("Your PayChat payment of ¥{amount} was refunded"),
        logged_text: text.clone(),
        text,
        html,
        request_ip: None,
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

    #[test]
    fn the_refund_email_names_the_order_and_amount() {
        let late = RefundNotice {
            order_id: 7,
            amount: Decimal::new(990, 2),
            after_closing: true,
        };
        let mail = refund_email("zoe@example.com", &late);
        assert!(mail.subject.contains("¥9.90"), "{}", mail.subject);
        assert!(
            mail.text
                .contains("order 7 arrived after the order had closed")
        );
        assert!(mail.text.contains("refunded to your Alipay account"));
        assert!(mail.html.contains("refunded to your Alipay account"));
        assert_eq!(mail.logged_text, mail.text);
        assert_eq!(mail.biz_type, BIZ_REFUNDED);
        let twice = RefundNotice {
            after_closing: false,
            ..late
        };
        assert!(
            refund_email("zoe@example.com", &twice)
                .text
                .contains("already paid")
        );
    }
}
