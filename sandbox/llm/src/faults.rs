//! Fault switches a client picks per request: by model name (`fault-401`,
//! `fault-429`, `fault-500`, `fault-cut-after-N`, `fault-stall`,
//! `fault-headers-after-MS`) or by API key prefix (`sk-bad…` → 401,
//! `sk-limited…` → 429).

/// What a request's model name asks the server to do wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 401 with OpenAI's error JSON.
    Unauthorized,
    /// Answer 429 with `Retry-After` and OpenAI's error JSON.
    RateLimited,
    /// Answer 500 with OpenAI's error JSON.
    ServerError,
    /// Stream the role chunk and this many content chunks, then abort the connection.
    CutAfter(usize),
    /// Stream the role chunk, then nothing until the client goes away.
    Stall,
    /// Hold the response headers back this many milliseconds, then stream the
    /// ordinary answer: an upstream slow to accept the request.
    HeadersAfter(u64),
}

/// Prefix every fault model name starts with.
pub const FAULT_PREFIX: &str = "fault-";

/// The fault a model name selects. `Ok(None)` for an ordinary model, `Err`
/// for a name that starts with `fault-` but names no known fault, so a typo
/// in a test fails loudly instead of silently streaming a normal answer.
pub fn from_model(model: &str) -> Result<Option<Fault>, String> {
    let Some(rest) = model.strip_prefix(FAULT_PREFIX) else {
        return Ok(None);
    };
    let fault = match rest {
        "401" => Fault::Unauthorized,
        "429" => Fault::RateLimited,
        "500" => Fault::ServerError,
        "stall" => Fault::Stall,
        _ => {
            if let Some(n) = rest.strip_prefix("cut-after-") {
                Fault::CutAfter(n.parse().map_err(|_| unknown(model))?)
            } else if let Some(ms) = rest.strip_prefix("headers-after-") {
                Fault::HeadersAfter(ms.parse().map_err(|_| unknown(model))?)
            } else {
                return Err(unknown(model));
            }
        }
    };
    Ok(Some(fault))
}

fn unknown(model: &str) -> String {
    format!("unknown sandbox fault model `{model}`")
}

/// Keys starting with this are always refused with 401.
pub const BAD_KEY_PREFIX: &str = "sk-bad";
/// Keys starting with this are always refused with 429.
pub const LIMITED_KEY_PREFIX: &str = "sk-limited";

/// The fault an API key selects, if any.
pub fn from_key(key: &str) -> Option<Fault> {
    if key.starts_with(BAD_KEY_PREFIX) {
        Some(Fault::Unauthorized)
    } else if key.starts_with(LIMITED_KEY_PREFIX) {
        Some(Fault::RateLimited)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fault_models() {
        assert_eq!(from_model("sandbox-chat"), Ok(None));
        assert_eq!(from_model("fault-429"), Ok(Some(Fault::RateLimited)));
        assert_eq!(
            from_model("fault-cut-after-2"),
            Ok(Some(Fault::CutAfter(2)))
        );
        assert_eq!(from_model("fault-stall"), Ok(Some(Fault::Stall)));
        assert_eq!(
            from_model("fault-headers-after-5000"),
            Ok(Some(Fault::HeadersAfter(5000)))
        );
        assert!(from_model("fault-cut-after-x").is_err());
        assert!(from_model("fault-headers-after-").is_err());
        assert!(from_model("fault-418").is_err());
    }

    #[test]
    fn parses_fault_keys() {
        assert_eq!(from_key("sk-bad-1"), Some(Fault::Unauthorized));
        assert_eq!(from_key("sk-limited"), Some(Fault::RateLimited));
        assert_eq!(from_key("sk-good"), None);
    }
}
