//! The matcher: Aho–Corasick (leftmost-longest) over normalised words, and the
//! normalisation that makes `b a d`, `ＢＡＤ` and `坏 词` match `bad` / `坏词`.

use aho_corasick::{AhoCorasick, MatchKind};
use unicode_normalization::UnicodeNormalization;

/// Folds the ways people disguise a word: NFKC (full-width → half-width,
/// compatibility forms), lower case, and no whitespace or invisible characters.
pub fn normalise(text: &str) -> String {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace() && !is_invisible(*c))
        .collect()
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// The compiled word list; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Matcher {
    automaton: Option<AhoCorasick>,
    words: usize,
}

impl Matcher {
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> anyhow::Result<Self> {
        let patterns: Vec<String> = words
            .into_iter()
            .map(normalise)
            .filter(|w| !w.is_empty())
            .collect();
        let automaton = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&patterns)?,
            )
        };
        Ok(Self {
            words: patterns.len(),
            automaton,
        })
    }

    pub fn empty() -> Self {
        Self {
            automaton: None,
            words: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.words
    }

    pub fn is_empty(&self) -> bool {
        self.words == 0
    }

    /// True when the normalised text contains any word.
    pub fn is_match(&self, text: &str) -> bool {
        self.automaton
            .as_ref()
            .is_some_and(|ac| ac.is_match(&normalise(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disguised_words_are_caught() {
        let m = Matcher::new(["Bad", "坏词", "ｅｖｉｌ"]).expect("builds");
        for text in [
            "a bad day",
            "B A D",
            "ＢＡＤ",
            "b\u{200B}ad",
            "这是坏 词",
            "这是 坏\u{3000}词",
            "EVIL",
        ] {
            assert!(m.is_match(text), "{text}");
        }
        assert!(!m.is_match("good day"));
        assert!(!m.is_match("坏事"));
    }

    #[test]
    fn empty_list_matches_nothing() {
        let m = Matcher::new(["", "  "]).expect("builds");
        assert!(m.is_empty());
        assert!(!m.is_match("anything"));
    }
}
