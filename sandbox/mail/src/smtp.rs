//! The SMTP side: enough of RFC 5321 for lettre's plaintext client — EHLO/HELO,
//! MAIL FROM, RCPT TO, DATA (with dot-unstuffing), RSET, NOOP, VRFY, HELP and
//! QUIT. No AUTH, no STARTTLS: this sink listens on loopback for tests and local
//! runs only. Every connection is its own task, so many clients can send at once.

use std::time::Duration;

use chrono::Utc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::store::Mailbox;

/// The name the server greets with.
const HOSTNAME: &str = "paychat-sandbox-mail";
/// Largest message accepted (advertised with SIZE).
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;
/// RFC 5321 says 512 for a command line; be generous to odd clients.
const MAX_COMMAND_LINE: usize = 4096;
/// A line inside DATA (RFC 5321: 1000; some clients send longer).
const MAX_DATA_LINE: usize = 64 * 1024;
const MAX_RECIPIENTS: usize = 1000;
/// A client silent this long is dropped.
const IDLE: Duration = Duration::from_secs(300);

/// Accepts connections until the listener fails.
pub async fn serve(listener: TcpListener, mailbox: Mailbox) -> anyhow::Result<()> {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off, keep serving.
                tracing::warn!(error = %e, "accepting an SMTP connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let mailbox = mailbox.clone();
        tokio::spawn(async move {
            let (read, write) = stream.into_split();
            if let Err(e) = session(read, write, &mailbox).await {
                tracing::debug!(%peer, error = %e, "SMTP session ended with an error");
            }
        });
    }
}

/// The state of one mail transaction.
#[derive(Default)]
struct Transaction {
    from: Option<String>,
    recipients: Vec<String>,
}

enum Line {
    Complete(Vec<u8>),
    TooLong,
    Eof,
}

/// Reads one line of at most `max` bytes (terminator included); a longer line
/// is consumed to its end and reported as too long.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    max: usize,
) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX);
    let n = read_some(reader, limit, &mut buf).await?;
    if n == 0 {
        return Ok(Line::Eof);
    }
    if buf.last() == Some(&b'\n') {
        return Ok(Line::Complete(buf));
    }
    if buf.len() < max {
        // The stream ended mid-line.
        return Ok(Line::Eof);
    }
    // Skip the rest of the over-long line.
    loop {
        buf.clear();
        let n = read_some(reader, limit, &mut buf).await?;
        if n == 0 {
            return Ok(Line::Eof);
        }
        if buf.last() == Some(&b'\n') {
            return Ok(Line::TooLong);
        }
    }
}

/// Appends up to `limit` bytes, through the next newline if one comes first, to
/// `buf`; answers how many were read (0 at end of stream). An idle client times out.
async fn read_some<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    limit: u64,
    buf: &mut Vec<u8>,
) -> std::io::Result<usize> {
    tokio::time::timeout(IDLE, (&mut *reader).take(limit).read_until(b'\n', buf))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "client idle"))?
}

fn strip_eol(mut line: Vec<u8>) -> Vec<u8> {
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    line
}

/// The address inside `<...>` after `FROM:` / `TO:`; parameters (SIZE=, BODY=) are ignored.
fn path_argument(rest: &str) -> Option<String> {
    let rest = rest.trim_start();
    if let Some(inner) = rest.strip_prefix('<') {
        let end = inner.find('>')?;
        return Some(inner[..end].trim().to_owned());
    }
    // Tolerate a bare address (some clients omit the brackets).
    rest.split_whitespace().next().map(str::to_owned)
}

/// `keyword` (e.g. "FROM:") at the start of `args`, case-insensitively.
fn strip_keyword<'a>(args: &'a str, keyword: &str) -> Option<&'a str> {
    let head = args.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword)
        .then(|| &args[keyword.len()..])
}

async fn reply<W: AsyncWrite + Unpin>(writer: &mut W, text: &str) -> std::io::Result<()> {
    writer.write_all(text.as_bytes()).await?;
    writer.write_all(b"\r\n").await?;
    writer.flush().await
}

