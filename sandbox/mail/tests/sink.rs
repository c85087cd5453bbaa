//! The sink over real SMTP (lettre, as chat-api sends) and real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use lettre::message::{Mailbox as Address, MultiPart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use paychat_sandbox_mail::{Mailbox, serve_with};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

struct Sink {
    smtp_port: u16,
    http: String,
    client: reqwest::Client,
}

async fn spawn() -> Sink {
    let smtp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let smtp_port = smtp.local_addr().unwrap().port();
    let http_addr = http.local_addr().unwrap();
    tokio::spawn(serve_with(smtp, http, Mailbox::new(100)));
    Sink {
        smtp_port,
        http: format!("http://{http_addr}"),
        client: reqwest::Client::new(),
    }
}

impl Sink {
    fn transport(&self) -> AsyncSmtpTransport<Tokio1Executor> {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(self.smtp_port)
            .timeout(Some(Duration::from_secs(5)))
            .build()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.http))
            .send()
            .await
            .unwrap()
    }

    async fn messages(&self, query: &str) -> Vec<Value> {
        let res = self.get(&format!("/api/messages{query}")).await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }
}

fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

#[tokio::test]
async fn lettre_multipart_mail_is_decoded_and_listed() {
    let sink = spawn().await;
    let html = "<p>Hello <b>Zoë</b>, <a href=\"http://x/verify?code=abc\">verify</a></p>";
    let text = format!(
        "Hello Zoë,\nverify: http://x/verify?code=abc\n.line starting with a dot\n{}",
        "long ".repeat(40)
    );
    let message = Message::builder()
        .from(addr("PayChat <no-reply@paychat.local>"))
        .to(addr("Zoe <Zoe@Example.com>"))
        .bcc(addr("audit@example.com"))
        .subject("验证你的邮箱 — PayChat")
        .multipart(MultiPart::alternative_plain_html(
            text.clone(),
            html.to_owned(),
        ))
        .unwrap();
    sink.transport().send(message).await.unwrap();
    let plain = Message::builder()
        .from(addr("no-reply@paychat.local"))
        .to(addr("other@example.com"))
        .subject("plain")
        .header(ContentType::TEXT_PLAIN)
        .body(String::from("just text"))
        .unwrap();
    sink.transport().send(plain).await.unwrap();

    let all = sink.messages("").await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["subject"], "plain", "newest first");
    assert_eq!(all[0]["html"], Value::Null);
    assert_eq!(all[0]["text"].as_str().unwrap().trim_end(), "just text");

    let found = sink.messages("?to=zoe@example.COM").await;
    assert_eq!(found.len(), 1);
    let m = &found[0];
    assert_eq!(m["from"], "no-reply@paychat.local");
    assert_eq!(m["subject"], "验证你的邮箱 — PayChat");
    assert_eq!(m["html"].as_str().unwrap().trim_end(), html);
    assert_eq!(
        m["text"].as_str().unwrap().trim_end().replace("\r\n", "\n"),
        text.trim_end()
    );
    let to: Vec<&str> = m["to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(to, ["Zoe@Example.com", "audit@example.com"]);
    assert!(m["received_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        sink.messages("?to=audit@example.com").await.len(),
        1,
        "Bcc is found too"
    );
    assert_eq!(sink.messages("?limit=1").await.len(), 1);

    let id = m["id"].as_str().unwrap();
    let one: Value = sink
        .get(&format!("/api/messages/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["subject"], m["subject"]);
    assert_eq!(sink.get("/api/messages/999999").await.status(), 404);
    let raw = sink
        .get(&format!("/api/messages/{id}/raw"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        raw.contains("Subject: =?utf-8?"),
        "the raw message is kept: {raw}"
    );

    let page = sink.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = page.text().await.unwrap();
    assert!(page.contains(&format!("href=\"/messages/{id}\"")));
    assert!(page.contains("验证你的邮箱"));
    assert!(
        page.find("plain").unwrap() < page.find("验证你的邮箱").unwrap(),
        "newest first"
    );
    let detail = sink
        .get(&format!("/messages/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        detail.contains("&lt;p&gt;Hello &lt;b&gt;Zoë"),
        "the mail's HTML is escaped into srcdoc"
    );
    assert!(!detail.contains("<b>Zoë</b>"));

    let res = sink
        .client
        .delete(format!("{}/api/messages", sink.http))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(sink.messages("").await.is_empty());
}

#[tokio::test]
async fn subjects_with_markup_are_escaped_on_the_page() {
    let sink = spawn().await;
    let message = Message::builder()
        .from(addr("a@example.com"))
        .to(addr("b@example.com"))
        .subject("<script>alert(1)</script>")
        .body(String::from("x"))
        .unwrap();
    sink.transport().send(message).await.unwrap();
    let page = sink.get("/").await.text().await.unwrap();
    assert!(!page.contains("<script>alert(1)"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test]
async fn many_clients_at_once() {
    let sink = spawn().await;
    let sends = (0..40).map(|i| {
        let transport = sink.transport();
        async move {
            let message = Message::builder()
                .from(addr("a@example.com"))
                .to(addr(&format!("user{i}@example.com")))
                .subject(format!("n{i}"))
                .body(format!("body {i}"))
                .unwrap();
            transport.send(message).await.unwrap();
        }
    });
    futures_join_all(sends).await;
    assert_eq!(sink.messages("?limit=1000").await.len(), 40);
    let one = sink.messages("?to=USER17@example.com").await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["subject"], "n17");
}

async fn futures_join_all<F: std::future::Future<Output = ()> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    for h in handles {
        h.await.unwrap();
    }
}

#[tokio::test]
async fn raw_conversation_with_rset_noop_and_dots() {
    let sink = spawn().await;
    let stream = TcpStream::connect(("127.0.0.1", sink.smtp_port))
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut expect = async |code: &str| {
        let line = lines.next_line().await.unwrap().unwrap();
        assert!(line.starts_with(code), "expected {code}, got {line}");
        line
    };
    expect("220").await;
    write.write_all(b"HELO tester\r\n").await.unwrap();
    expect("250").await;
    write
        .write_all(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<dropped@x.test>\r\nRSET\r\n")
        .await
        .unwrap();
    expect("250").await;
    expect("250").await;
    expect("250").await;
    write
        .write_all(b"NOOP\r\nMAIL FROM:<>\r\nRCPT TO:<kept@x.test>\r\nDATA\r\n")
        .await
        .unwrap();
    expect("250").await;
    expect("250").await;
    expect("250").await;
    expect("354").await;
    write
        .write_all(b"Subject: dots\r\n\r\n..\r\n...two\r\nend\r\n.\r\nQUIT\r\n")
        .await
        .unwrap();
    expect("250").await;
    expect("221").await;
    assert!(sink.messages("?to=dropped@x.test").await.is_empty());
    let kept = sink.messages("?to=kept@x.test").await;
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0]["text"]
            .as_str()
            .unwrap()
            .replace("\r\n", "\n")
            .trim_end(),
        ".\n..two\nend"
    );
}
