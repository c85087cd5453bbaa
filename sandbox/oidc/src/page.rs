//! The login page both providers show: a button per test user. Each button
//! repeats the request with `login_hint` set to that user's address.

use axum::response::Html;

use crate::USERS;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The page for a request to `action` with query `params` (login_hint left out).
pub fn login_page(title: &str, action: &str, params: &[(String, String)]) -> Html<String> {
    let hidden: String = params
        .iter()
        .filter(|(k, _)| k != "login_hint")
        .map(|(k, v)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(k),
                escape(v)
            )
        })
        .collect();
    let buttons: String = USERS
        .iter()
        .map(|u| {
            format!(
                r#"<p><button type="submit" name="login_hint" value="{email}" data-email="{email}">{name} &lt;{email}&gt;</button></p>"#,
                email = escape(&u.email),
                name = escape(&u.name)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>Sandbox sign-in: pick a test user.</p>\
         <form method=\"get\" action=\"{action}\">{hidden}{buttons}</form></body></html>",
        title = escape(title),
        action = escape(action),
    ))
}
