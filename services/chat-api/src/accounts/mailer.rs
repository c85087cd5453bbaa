//! The verification and reset emails: their words, and sending them in the
//! background after the database work has committed. The transport and the
//! `sys_email_send_log` row (the link redacted: the code never rests in clear)
//! are `paychat_common::mail`'s.

use std::sync::Arc;

use paychat_common::ids::IdGenerator;
use paychat_common::locale::Locale;
pub use paychat_common::mail::Outgoing;
use paychat_common::mail::{self, REDACTED, escape_html as escape};
use sqlx::MySqlPool;

use super::codes::BizType;
use super::config::AccountsConfig;
use super::domain::Email;

#[derive(Clone)]
pub struct Mailer(mail::Mailer);

impl Mailer {
    pub fn new(config: &AccountsConfig) -> anyhow::Result<Self> {
        mail::Mailer::new(&paychat_common::smtp_settings!(config)).map(Self)
    }

    /// Sends and logs in a task of its own, so a slow mail server never holds a
    /// request (and the answer takes the same time whether or not mail went out).
    pub fn send_in_background(&self, db: MySqlPool, ids: Arc<IdGenerator>, mail: Outgoing) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(e) = mailer.deliver(&db, &ids, mail).await {
                tracing::error!(error = format!("{e:#}"), "could not log an email send");
            }
        });
    }

    /// Sends `mail` and writes its `sys_email_send_log` row.
    pub async fn deliver(
        &self,
        db: &MySqlPool,
        ids: &IdGenerator,
        mail: Outgoing,
    ) -> anyhow::Result<()> {
        let delivery = self.0.deliver(db, ids, &mail).await?;
        let biz = mail.biz_type;
        match &delivery.error {
            None => {
                tracing::info!(to = %mail.to, biz, message_id = %delivery.message_id, "email sent")
            }
            Some(e) => tracing::warn!(to = %mail.to, biz, error = %e, "email not sent"),
        }
        Ok(())
    }
}

/// The words around the link.
#[derive(Clone, Copy)]
struct Template<'a> {
    subject: &'a str,
    intro: &'a str,
    action: &'a str,
    outro: &'a str,
}

/// The greeting, the sign-off and the fallback line of every mail in `locale`.
struct Frame {
    hello: &'static str,
    fallback: &'static str,
    sign_off: &'static str,
}

fn frame(locale: Locale) -> Frame {
    match locale {
        Locale::ZhCn => Frame {
            hello: "您好：",
            fallback: "如果按钮无法打开，请复制此地址到浏览器：",
            sign_off: "—— PayChat",
        },
        Locale::En => Frame {
            hello: "Hello,",
            fallback: "If the button does not work, open this address: ",
            sign_off: "— PayChat",
        },
    }
}

/// Text and HTML around one link; the logged text has the code redacted.
fn compose(
    to: &Email,
    biz: BizType,
    locale: Locale,
    words: &Template<'_>,
    link: &str,
    code: &str,
    request_ip: &str,
) -> Outgoing {
    let Template {
        subject,
        intro,
        action,
        outro,
    } = *words;
    let Frame {
        hello,
        fallback,
        sign_off,
    } = frame(locale);
    let lang = locale.as_str();
    let text_with = |link: &str| format!("{hello}\n\n{intro}\n\n{link}\n\n{outro}\n\n{sign_off}\n");
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><body style=\"font-family:sans-serif\">\
<p>{}</p><p>{}</p><p><a href=\"{}\">{}</a></p><p style=\"color:#666\">{}</p>\
<p style=\"color:#666;font-size:small\">{}{}</p>\
<p>{}</p></body></html>",
        escape(hello),
        escape(intro),
        escape(link),
        escape(action),
        escape(outro),
        escape(fallback),
        escape(link),
        escape(sign_off),
    );
    Outgoing {
        to: to.as_str().to_owned(),
        biz_type: i32::from(biz.as_i8()),
        subject: subject.to_owned(),
        text: text_with(link),
        html,
        logged_text: text_with(&link.replace(code, REDACTED)),
        request_ip: Some(request_ip.to_owned()),
    }
}

