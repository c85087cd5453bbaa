//! The "your redemption codes" email (biz_type 12), sent after fulfilment
//! commits, and the "your payment was refunded" email (biz_type 13), sent once
//! a refund is recorded, each in the buyer's language (`chat_user.locale`).
//! The codes email links to the web app's My codes page, where codes are
//! redeemed. Their words live here; the transport and the
//! `sys_email_send_log` row, with the codes redacted (a code is as good as
//! money; it never rests in a log), are `paychat_common::mail`'s. Longer than
//! 300 lines because both emails are written out in both languages, as text
//! and as HTML.

use paychat_common::ids::IdGenerator;
use paychat_common::locale::Locale;
use paychat_common::mail::{self, Outgoing, REDACTED, escape_html as escape};
use rust_decimal::Decimal;
use sqlx::{MySqlExecutor, MySqlPool};

use super::config::PaymentsConfig;
use crate::orders::types::OrderRow;
use crate::state::AppState;
use crate::states::OrderStatus;

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

/// The web app's page listing my codes, where they are redeemed (its router's `/codes`).
pub const MY_CODES_PATH: &str = "/codes";

#[derive(Clone)]
pub struct Mailer {
    transport: mail::Mailer,
    /// Where the web app is, without a trailing slash.
    web_base: String,
}

