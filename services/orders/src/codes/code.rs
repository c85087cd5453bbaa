//! `RedemptionCode`: 15 random symbols from an unambiguous 31-letter alphabet
//! (no 0/O, 1/I/L) plus one check symbol, shown as `XXXX-XXXX-XXXX-XXXX`.
//!
//! The check symbol is a position-weighted sum modulo 31 (a prime), with
//! weights 1..=16: every single wrong symbol and every swap of two neighbours
//! changes it, so typos are told apart from codes that do not exist without
//! touching the database. 15 symbols carry about 74 random bits.

use std::fmt;

use rand::Rng;

pub const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const RANDOM_LEN: usize = 15;
pub const LEN: usize = RANDOM_LEN + 1;

/// A well-formed code in its canonical form (16 upper-case symbols, no dashes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedemptionCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("a code has 16 letters and digits")]
    Length,
    #[error("the code holds a character that no code uses")]
    Symbol,
    #[error("the code is mistyped (its check character does not match)")]
    Check,
}

fn value(symbol: u8) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&c| c == symbol)
        .and_then(|p| u32::try_from(p).ok())
}

fn check_symbol(values: &[u32]) -> u8 {
    let sum: u32 = values
        .iter()
        .zip(1u32..)
        .map(|(v, weight)| v * weight)
        .sum();
    ALPHABET[(sum % 31) as usize]
}

impl RedemptionCode {
    /// A fresh code from a cryptographically secure generator (`ThreadRng` is
    /// ChaCha12 seeded from the operating system).
    pub fn generate<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut values = [0u32; RANDOM_LEN];
        let mut text = String::with_capacity(LEN);
        for v in &mut values {
            let i = rng.random_range(0..ALPHABET.len());
            *v = u32::try_from(i).unwrap_or_default();
            text.push(char::from(ALPHABET[i]));
        }
        text.push(char::from(check_symbol(&values)));
        Self(text)
    }

    /// Accepts what a person types: any case, dashes and spaces anywhere.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let cleaned: Vec<u8> = input
            .bytes()
            .filter(|b| !matches!(b, b'-' | b' ' | b'\t'))
            .map(|b| b.to_ascii_uppercase())
            .collect();
        if cleaned.len() != LEN {
            return Err(CodeError::Length);
        }
        let mut values = Vec::with_capacity(LEN);
        for &b in &cleaned {
            values.push(value(b).ok_or(CodeError::Symbol)?);
        }
        let (body, check) = cleaned.split_at(RANDOM_LEN);
        if check_symbol(&values[..RANDOM_LEN]) != check[0] {
            return Err(CodeError::Check);
        }
        let _ = body;
        Ok(Self(String::from_utf8_lossy(&cleaned).into_owned()))
    }

    /// The canonical form, as stored in `chat_exchange.code`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `XXXX-XXXX-XXXX-XXXX`, for people.
    pub fn display(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        chars
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-")
    }
}

impl fmt::Display for RedemptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_codes_parse_in_any_presentation() {
        let mut rng = rand::rng();
        for _ in 0..1000 {
            let code = RedemptionCode::generate(&mut rng);
            assert_eq!(code.as_str().len(), LEN);
            assert_eq!(RedemptionCode::parse(code.as_str()).unwrap(), code);
            assert_eq!(RedemptionCode::parse(&code.display()).unwrap(), code);
            let sloppy = format!(" {} ", code.display().to_lowercase().replace('-', " - "));
            assert_eq!(RedemptionCode::parse(&sloppy).unwrap(), code);
        }
    }

    #[test]
    fn refuses_wrong_length_symbols_and_check() {
        assert_eq!(RedemptionCode::parse(""), Err(CodeError::Length));
        assert_eq!(RedemptionCode::parse("ABCD-EFGH"), Err(CodeError::Length));
        assert_eq!(
            RedemptionCode::parse("0BCD-EFGH-JKMN-PQRS"),
            Err(CodeError::Symbol)
        );
        assert_eq!(
            RedemptionCode::parse("IBCD-EFGH-JKMN-PQRS"),
            Err(CodeError::Symbol)
        );
        let code = RedemptionCode::generate(&mut rand::rng());
        let mut bytes = code.as_str().as_bytes().to_vec();
        let last = bytes[LEN - 1];
        bytes[LEN - 1] = if last == b'2' { b'3' } else { b'2' };
        let wrong = String::from_utf8(bytes).unwrap();
        assert_eq!(RedemptionCode::parse(&wrong), Err(CodeError::Check));
    }

    #[test]
    fn the_alphabet_has_no_lookalikes() {
        for c in [b'0', b'O', b'1', b'I', b'L'] {
            assert!(!ALPHABET.contains(&c));
        }
        let mut sorted = ALPHABET.to_vec();
        sorted.dedup();
        assert_eq!(sorted.len(), 31);
    }

    fn symbol() -> impl Strategy<Value = u8> {
        (0..ALPHABET.len()).prop_map(|i| ALPHABET[i])
    }

    proptest! {
        #[test]
        fn any_single_substitution_is_caught(pos in 0..LEN, replacement in symbol()) {
            let code = RedemptionCode::generate(&mut rand::rng());
            let mut bytes = code.as_str().as_bytes().to_vec();
            prop_assume!(bytes[pos] != replacement);
            bytes[pos] = replacement;
            let typo = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(RedemptionCode::parse(&typo), Err(CodeError::Check));
        }

        #[test]
        fn any_neighbour_swap_is_caught(pos in 0..LEN - 1) {
            let code = RedemptionCode::generate(&mut rand::rng());
            let mut bytes = code.as_str().as_bytes().to_vec();
            prop_assume!(bytes[pos] != bytes[pos + 1]);
            bytes.swap(pos, pos + 1);
            let typo = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(RedemptionCode::parse(&typo), Err(CodeError::Check));
        }

        #[test]
        fn parse_never_panics(input in "\\PC{0,40}") {
            let _ = RedemptionCode::parse(&input);
        }

        #[test]
        fn what_parses_round_trips(input in "[2-9A-Za-z -]{0,24}") {
            if let Ok(code) = RedemptionCode::parse(&input) {
                prop_assert_eq!(RedemptionCode::parse(&code.display()).unwrap(), code);
            }
        }
    }
}
