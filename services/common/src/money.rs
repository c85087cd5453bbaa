//! Money is `rust_decimal::Decimal` with two decimals, end to end; on the wire
//! it is a string such as `"9.90"`.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serializer;

/// Rounds half away from zero to cents and fixes the scale at two.
pub fn cents(value: Decimal) -> Decimal {
    let mut v = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    v.rescale(2);
    v
}

/// `"9.90"`.
pub fn to_string(value: Decimal) -> String {
    cents(value).to_string()
}

/// `#[serde(serialize_with = "paychat_common::money::serialize")]`
pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_string(*value))
}

pub fn serialize_opt<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serialize(v, s),
        None => s.serialize_none(),
    }
}

/// Parses a client-supplied amount: at most two decimals, not negative.
pub fn parse(text: &str) -> Option<Decimal> {
    let value: Decimal = text.trim().parse().ok()?;
    (value.scale() <= 2 && !value.is_sign_negative()).then(|| cents(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn formats_two_decimals() {
        assert_eq!(
            to_string(Decimal::from_str("9.9").unwrap_or_default()),
            "9.90"
        );
        assert_eq!(to_string(Decimal::from(3)), "3.00");
        assert_eq!(
            to_string(Decimal::from_str("0.005").unwrap_or_default()),
            "0.01"
        );
    }

    #[test]
    fn parses_only_cents() {
        assert_eq!(parse("1.23").map(to_string).as_deref(), Some("1.23"));
        assert_eq!(parse("1.234"), None);
        assert_eq!(parse("-1"), None);
        assert_eq!(parse("abc"), None);
    }
}