impl Mailer {
    pub fn new(config: &PaymentsConfig) -> anyhow::Result<Self> {
        Ok(Self {
            transport: mail::Mailer::new(&paychat_common::smtp_settings!(config))?,
            web_base: config.web_base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Sends the codes of `user_id`'s paid order, in their language, and logs
    /// the send (codes redacted).
    pub async fn send_codes(
        &self,
        db: &MySqlPool,
        ids: &IdGenerator,
        to: &str,
        user_id: i64,
        order_id: i64,
        codes: &[BoughtCode],
    ) -> anyhow::Result<()> {
        let locale = buyer_locale(db, user_id).await;
        let link = format!("{}{MY_CODES_PATH}", self.web_base);
        let delivery = self
            .transport
            .deliver(db, ids, &codes_email(to, order_id, codes, locale, &link))
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
        let delivery = self
            .transport
            .deliver(db, ids, &refund_email(to, refund))
            .await?;
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
    /// The buyer's language.
    pub locale: Locale,
}

/// The buyer's language; the default when it cannot be read (the mail still goes).
async fn buyer_locale(db: impl MySqlExecutor<'_>, user_id: i64) -> Locale {
    let stored: Result<Option<String>, _> =
        sqlx::query_scalar("SELECT locale FROM chat_user WHERE id = ?")
            .bind(user_id)
            .fetch_optional(db)
            .await;
    match stored {
        Ok(stored) => stored.as_deref().map(Locale::from_db).unwrap_or_default(),
        Err(e) => {
            tracing::warn!(user_id, error = %e, "could not read the buyer's language");
            Locale::default()
        }
    }
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
        locale: buyer_locale(&state.db, order.user_id).await,
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
        order_id,
        amount,
        after_closing,
        locale,
    } = *refund;
    let amount = paychat_common::money::to_string(amount);
    let w = words(locale);
    let why = match (locale, after_closing) {
        (Locale::ZhCn, true) => {
            format!("您为订单 {order_id} 支付的 ¥{amount} 到账时，该订单已经关闭")
        }
        (Locale::ZhCn, false) => {
            format!("订单 {order_id} 已经支付过，您的第二笔付款 ¥{amount} 无需支付")
        }
        (Locale::En, true) => format!(
            "Your payment of ¥{amount} for order {order_id} arrived after the order had closed"
        ),
        (Locale::En, false) => format!(
            "Order {order_id} was already paid, so your second payment of ¥{amount} was not needed"
        ),
    };
    let (refunded, again) = match locale {
        Locale::ZhCn => (
            "这笔钱已原路退回您的支付宝账户，您没有被扣款。",
            "如需再次购买，请在 PayChat 的充值页面重新下单。",
        ),
        Locale::En => (
            "It has been refunded to your Alipay account; nothing was charged.",
            "To buy again, place a new order on the recharge page of PayChat.",
        ),
    };
    let stop = if locale == Locale::ZhCn { "。" } else { ". " };
    let text = format!(
        "{}\n\n{why}{stop}{refunded}\n\n{again}\n\n{}\n",
        w.hello, w.sign_off
    );
    let html = format!(
        "<!doctype html><html lang=\"{}\"><body style=\"font-family:sans-serif\"><p>{}</p>\
         <p>{}{stop}{}</p><p>{}</p><p>{}</p></body></html>",
        locale.as_str(),
        escape(w.hello),
        escape(&why),
        escape(refunded),
        escape(again),
        escape(w.sign_off),
    );
    let subject = match locale {
        Locale::ZhCn => format!("您在 PayChat 的 ¥{amount} 付款已退回"),
        Locale::En => format!("Your PayChat payment of ¥{amount} was refunded"),
    };
    Outgoing {
        to: to.to_owned(),
        biz_type: BIZ_REFUNDED,
        subject,
        logged_text: text.clone(),
        text,
        html,
        request_ip: None,
    }
}

/// The greeting and sign-off of every mail in `locale`.
struct Words {
    hello: &'static str,
    sign_off: &'static str,
}

fn words(locale: Locale) -> Words {
    match locale {
        Locale::ZhCn => Words {
            hello: "您好：",
            sign_off: "—— PayChat",
        },
        Locale::En => Words {
            hello: "Hello,",
            sign_off: "— PayChat",
        },
    }
}

/// The email listing the codes of order `order_id`, with a link to `my_codes`
/// (where they are redeemed); the logged text has the codes redacted.
fn codes_email(
    to: &str,
    order_id: i64,
    codes: &[BoughtCode],
    locale: Locale,
    my_codes: &str,
) -> Outgoing {
    let w = words(locale);
    let (thanks, redeem, action, subject) = match locale {
        Locale::ZhCn => (
            format!("感谢您的购买（订单 {order_id}）。您的兑换码："),
            "在 PayChat 的“我的兑换码”页面兑换它们：",
            "打开我的兑换码",
            "您的 PayChat 兑换码",
        ),
        Locale::En => (
            format!("Thank you for your purchase (order {order_id}). Your redemption codes:"),
            "Redeem them on the My codes page of PayChat:",
            "Open My codes",
            "Your PayChat redemption codes",
        ),
    };
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
            "{}\n\n{thanks}\n\n{}\n\n{redeem}\n{my_codes}\n\n{}\n",
            w.hello,
            lines(redact),
            w.sign_off
        )
    };
    let html = format!(
        "<!doctype html><html lang=\"{}\"><body style=\"font-family:sans-serif\"><p>{}</p>\
         <p>{}</p><ul>{}</ul><p>{}</p><p><a href=\"{}\">{}</a></p><p>{}</p></body></html>",
        locale.as_str(),
        escape(w.hello),
        escape(&thanks),
        codes
            .iter()
            .map(|c| format!(
                "<li>{}: <code>{}</code></li>",
                escape(&c.product_name),
                escape(&c.code)
            ))
            .collect::<String>(),
        escape(redeem),
        escape(my_codes),
        escape(action),
        escape(w.sign_off),
    );
    Outgoing {
        to: to.to_owned(),
        biz_type: BIZ_CODES_BOUGHT,
        subject: subject.into(),
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
        let mail = codes_email(
            "zoe@example.com",
            7,
            &codes,
            Locale::En,
            "http://web.test/codes",
        );
        assert!(mail.text.contains("Chat <pack>: ABCD-1234"));
        assert!(
            mail.html
                .contains("Chat &lt;pack&gt;: <code>ABCD-1234</code>")
        );
        assert!(!mail.logged_text.contains("ABCD-1234"));
        assert!(mail.logged_text.contains("Chat <pack>: [redacted]"));
        assert_eq!(mail.biz_type, BIZ_CODES_BOUGHT);
        assert_eq!(mail.request_ip, None);
        assert!(mail.text.contains("http://web.test/codes"));
        assert!(mail.html.contains("href=\"http://web.test/codes\""));
        let zh = codes_email(
            "zoe@example.com",
            7,
            &codes,
            Locale::ZhCn,
            "http://web.test/codes",
        );
        assert!(zh.subject.contains("兑换码"), "{}", zh.subject);
        assert!(zh.text.starts_with("您好"), "{}", zh.text);
        assert!(zh.text.contains("http://web.test/codes"));
    }

    #[test]
    fn the_refund_email_names_the_order_and_amount() {
        let late = RefundNotice {
            order_id: 7,
            amount: Decimal::new(990, 2),
            after_closing: true,
            locale: Locale::En,
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
        let zh = RefundNotice {
            locale: Locale::ZhCn,
            ..late
        };
        let mail = refund_email("zoe@example.com", &zh);
        assert!(mail.subject.contains("¥9.90") && mail.subject.contains("退回"));
        assert!(mail.text.contains("订单 7") && mail.text.contains("已经关闭"));
    }
}
