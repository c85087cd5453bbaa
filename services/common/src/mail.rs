//! Outgoing mail: the lettre SMTP transport built from a service's `smtp_*`
//! and `mail_from` keys, sending one text + HTML message, and its row in
//! `sys_email_send_log` (sent or failed). The log keeps the redacted text the
//! caller gives, never the mailed one: what is mailed holds codes or links
//! that are as good as money or a password. Each feature builds its own
//! messages (templates) and says what to redact.

use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use sqlx::MySqlPool;

pub use crate::config::SmtpTls;
use crate::ids::IdGenerator;

/// What stands in the log where a secret was mailed.
pub const REDACTED: &str = "[redacted]";

/// The SMTP settings, borrowed from a service's configuration.
pub struct SmtpSettings<'a> {
    pub host: &'a str,
    pub port: u16,
    /// Empty: no authentication.
    pub username: &'a str,
    pub password: &'a SecretString,
    pub tls: SmtpTls,
    pub timeout: Duration,
    /// The sender, e.g. `PayChat <no-reply@paychat.local>`.
    pub mail_from: &'a str,
}

/// [`SmtpSettings`] from a service configuration with the shared flat keys
/// (`smtp_host`, `smtp_port`, `smtp_username`, `smtp_password`, `smtp_tls`,
/// `smtp_timeout_ms`, `mail_from`), so the key names are mapped in one place.
#[macro_export]
macro_rules! smtp_settings {
    ($config:expr) => {
        $crate::mail::SmtpSettings {
            host: &$config.smtp_host,
            port: $config.smtp_port,
            username: &$config.smtp_username,
            password: &$config.smtp_password,
            tls: $config.smtp_tls,
            timeout: ::std::time::Duration::from_millis($config.smtp_timeout_ms),
            mail_from: &$config.mail_from,
        }
    };
}

/// One email to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: String,
    /// `sys_email_send_log.biz_type`: what the email is for.
    pub biz_type: i32,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// `text` with its secrets replaced by [`REDACTED`]: what the log keeps.
    pub logged_text: String,
    /// The address the request that caused the email came from, if any.
    pub request_ip: Option<String>,
}

/// How a send went; its log row is written either way.
#[derive(Debug)]
pub struct Delivery {
    pub message_id: String,
    /// Why the message was not sent, if it was not.
    pub error: Option<String>,
}

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The transport; connections are opened on the first send, so a mail
    /// server that is down does not stop the service from starting.
    pub fn new(settings: &SmtpSettings<'_>) -> anyhow::Result<Self> {
        let from = settings.mail_from.parse().context("mail_from")?;
        let host = settings.host;
        let builder = match settings.tls {
            SmtpTls::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(host).context("smtp_host")?
            }
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).context("smtp_host")?
            }
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder = builder.port(settings.port).timeout(Some(settings.timeout));
        if !settings.username.trim().is_empty() {
            builder = builder.credentials(Credentials::new(
                settings.username.to_owned(),
                settings.password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Sends `mail` and writes its `sys_email_send_log` row. A failed send is
    /// not an error (it is in the returned [`Delivery`] and the row); failing
    /// to write the row is.
    pub async fn deliver(
        &self,
        db: &MySqlPool,
        ids: &IdGenerator,
        mail: &Outgoing,
    ) -> anyhow::Result<Delivery> {
        let log_id = ids.next();
        // The random part keeps ids unique across deployments sharing a mail server.
        let message_id = format!(
            "<{log_id}.{}@{}>",
            hex::encode(rand::random::<[u8; 6]>()),
            self.from.email.domain()
        );
        let outcome = match self.message(mail, &message_id) {
            Ok(message) => self
                .transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(format!("{e:#}")),
        };
        let (status, note) = match &outcome {
            Ok(()) => (1i8, "success".to_owned()),
            Err(e) => (0i8, e.chars().take(1024).collect::<String>()),
        };
        metrics::counter!(
            "emails_sent_total",
            "biz" => mail.biz_type.to_string(),
            "status" => if status == 1 { "sent" } else { "failed" },
        )
        .increment(1);
        // Both address columns are varchar(64).
        let from: String = self.from.email.to_string().chars().take(64).collect();
        let to: String = mail.to.chars().take(64).collect();
        sqlx::query(
            "INSERT INTO sys_email_send_log (id, from_email_address, to_email_address, biz_type, \
             request_ip, content, message_id, status, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(log_id)
        .bind(from)
        .bind(to)
        .bind(mail.biz_type)
        .bind(mail.request_ip.as_deref())
        .bind(&mail.logged_text)
        .bind(&message_id)
        .bind(status)
        .bind(note)
        .execute(db)
        .await
        .context("writing sys_email_send_log")?;
        Ok(Delivery {
            message_id,
            error: outcome.err(),
        })
    }

    fn message(&self, mail: &Outgoing, message_id: &str) -> anyhow::Result<Message> {
        let to: Mailbox = mail.to.parse().context("recipient")?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(message_id.to_owned()))
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .context("building the message")
    }
}

/// Escapes text for an HTML body or attribute.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(mail_from: &str) -> anyhow::Result<Mailer> {
        Mailer::new(&SmtpSettings {
            host: "127.0.0.1",
            port: 2525,
            username: "",
            password: &SecretString::from(""),
            tls: SmtpTls::None,
            timeout: Duration::from_secs(1),
            mail_from,
        })
    }

    // The pooled transport needs a runtime, even to be dropped.
    #[tokio::test]
    async fn a_bad_sender_names_the_key() {
        let Err(e) = settings("not an address") else {
            panic!("accepted a bad mail_from");
        };
        assert_eq!(e.to_string(), "mail_from");
    }

    #[tokio::test]
    async fn a_message_has_both_parts_and_the_message_id() -> anyhow::Result<()> {
        let mailer = settings("PayChat <no-reply@paychat.local>")?;
        let mail = Outgoing {
            to: "zoe@example.com".into(),
            biz_type: 10,
            subject: "Hello".into(),
            text: "plain".into(),
            html: "<p>html</p>".into(),
            logged_text: "plain".into(),
            request_ip: None,
        };
        let message = mailer.message(&mail, "<1.ab@paychat.local>")?;
        let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
        assert!(raw.contains("Message-ID: <1.ab@paychat.local>"), "{raw}");
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
        let bad = Outgoing {
            to: "nobody".into(),
            ..mail
        };
        assert!(mailer.message(&bad, "<2@paychat.local>").is_err());
        Ok(())
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape_html(r#"<a href="x">&</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