pub fn verification(
    config: &AccountsConfig,
    to: &Email,
    code: &str,
    request_ip: &str,
    locale: Locale,
) -> Outgoing {
    let link = format!("{}/api/auth/verify-email?code={code}", config.public_base());
    let hours = config.verify_code_ttl_secs.div_ceil(3600);
    let (words, outro) = match locale {
        Locale::ZhCn => (
            Template {
                subject: "验证您的 PayChat 邮箱",
                intro: "感谢注册 PayChat。请打开下面的链接验证您的邮箱地址：",
                action: "验证我的邮箱",
                outro: "",
            },
            format!("链接只能使用一次，{hours} 小时后失效。如果您没有注册过，请忽略这封邮件。"),
        ),
        Locale::En => (
            Template {
                subject: "Verify your PayChat email",
                intro: "Thanks for signing up for PayChat. Open this link to verify your email address:",
                action: "Verify my email",
                outro: "",
            },
            format!(
                "The link works once and expires in {hours} hour(s). If you did not sign up, ignore this email."
            ),
        ),
    };
    compose(
        to,
        BizType::Registration,
        locale,
        &Template {
            outro: &outro,
            ..words
        },
        &link,
        code,
        request_ip,
    )
}

pub fn password_reset(
    config: &AccountsConfig,
    to: &Email,
    code: &str,
    request_ip: &str,
    locale: Locale,
) -> Outgoing {
    let link = format!("{}/reset-password?code={code}", config.web_base());
    let minutes = config.reset_code_ttl_secs.div_ceil(60);
    let (words, outro) = match locale {
        Locale::ZhCn => (
            Template {
                subject: "重置您的 PayChat 密码",
                intro: "有人申请重置您的 PayChat 账号密码。请打开下面的链接设置新密码：",
                action: "设置新密码",
                outro: "",
            },
            format!(
                "链接只能使用一次，{minutes} 分钟后失效。如果不是您本人申请，请忽略这封邮件，您的密码不会改变。"
            ),
        ),
        Locale::En => (
            Template {
                subject: "Reset your PayChat password",
                intro: "Someone asked to reset the password of your PayChat account. Open this link to choose a new one:",
                action: "Choose a new password",
                outro: "",
            },
            format!(
                "The link works once and expires in {minutes} minute(s). If you did not ask, ignore this email: your password stays as it is."
            ),
        ),
    };
    compose(
        to,
        BizType::PasswordReset,
        locale,
        &Template {
            outro: &outro,
            ..words
        },
        &link,
        code,
        request_ip,
    )
}

