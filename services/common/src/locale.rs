//! The languages PayChat speaks to its users (zh-CN and en), as the web app
//! names them: kept on the user, chosen at sign-up from the web app's
//! language or the browser's `Accept-Language`, and used for their email.

use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
pub enum Locale {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[default]
    #[serde(rename = "en")]
    En,
}

impl Locale {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }

    /// A language tag such as `zh-CN`, `zh`, `en-US` (case ignored): any
    /// Chinese is zh-CN, any English en; anything else is not ours.
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Self::ZhCn),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The best-liked language of an `Accept-Language` header that we speak.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(Self, f32)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let Some(locale) = pieces.next().and_then(Self::parse) else {
                continue;
            };
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((locale, q));
            }
        }
        best.map(|(locale, _)| locale)
    }

    /// As stored in the database: an unknown value reads as the default.
    pub fn from_db(value: &str) -> Self {
        Self::parse(value).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_headers() {
        assert_eq!(Locale::parse("zh-CN"), Some(Locale::ZhCn));
        assert_eq!(Locale::parse("ZH_tw"), Some(Locale::ZhCn));
        assert_eq!(Locale::parse("en"), Some(Locale::En));
        assert_eq!(Locale::parse("en-US"), Some(Locale::En));
        assert_eq!(Locale::parse("fr"), None);
        assert_eq!(Locale::parse(""), None);
        assert_eq!(
            Locale::from_accept_language("fr-FR, zh-CN;q=0.8, en;q=0.5"),
            Some(Locale::ZhCn)
        );
        assert_eq!(
            Locale::from_accept_language("zh;q=0.4,en-GB"),
            Some(Locale::En)
        );
        assert_eq!(Locale::from_accept_language("fr, de"), None);
        assert_eq!(Locale::from_accept_language("*"), None);
        assert_eq!(Locale::from_db("zh-CN"), Locale::ZhCn);
        assert_eq!(Locale::from_db("??"), Locale::En);
        assert_eq!(
            serde_json::to_string(&Locale::ZhCn).expect("serialize"),
            "\"zh-CN\""
        );
    }
}