/// One SMTP conversation.
pub async fn session<R, W>(read: R, mut writer: W, mailbox: &Mailbox) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = BufReader::new(read);
    reply(&mut writer, &format!("220 {HOSTNAME} ESMTP sandbox ready")).await?;
    let mut greeted = false;
    let mut tx = Transaction::default();
    loop {
        let line = match read_line(&mut reader, MAX_COMMAND_LINE).await? {
            Line::Eof => return Ok(()),
            Line::TooLong => {
                reply(&mut writer, "500 5.5.6 line too long").await?;
                continue;
            }
            Line::Complete(line) => strip_eol(line),
        };
        let line = String::from_utf8_lossy(&line).into_owned();
        let (verb, args) = match line.split_once(' ') {
            Some((verb, args)) => (verb.to_ascii_uppercase(), args.trim()),
            None => (line.trim().to_ascii_uppercase(), ""),
        };
        match verb.as_str() {
            "EHLO" => {
                greeted = true;
                tx = Transaction::default();
                let client = if args.is_empty() { "client" } else { args };
                let text = format!(
                    "250-{HOSTNAME} greets {client}\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-PIPELINING\r\n250 SIZE {MAX_MESSAGE_BYTES}"
                );
                reply(&mut writer, &text).await?;
            }
            "HELO" => {
                greeted = true;
                tx = Transaction::default();
                reply(&mut writer, &format!("250 {HOSTNAME}")).await?;
            }
            "MAIL" => {
                if !greeted {
                    reply(&mut writer, "503 5.5.1 say EHLO or HELO first").await?;
                } else if tx.from.is_some() {
                    reply(&mut writer, "503 5.5.1 sender already given").await?;
                } else {
                    match strip_keyword(args, "FROM:").and_then(path_argument) {
                        Some(from) => {
                            tx.from = Some(from);
                            reply(&mut writer, "250 2.1.0 OK").await?;
                        }
                        None => reply(&mut writer, "501 5.5.4 syntax: MAIL FROM:<address>").await?,
                    }
                }
            }
            "RCPT" => {
                if tx.from.is_none() {
                    reply(&mut writer, "503 5.5.1 need MAIL before RCPT").await?;
                } else if tx.recipients.len() >= MAX_RECIPIENTS {
                    reply(&mut writer, "452 4.5.3 too many recipients").await?;
                } else {
                    match strip_keyword(args, "TO:").and_then(path_argument) {
                        Some(to) if !to.is_empty() => {
                            tx.recipients.push(to);
                            reply(&mut writer, "250 2.1.5 OK").await?;
                        }
                        _ => reply(&mut writer, "501 5.5.4 syntax: RCPT TO:<address>").await?,
                    }
                }
            }
            "DATA" => {
                if tx.from.is_none() {
                    reply(&mut writer, "503 5.5.1 need MAIL before DATA").await?;
                } else if tx.recipients.is_empty() {
                    reply(&mut writer, "554 5.5.1 no valid recipients").await?;
                } else {
                    reply(&mut writer, "354 end data with <CR><LF>.<CR><LF>").await?;
                    let Some(body) = read_data(&mut reader).await? else {
                        return Ok(());
                    };
                    let tx = std::mem::take(&mut tx);
                    match body {
                        Data::Message(raw) => {
                            let from = tx.from.unwrap_or_default();
                            let id = mailbox.push(&from, tx.recipients, raw, Utc::now());
                            tracing::info!(id, from, "message received");
                            reply(&mut writer, &format!("250 2.0.0 OK queued as {id}")).await?;
                        }
                        Data::TooBig => {
                            reply(&mut writer, "552 5.3.4 message too big").await?;
                        }
                    }
                }
            }
            "RSET" => {
                tx = Transaction::default();
                reply(&mut writer, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(&mut writer, "250 2.0.0 OK").await?,
            "VRFY" => reply(&mut writer, "252 2.1.5 cannot verify, will accept").await?,
            "HELP" => {
                reply(
                    &mut writer,
                    "214 2.0.0 EHLO HELO MAIL RCPT DATA RSET NOOP QUIT",
                )
                .await?
            }
            "QUIT" => {
                reply(&mut writer, "221 2.0.0 bye").await?;
                return Ok(());
            }
            "STARTTLS" | "AUTH" => {
                reply(&mut writer, "502 5.5.1 not offered by the sandbox").await?;
            }
            _ => reply(&mut writer, "500 5.5.2 command not recognised").await?,
        }
    }
}

enum Data {
    Message(Vec<u8>),
    TooBig,
}

/// Reads the message up to the lone dot, undoing dot-stuffing. `None` when the
/// client went away first.
async fn read_data<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> std::io::Result<Option<Data>> {
    let mut message = Vec::new();
    let mut too_big = false;
    loop {
        let line = match read_line(reader, MAX_DATA_LINE).await? {
            Line::Eof => return Ok(None),
            Line::TooLong => {
                too_big = true;
                continue;
            }
            Line::Complete(line) => line,
        };
        let content = strip_eol(line.clone());
        if content == b"." {
            break;
        }
        if too_big {
            continue;
        }
        // Dot-unstuffing (RFC 5321 4.5.2): a leading dot was doubled by the client.
        let line = if line.first() == Some(&b'.') {
            &line[1..]
        } else {
            &line[..]
        };
        if message.len() + line.len() > MAX_MESSAGE_BYTES {
            too_big = true;
            message = Vec::new();
            continue;
        }
        message.extend_from_slice(line);
    }
    Ok(Some(if too_big {
        Data::TooBig
    } else {
        Data::Message(message)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Filter;

    async fn converse(input: &str) -> (String, Mailbox) {
        let mailbox = Mailbox::new(10);
        let mut output = Vec::new();
        session(input.as_bytes(), &mut output, &mailbox)
            .await
            .expect("session");
        (String::from_utf8(output).expect("utf-8"), mailbox)
    }

    #[tokio::test]
    async fn a_whole_conversation_with_dot_stuffing() {
        let (out, mailbox) = converse(concat!(
            "EHLO test\r\n",
            "MAIL FROM:<a@x.test> BODY=8BITMIME\r\n",
            "RCPT TO:<b@y.test>\r\n",
            "rcpt to:<C@y.test>\r\n",
            "DATA\r\n",
            "Subject: s\r\n",
            "\r\n",
            "..leading dot\r\n",
            ".\r\n",
            "QUIT\r\n",
        ))
        .await;
        assert!(out.starts_with("220 "), "{out}");
        assert!(out.contains("250 2.0.0 OK queued as 1"), "{out}");
        assert!(out.ends_with("221 2.0.0 bye\r\n"), "{out}");
        let stored = mailbox.list(&Filter::default());
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].to, ["b@y.test", "C@y.test"]);
        assert_eq!(stored[0].from, "a@x.test");
        assert_eq!(
            stored[0].text.as_deref().map(str::trim_end),
            Some(".leading dot")
        );
    }

    #[tokio::test]
    async fn commands_out_of_order_are_refused_and_rset_clears() {
        let (out, mailbox) = converse(concat!(
            "MAIL FROM:<a@x>\r\n",
            "HELO me\r\n",
            "RCPT TO:<b@y>\r\n",
            "DATA\r\n",
            "MAIL FROM:<a@x>\r\n",
            "RSET\r\n",
            "RCPT TO:<b@y>\r\n",
            "NOOP\r\n",
            "BOGUS\r\n",
            "QUIT\r\n",
        ))
        .await;
        let codes: Vec<&str> = out.lines().map(|l| &l[..3]).collect();
        assert_eq!(
            codes,
            [
                "220", "503", "250", "503", "503", "250", "250", "503", "250", "500", "221"
            ]
        );
        assert!(mailbox.is_empty());
    }
}
