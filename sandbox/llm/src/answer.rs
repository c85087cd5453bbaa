//! The deterministic answer: what the model says for a prompt, how it is cut
//! into stream chunks and how its tokens are counted.
//!
//! The rules are public so clients can predict every byte:
//! - answer = `"Echo: "` + the text of the last `user` message + [`ANSWER_TAIL`];
//! - chunks = the answer split every `chunk_chars` Unicode scalar values;
//! - with a fixed chunk count N, the answer is first repeated (or cut) to
//!   exactly `N * chunk_chars` characters ([`fixed_length`]);
//! - tokens(text) = ceil(chars / 4).

use serde_json::Value;

/// Put before the echoed prompt.
pub const ANSWER_PREFIX: &str = "Echo: ";

/// Appended to every answer so even a one-word prompt streams in several chunks.
pub const ANSWER_TAIL: &str = " -- answered by the PayChat sandbox model.";

/// The full answer for the text of the last user message.
pub fn answer_for(last_user_text: &str) -> String {
    format!("{ANSWER_PREFIX}{last_user_text}{ANSWER_TAIL}")
}

/// The text of a message's `content`: a plain string, or the concatenated
/// `text` of the parts when it is an array (OpenAI's multi-part form).
pub fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// The text of the last message whose role is `user`; empty when there is none.
pub fn last_user_text(messages: &[Value]) -> String {
    messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| content_text(m.get("content")))
        .unwrap_or_default()
}

/// `text` repeated as often as needed and cut to exactly `chars` characters,
/// so that it streams as a fixed number of full chunks.
pub fn fixed_length(text: &str, chars: usize) -> String {
    if text.is_empty() {
        return String::new();
    }
    text.chars().cycle().take(chars).collect()
}

/// Splits `text` into pieces of at most `chunk_chars` characters, always on
/// character boundaries so no multi-byte character is ever torn apart.
pub fn split_chunks(text: &str, chunk_chars: usize) -> Vec<String> {
    let size = chunk_chars.max(1);
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// A deliberately simple token count: one token per started group of four characters.
pub fn count_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

/// Prompt tokens: the sum of [`count_tokens`] over every message's content text.
pub fn prompt_tokens(messages: &[Value]) -> u64 {
    messages
        .iter()
        .map(|m| count_tokens(&content_text(m.get("content"))))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn echoes_the_last_user_message() {
        let messages = vec![
            json!({"role": "system", "content": "be brief"}),
            json!({"role": "user", "content": "first"}),
            json!({"role": "assistant", "content": "Echo: first"}),
            json!({"role": "user", "content": [{"type": "text", "text": "sec"}, {"type": "text", "text": "ond"}]}),
        ];
        assert_eq!(
            answer_for(&last_user_text(&messages)),
            format!("Echo: second{ANSWER_TAIL}")
        );
    }

    #[test]
    fn splits_on_character_boundaries() {
        assert_eq!(split_chunks("你好世界abc", 3), vec!["你好世", "界ab", "c"]);
        assert_eq!(split_chunks("", 3), Vec::<String>::new());
        assert_eq!(fixed_length("abc", 7), "abcabca");
        assert_eq!(fixed_length("abcdef", 2), "ab");
    }

    #[test]
    fn counts_started_groups_of_four_characters() {
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("abcd"), 1);
        assert_eq!(count_tokens("你好世界a"), 2);
        let messages = vec![
            json!({"role": "user", "content": "abcde"}),
            json!({"role": "system", "content": "xy"}),
        ];
        assert_eq!(prompt_tokens(&messages), 3);
    }
}
