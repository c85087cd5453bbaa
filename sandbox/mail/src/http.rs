//! The HTTP side: the captured mail as JSON for tests and as a small page for
//! people.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/messages?to=&limit=` | JSON array, newest first |
//! | `GET /api/messages/{id}` | one message, or 404 |
//! | `GET /api/messages/{id}/raw` | the message as received (`message/rfc822`) |
//! | `DELETE /api/messages` | forget everything, 204 |
//! | `GET /` | an HTML list, newest first |
//! | `GET /messages/{id}` | one message as HTML (its HTML body in a sandboxed frame) |
//! | `GET /healthz` | `{"status":"ok"}` |

use std::fmt::Write as _;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;

use crate::store::{Filter, Mailbox, StoredMessage};

/// Listing size when `?limit=` is absent.
const DEFAULT_LIMIT: usize = 100;

pub fn router(mailbox: Mailbox) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/messages/{id}", get(page))
        .route("/api/messages", get(list).delete(clear))
        .route("/api/messages/{id}", get(one))
        .route("/api/messages/{id}/raw", get(raw))
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .with_state(mailbox)
}

pub async fn serve(listener: TcpListener, mailbox: Mailbox) -> std::io::Result<()> {
    axum::serve(listener, router(mailbox)).await
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    to: Option<String>,
    limit: Option<usize>,
}

impl ListQuery {
    fn filter(self) -> Filter {
        Filter {
            to: self.to.filter(|t| !t.trim().is_empty()),
            limit: Some(self.limit.unwrap_or(DEFAULT_LIMIT)),
        }
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": {"code": "not_found", "message": "no such message"}})),
    )
        .into_response()
}

async fn list(State(mailbox): State<Mailbox>, Query(query): Query<ListQuery>) -> Response {
    let messages: Vec<StoredMessage> = mailbox
        .list(&query.filter())
        .iter()
        .map(|m| (**m).clone())
        .collect();
    axum::Json(messages).into_response()
}

async fn one(State(mailbox): State<Mailbox>, Path(id): Path<String>) -> Response {
    match mailbox.get(&id) {
        Some(m) => axum::Json((*m).clone()).into_response(),
        None => not_found(),
    }
}

async fn raw(State(mailbox): State<Mailbox>, Path(id): Path<String>) -> Response {
    match mailbox.get(&id) {
        Some(m) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            m.raw.as_ref().clone(),
        )
            .into_response(),
        None => not_found(),
    }
}

async fn clear(State(mailbox): State<Mailbox>) -> StatusCode {
    mailbox.clear();
    StatusCode::NO_CONTENT
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}\
table{border-collapse:collapse;width:100%}td,th{padding:.4rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\
pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}iframe{width:100%;height:30rem;border:1px solid #ddd}\
.muted{color:#777}";

fn layout(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    ))
}

async fn index(State(mailbox): State<Mailbox>, Query(query): Query<ListQuery>) -> Html<String> {
    let filter = query.filter();
    let messages = mailbox.list(&filter);
    let mut body = String::from("<h1>Sandbox mail</h1>");
    let _ = write!(
        body,
        "<p class=\"muted\">{} message(s) kept in memory, newest first. \
JSON: <a href=\"/api/messages\">/api/messages</a>.</p>",
        mailbox.len()
    );
    if messages.is_empty() {
        body.push_str("<p>No mail yet.</p>");
    } else {
        body.push_str("<table><thead><tr><th>received</th><th>from</th><th>to</th><th>subject</th></tr></thead><tbody>");
        for m in &messages {
            let subject = if m.subject.is_empty() {
                "(no subject)"
            } else {
                m.subject.as_str()
            };
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/messages/{}\">{}</a></td></tr>",
                escape(&m.received_at),
                escape(&m.from),
                escape(&m.to.join(", ")),
                escape(&m.id),
                escape(subject)
            );
        }
        body.push_str("</tbody></table>");
    }
    layout("Sandbox mail", &body)
}

async fn page(State(mailbox): State<Mailbox>, Path(id): Path<String>) -> Response {
    let Some(m) = mailbox.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            layout(
                "Not found",
                "<p>No such message. <a href=\"/\">Back</a></p>",
            ),
        )
            .into_response();
    };
    let mut body = String::from("<p><a href=\"/\">&larr; all mail</a></p>");
    let _ = write!(
        body,
        "<h1>{}</h1><table><tr><th>from</th><td>{}</td></tr><tr><th>to</th><td>{}</td></tr>\
<tr><th>received</th><td>{}</td></tr></table>",
        escape(&m.subject),
        escape(&m.from),
        escape(&m.to.join(", ")),
        escape(&m.received_at)
    );
    if let Some(html) = &m.html {
        // srcdoc in a sandbox without allow-scripts: the mail's HTML renders but runs nothing.
        let _ = write!(
            body,
            "<h2>HTML</h2><iframe sandbox=\"\" srcdoc=\"{}\"></iframe>",
            escape(html)
        );
    }
    if let Some(text) = &m.text {
        let _ = write!(body, "<h2>Text</h2><pre>{}</pre>", escape(text));
    }
    let _ = write!(
        body,
        "<p><a href=\"/api/messages/{0}\">JSON</a> · <a href=\"/api/messages/{0}/raw\">raw</a></p>",
        escape(&m.id)
    );
    layout(&m.subject, &body).into_response()
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