/// The link that proves the account at `to` before the sign-in provider
/// `provider` (its display name) is linked to it.
pub fn provider_link(
    config: &AccountsConfig,
    to: &Email,
    code: &str,
    request_ip: &str,
    locale: Locale,
    provider: &str,
    ttl_secs: u64,
) -> Outgoing {
    let link = format!("{}/oauth/link?code={code}", config.web_base());
    let minutes = ttl_secs.div_ceil(60);
    let (subject, intro, action, outro) = match locale {
        Locale::ZhCn => (
            format!("将 {provider} 关联到您的 PayChat 账号"),
            format!(
                "有人用 {provider} 登录 PayChat，该账号的邮箱与您的 PayChat 账号相同。如果是您本人，请打开下面的链接，将 {provider} 关联到此账号并登录："
            ),
            format!("关联 {provider}"),
            format!(
                "链接只能使用一次，{minutes} 分钟后失效。如果不是您本人，请忽略这封邮件：不会关联任何账号。"
            ),
        ),
        Locale::En => (
            format!("Link {provider} to your PayChat account"),
            format!(
                "Someone signed in to PayChat with {provider}, whose address is the one of your PayChat account. If it was you, open this link to link {provider} to this account and sign in:"
            ),
            format!("Link {provider}"),
            format!(
                "The link works once and expires in {minutes} minute(s). If it was not you, ignore this email: nothing is linked."
            ),
        ),
    };
    compose(
        to,
        BizType::ProviderLink,
        locale,
        &Template {
            subject: &subject,
            intro: &intro,
            action: &action,
            outro: &outro,
        },
        &link,
        code,
        request_ip,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AccountsConfig {
        AccountsConfig {
            smtp_host: "127.0.0.1".into(),
            smtp_port: 2525,
            smtp_username: String::new(),
            smtp_password: String::new().into(),
            smtp_tls: paychat_common::config::SmtpTls::None,
            smtp_timeout_ms: 1000,
            mail_from: "PayChat <no-reply@paychat.local>".into(),
            public_base_url: "http://localhost:8080/".into(),
            web_base_url: "http://localhost:5173".into(),
            admin_emails: String::new(),
            verify_code_ttl_secs: 86400,
            reset_code_ttl_secs: 1800,
            login_fail_limit_email: 10,
            login_fail_limit_ip: 30,
            login_fail_window_secs: 900,
            mail_limit_email: 5,
            mail_limit_ip: 20,
            mail_limit_window_secs: 3600,
            register_limit_ip: 20,
            register_limit_window_secs: 3600,
            password_hash_threads: 0,
            password_hash_queue_ms: 2000,
        }
    }

    #[test]
    fn the_link_is_in_the_mail_and_redacted_in_the_log() {
        let to = Email::parse("zoe@example.com").expect("email");
        let mail = verification(&config(), &to, "CODE123", "127.0.0.1", Locale::En);
        assert!(
            mail.text
                .contains("http://localhost:8080/api/auth/verify-email?code=CODE123")
        );
        assert!(
            mail.html
                .contains("href=\"http://localhost:8080/api/auth/verify-email?code=CODE123\"")
        );
        assert!(!mail.logged_text.contains("CODE123"));
        assert!(mail.logged_text.contains("code=[redacted]"));
        let mail = password_reset(&config(), &to, "RESET9", "::1", Locale::En);
        assert!(
            mail.text
                .contains("http://localhost:5173/reset-password?code=RESET9")
        );
        assert!(!mail.logged_text.contains("RESET9"));
        assert_eq!(mail.biz_type, i32::from(BizType::PasswordReset.as_i8()));
    }

    #[test]
    fn the_mail_is_in_the_users_language() {
        let to = Email::parse("zoe@example.com").expect("email");
        let zh = verification(&config(), &to, "CODE123", "127.0.0.1", Locale::ZhCn);
        assert!(zh.subject.contains("验证"), "{}", zh.subject);
        assert!(zh.text.starts_with("您好"), "{}", zh.text);
        assert!(zh.text.contains("24 小时"), "{}", zh.text);
        assert!(zh.html.contains("lang=\"zh-CN\""));
        let en = verification(&config(), &to, "CODE123", "127.0.0.1", Locale::En);
        assert!(en.text.starts_with("Hello,"));
        assert!(en.text.contains("24 hour(s)"));
        let zh = password_reset(&config(), &to, "RESET9", "::1", Locale::ZhCn);
        assert!(zh.subject.contains("重置"), "{}", zh.subject);
        assert!(zh.text.contains("30 分钟"), "{}", zh.text);
        assert!(
            zh.text
                .contains("http://localhost:5173/reset-password?code=RESET9")
        );
    }

    #[test]
    fn the_provider_link_mail_names_the_provider_in_both_languages() {
        let to = Email::parse("zoe@example.com").expect("email");
        let en = provider_link(&config(), &to, "LINK42", "::1", Locale::En, "GitHub", 1800);
        assert!(en.subject.contains("GitHub"), "{}", en.subject);
        assert!(
            en.text
                .contains("http://localhost:5173/oauth/link?code=LINK42")
        );
        assert!(en.text.contains("30 minute(s)"), "{}", en.text);
        assert!(!en.logged_text.contains("LINK42"));
        assert_eq!(en.biz_type, i32::from(BizType::ProviderLink.as_i8()));
        let zh = provider_link(
            &config(),
            &to,
            "LINK42",
            "::1",
            Locale::ZhCn,
            "GitHub",
            1800,
        );
        assert!(zh.subject.contains("关联"), "{}", zh.subject);
        assert!(zh.text.contains("30 分钟"), "{}", zh.text);
    }
}
