//! Finding the signed part of a synchronous Alipay response.
//!
//! Alipay signs the exact text of the `<method>_response` (or `error_response`)
//! value as it sits in the body. Re-serialising parsed JSON would change escapes
//! (`\/`, `\u4e2d`), key order or spacing and break the signature, so the value is
//! cut out of the body by scanning the JSON text.

/// The pieces of a response body the verifier needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse<'a> {
    /// Which node was found: `<method>_response` or `error_response`.
    pub node: String,
    /// The node's value, byte for byte as received.
    pub raw: &'a str,
    pub sign: Option<String>,
    pub alipay_cert_sn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseFormatError {
    #[error("the response body is not a JSON object")]
    NotAnObject,
    #[error("the response has no {0} node")]
    MissingNode(String),
}

/// `alipay.trade.precreate` → `alipay_trade_precreate_response`.
pub fn response_node_name(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

/// Splits `body` into its top-level members and picks the response node for `method`.
pub fn extract<'a>(body: &'a str, method: &str) -> Result<RawResponse<'a>, ResponseFormatError> {
    let members = top_level_members(body).ok_or(ResponseFormatError::NotAnObject)?;
    let wanted = response_node_name(method);
    let find = |name: &str| members.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let (node, raw) = match (find(&wanted), find("error_response")) {
        (Some(raw), _) => (wanted, raw),
        (None, Some(raw)) => ("error_response".to_owned(), raw),
        (None, None) => return Err(ResponseFormatError::MissingNode(wanted)),
    };
    let string_member =
        |name: &str| find(name).and_then(|raw| serde_json::from_str::<String>(raw).ok());
    Ok(RawResponse {
        node,
        raw,
        sign: string_member("sign"),
        alipay_cert_sn: string_member("alipay_cert_sn"),
    })
}

/// The top-level members of a JSON object as (decoded key, raw value text).
/// `None` if `body` is not a well-formed object.
pub fn top_level_members(body: &str) -> Option<Vec<(String, &str)>> {
    let bytes = body.as_bytes();
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(bytes, i + 1);
    let mut members = Vec::new();
    if bytes.get(i) == Some(&b'}') {
        return (skip_ws(bytes, i + 1) == bytes.len()).then_some(members);
    }
    loop {
        let key_end = skip_string(bytes, i)?;
        let key: String = serde_json::from_str(&body[i..key_end]).ok()?;
        i = skip_ws(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(bytes, i + 1);
        let end = skip_value(bytes, start)?;
        members.push((key, &body[start..end]));
        i = skip_ws(bytes, end);
        match bytes.get(i) {
            Some(b',') => i = skip_ws(bytes, i + 1),
            Some(b'}') => {
                return (skip_ws(bytes, i + 1) == bytes.len()).then_some(members);
            }
            _ => return None,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// `i` at an opening quote → index just past the closing quote.
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        match b.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
}

/// `i` at the first byte of a value → index just past it. Scalars are checked by
/// handing them to serde_json; containers by bracket matching outside strings.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            let end = j + 1;
                            let text = std::str::from_utf8(&b[i..end]).ok()?;
                            serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
                            return Some(end);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while let Some(c) = b.get(j) {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                j += 1;
            }
            let text = std::str::from_utf8(&b[i..j]).ok()?;
            serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
            (j > i).then_some(j)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cuts_the_node_text_exactly() {
        // Escapes, spacing and key order must survive untouched.
        let node = r#"{"code":"10000","msg":"Success","qr_code":"https:\/\/qr.alipay.com\/bax0\u4e2d","n":[1,{"a":"}"}]}"#;
        let body = format!(
            "{{ \"alipay_trade_precreate_response\" :\n {node} ,\"sign\":\"c2ln\", \"alipay_cert_sn\":\"abc\"}}"
        );
        let raw = extract(&body, "alipay.trade.precreate").unwrap();
        assert_eq!(raw.node, "alipay_trade_precreate_response");
        assert_eq!(raw.raw, node);
        assert_eq!(raw.sign.as_deref(), Some("c2ln"));
        assert_eq!(raw.alipay_cert_sn.as_deref(), Some("abc"));
    }

    #[test]
    fn falls_back_to_error_response() {
        let body = r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature"}}"#;
        let raw = extract(body, "alipay.trade.query").unwrap();
        assert_eq!(raw.node, "error_response");
        assert_eq!(raw.sign, None);
        assert!(raw.raw.starts_with(r#"{"code":"40002""#));
    }

    #[test]
    fn the_sign_key_inside_the_node_is_not_the_signature() {
        let body = r#"{"x_response":{"sign":"inner"},"sign":"outer"}"#;
        let raw = extract(body, "x").unwrap();
        assert_eq!(raw.sign.as_deref(), Some("outer"));
        assert_eq!(raw.raw, r#"{"sign":"inner"}"#);
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for body in [
            "",
            "[]",
            "<html>",
            r#"{"a_response":{"b":1}"#,
            r#"{"a_response":{"b":1}} trailing"#,
            r#"{"a_response":{"b":1},}"#,
            r#"{"a_response":tru}"#,
            r#"{"a_response":{"b":1]}"#,
        ] {
            assert!(extract(body, "a").is_err(), "{body}");
        }
        assert_eq!(
            extract(r#"{"other":1}"#, "a"),
            Err(ResponseFormatError::MissingNode("a_response".into()))
        );
    }
}
