//! Parse, don't validate: the account inputs, checked once at the edge.
//! Each `parse` returns the problem as text for the response's `fields`.

use secrecy::{ExposeSecret, SecretString};

/// The longest address we store (`chat_user_binding_email.username` is varchar(64)).
pub const EMAIL_MAX: usize = 64;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const NICKNAME_MAX: usize = 16;
pub const DESCRIPTION_MAX: usize = 64;

/// A syntactically sane address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err("is required");
        }
        if email.chars().count() > EMAIL_MAX {
            return Err("must be at most 64 characters");
        }
        if email.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err("is not an email address");
        };
        if !valid_local(local) || !valid_domain(domain) {
            return Err("is not an email address");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// RFC 5322 dot-atom: printable ASCII specials, no leading, trailing or double dots.
fn valid_local(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-.";
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
}

/// Host names of at least two labels: letters, digits and inner hyphens.
fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()))
}

/// A password of acceptable length; never printed.
pub struct Password(SecretString);

impl Password {
    pub fn parse(input: String) -> Result<Self, &'static str> {
        let chars = input.chars().count();
        if chars < PASSWORD_MIN {
            return Err("must be at least 8 characters");
        }
        if chars > PASSWORD_MAX {
            return Err("must be at most 128 characters");
        }
        if input.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self(SecretString::from(input)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// Trimmed text of at most `max` characters, without control characters.
fn short_text(input: &str, max: usize, too_long: &'static str) -> Result<String, &'static str> {
    let text = input.trim();
    if text.chars().count() > max {
        return Err(too_long);
    }
    if text.chars().any(|c| c.is_control()) {
        return Err("must not contain control characters");
    }
    Ok(text.to_owned())
}

/// A display name: 1..=16 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nickname(String);

impl Nickname {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let text = short_text(input, NICKNAME_MAX, "must be at most 16 characters")?;
        if text.is_empty() {
            return Err("must not be empty");
        }
        Ok(Self(text))
    }

    /// The default for a new account: the address's local part, cut to fit.
    pub fn from_email(email: &Email) -> Self {
        let name: String = email.local_part().chars().take(NICKNAME_MAX).collect();
        Self(if name.is_empty() { "user".into() } else { name })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A profile description: at most 64 characters; empty means none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(Option<String>);

impl Description {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let text = short_text(input, DESCRIPTION_MAX, "must be at most 64 characters")?;
        Ok(Self((!text.is_empty()).then_some(text)))
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let e = Email::parse("  Zoe.Doe+Tag@Example.COM ").expect("valid");
        assert_eq!(e.as_str(), "zoe.doe+tag@example.com");
        assert_eq!(e.local_part(), "zoe.doe+tag");
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@example.com",
            "' OR 1=1 --",
            "x' OR '1'='1@example.com",
            ".a@example.com",
            "a.@example.com",
            "a..b@example.com",
            "a@-example.com",
            "a@example-.com",
            "a@example..com",
            "a@example.c",
            "a@1.2.3.4",
            "a\u{0}@example.com",
            "a\n@example.com",
            "zoë@example.com",
            &format!("{}@example.com", "a".repeat(60)),
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(52))).is_ok());
    }

    #[test]
    fn passwords_need_8_to_128_characters() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("1234567".into()).is_err());
        assert!(Password::parse("12345678".into()).is_ok());
        assert!(
            Password::parse("密码密码密码密码".into()).is_ok(),
            "characters, not bytes"
        );
        assert!(Password::parse("x".repeat(128)).is_ok());
        assert!(Password::parse("x".repeat(129)).is_err());
        assert!(Password::parse("abc\u{7}defgh".into()).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-pass".into()).expect("ok")),
            "Password(..)"
        );
    }

    #[test]
    fn nicknames_and_descriptions() {
        assert_eq!(Nickname::parse("  Zoë  ").expect("ok").as_str(), "Zoë");
        assert!(Nickname::parse("").is_err());
        assert!(Nickname::parse(&"n".repeat(17)).is_err());
        assert!(Nickname::parse(&"昵".repeat(16)).is_ok());
        assert!(Nickname::parse("a\tb").is_err());
        assert_eq!(
            Nickname::parse("'; DROP TABLE x")
                .expect("just text")
                .as_str(),
            "'; DROP TABLE x"
        );
        let email = Email::parse("averyveryverylongname@example.com").expect("ok");
        assert_eq!(Nickname::from_email(&email).as_str(), "averyveryverylon");
        assert_eq!(Description::parse("  ").expect("ok").as_deref(), None);
        assert_eq!(Description::parse("hi").expect("ok").as_deref(), Some("hi"));
        assert!(Description::parse(&"d".repeat(65)).is_err());
    }
}
