//! The context sent upstream: the parent-message chain, newest first, cut at
//! `context_max_messages` and at the token budget (cl100k, as OpenAI counts).
//!
//! Counting tokens costs far more than the rest of a request, so the budget is
//! first checked against a bound that needs no counting: a cl100k token always
//! covers at least one byte, so a text has at most as many tokens as bytes. The
//! exact count runs only when that bound does not fit the budget; otherwise
//! the tokens are counted later, off the path to the first token.

use serde::Serialize;

use super::queries::ChainRow;
use super::types::QUESTION;

/// Tokens OpenAI adds per chat message for its framing.
const PER_MESSAGE: i64 = 4;

pub fn count_tokens(text: &str) -> i64 {
    let n = tiktoken_rs::cl100k_base_singleton()
        .encode_ordinary(text)
        .len();
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Loads the encoder now, so the first request does not pay for it.
pub fn warm_up() {
    let _ = count_tokens("warm up");
}

/// At least as many as the tokens of `text`, framing included.
fn bound(text: &str) -> i64 {
    i64::try_from(text.len()).unwrap_or(i64::MAX) + PER_MESSAGE
}

fn exact(text: &str) -> i64 {
    count_tokens(text) + PER_MESSAGE
}

/// One chat message as the upstream wants it.
#[derive(Debug, Clone, Serialize)]
pub struct Turn {
    pub role: &'static str,
    pub content: String,
}

pub struct Context {
    /// Messages in order, the prompt last.
    pub messages: Vec<Turn>,
    /// Earlier messages included.
    pub history: i64,
    /// Tokens of every message sent, framing included, when they had to be
    /// counted to fit the budget; see [`prompt_tokens`] otherwise.
    pub prompt_tokens: Option<i64>,
}

/// Tokens of every message sent, framing included.
pub fn prompt_tokens(messages: &[Turn]) -> i64 {
    messages.iter().map(|m| exact(&m.content)).sum()
}

/// How many messages of the chain to read at most: the message cap, plus as
/// many empty answers (failed before their first token) again.
pub fn chain_limit(max_messages: u32) -> u32 {
    max_messages.saturating_mul(2).saturating_add(1)
}

/// Fits the chain read from the parent (newest first) into the budget.
pub fn fit(
    chain: Vec<ChainRow>,
    room_id: i64,
    prompt: &str,
    max_messages: u32,
    max_tokens: u32,
) -> Context {
    let budget = i64::from(max_tokens);
    let mut counted = false;
    let mut total = bound(prompt);
    let mut history: Vec<Turn> = Vec::new();
    for row in chain {
        if history.len() >= max_messages as usize || row.chat_room_id != room_id {
            break;
        }
        if row.content.is_empty() {
            // An answer that failed before its first token says nothing.
            continue;
        }
        if !counted && total + bound(&row.content) > budget {
            // The bound is too coarse here: count what is in so far.
            total = exact(prompt) + history.iter().map(|t| exact(&t.content)).sum::<i64>();
            counted = true;
        }
        let tokens = if counted {
            exact(&row.content)
        } else {
            bound(&row.content)
        };
        if total + tokens > budget {
            break;
        }
        total += tokens;
        let role = if row.message_type == QUESTION {
            "user"
        } else {
            "assistant"
        };
        history.push(Turn {
            role,
            content: row.content,
        });
    }
    let count = i64::try_from(history.len()).unwrap_or(i64::MAX);
    history.reverse();
    history.push(Turn {
        role: "user",
        content: prompt.to_owned(),
    });
    Context {
        messages: history,
        history: count,
        prompt_tokens: counted.then_some(total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::types::ANSWER;

    fn row(room: i64, kind: i32, content: &str) -> ChainRow {
        ChainRow {
            chat_room_id: room,
            parent_message_id: None,
            message_type: kind,
            content: content.to_owned(),
        }
    }

    #[test]
    fn a_small_context_is_taken_whole_without_counting() {
        let chain = vec![row(1, ANSWER, "an answer"), row(1, QUESTION, "a question")];
        let ctx = fit(chain, 1, "next", 10, 3000);
        assert_eq!(ctx.history, 2);
        assert_eq!(ctx.prompt_tokens, None);
        let roles: Vec<&str> = ctx.messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, ["user", "assistant", "user"]);
        assert_eq!(ctx.messages[0].content, "a question");
        assert_eq!(ctx.messages[2].content, "next");
    }

    #[test]
    fn the_budget_is_kept_with_exact_counts_when_the_bound_does_not_fit() {
        // "hello " is one token but six bytes: the bound alone would stop early.
        let long = "hello ".repeat(40);
        let chain = vec![row(1, ANSWER, &long), row(1, QUESTION, &long)];
        let one = exact(&long);
        let prompt_cost = exact("p");
        // Room for the prompt and exactly one of the two messages.
        let budget = u32::try_from(prompt_cost + one + one / 2).expect("a small budget");
        let ctx = fit(chain, 1, "p", 10, budget);
        assert_eq!(ctx.history, 1);
        assert_eq!(ctx.prompt_tokens, Some(prompt_cost + one));
        assert_eq!(prompt_tokens(&ctx.messages), prompt_cost + one);
    }

    #[test]
    fn the_chain_stops_at_the_room_and_the_cap_and_skips_empty_answers() {
        let chain = vec![
            row(1, ANSWER, ""),
            row(1, QUESTION, "q2"),
            row(1, ANSWER, "a1"),
            row(1, QUESTION, "q1"),
        ];
        let ctx = fit(chain, 1, "p", 2, 3000);
        assert_eq!(ctx.history, 2);
        assert_eq!(ctx.messages[0].content, "a1");
        let other_room = vec![row(2, ANSWER, "elsewhere")];
        assert_eq!(fit(other_room, 1, "p", 10, 3000).history, 0);
    }
}
