//! Decoding what lettre (or any MIME client) sends: RFC 2047 encoded-word
//! subjects, quoted-printable and base64 bodies, multipart/alternative with a
//! text and an HTML part. mail-parser does the MIME work.

use mail_parser::{MessageParser, PartType};

/// The parts of a message the API shows.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The `From` header's address, if there is one.
    pub from: Option<String>,
    pub subject: String,
    /// The text/plain body (from the HTML when that is all there is).
    pub text: Option<String>,
    /// The text/html body, only when the message has one.
    pub html: Option<String>,
}

impl Parsed {
    pub fn from_raw(raw: &[u8]) -> Self {
        let Some(message) = MessageParser::default().parse(raw) else {
            // Not MIME at all: show it as text so nothing is lost.
            return Self {
                text: Some(String::from_utf8_lossy(raw).into_owned()),
                ..Self::default()
            };
        };
        let from = message
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_owned);
        let subject = message.subject().unwrap_or_default().to_owned();
        let html = message.html_part(0).and_then(|part| match &part.body {
            PartType::Html(html) => Some(html.to_string()),
            _ => None,
        });
        let text = message.body_text(0).map(|t| t.into_owned());
        Self {
            from,
            subject,
            text,
            html,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_encoded_word_subject_and_quoted_printable() {
        let raw = concat!(
            "From: PayChat <no-reply@paychat.local>\r\n",
            "To: bob@example.com\r\n",
            "Subject: =?utf-8?b?6aqM6K+B5L2g55qE6YKu566x?=\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Content-Transfer-Encoding: quoted-printable\r\n",
            "\r\n",
            "caf=C3=A9 and a very long line that is soft=\r\n",
            " broken\r\n",
        );
        let parsed = Parsed::from_raw(raw.as_bytes());
        assert_eq!(parsed.from.as_deref(), Some("no-reply@paychat.local"));
        assert_eq!(parsed.subject, "验证你的邮箱");
        assert_eq!(
            parsed.text.as_deref().map(str::trim_end),
            Some("café and a very long line that is soft broken")
        );
        assert_eq!(parsed.html, None);
    }

    #[test]
    fn splits_multipart_alternative_with_base64_html() {
        let raw = concat!(
            "From: a@x\r\n",
            "Subject: hi\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/alternative; boundary=\"BOUND\"\r\n",
            "\r\n",
            "--BOUND\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Content-Transfer-Encoding: 7bit\r\n",
            "\r\n",
            "plain body\r\n",
            "--BOUND\r\n",
            "Content-Type: text/html; charset=utf-8\r\n",
            "Content-Transfer-Encoding: base64\r\n",
            "\r\n",
            "PHA+aHRtbCBib2R5PC9wPg==\r\n",
            "--BOUND--\r\n",
        );
        let parsed = Parsed::from_raw(raw.as_bytes());
        assert_eq!(parsed.subject, "hi");
        assert_eq!(
            parsed.text.as_deref().map(str::trim_end),
            Some("plain body")
        );
        assert_eq!(parsed.html.as_deref(), Some("<p>html body</p>"));
    }
}
