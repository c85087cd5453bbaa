//! HTTP/1.1 connections to the upstream, each driven by the stream it
//! carries.
//!
//! A pooled client (reqwest's, hyper's) runs every connection in a task of its
//! own and hands each body chunk to the reader through a channel: two task
//! wake-ups and a socket read for every event the model writes. Here the
//! relay's own task polls the connection whenever it reads the answer, so
//! nothing runs for an answer while the relay is not reading it, and what the
//! model wrote meanwhile is read from the socket in one go. A reader that
//! polls on a schedule of its own says so ([`Answer::read_on_demand`]), and
//! the socket leaves the runtime's reactor until the next request: the model's
//! writes in between then wake no thread at all (`upstream_socket`).
//!
//! Connections are kept between answers in a small pool of our own, newest
//! first; an idle one that the upstream closed is seen and dropped when it is
//! taken. A request that a kept connection could not even start is sent again
//! on a new one; one that went out is never sent twice.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::{Bytes, BytesMut};
use futures::Stream;
use http::header::{self, HeaderValue};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::Full;
use hyper::body::{Body, Incoming};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, RootCertStore};

use super::upstream_socket::{Socket as TcpSocket, Watch};

/// How long a connection may wait in the pool: well under the idle timeouts
/// of common servers (nginx 75 s, most load balancers 60 s).
const KEEP_IDLE: Duration = Duration::from_secs(30);
/// Connections kept at most; one per stream open at the busiest moment is
/// the useful number.
const MAX_IDLE: usize = 1024;

/// Why an upstream request or answer failed; never carries a key.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("connecting to the upstream failed: {0}")]
    Connect(String),
    #[error("connecting to the upstream took longer than {0:?}")]
    ConnectTimeout(Duration),
    #[error("{0}")]
    Http(#[from] hyper::Error),
    #[error("the upstream closed the connection")]
    Closed,
    #[error("the key is not a valid header value")]
    Key,
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

type Socket = TokioIo<Box<dyn Io>>;

/// One HTTP/1.1 connection: the side that sends requests, and the side that
/// reads and writes the socket, which whoever waits on the connection polls.
struct Conn {
    send: http1::SendRequest<Full<Bytes>>,
    driver: http1::Connection<Socket, Full<Bytes>>,
    /// How its TCP socket is read.
    watch: Watch,
}

impl Conn {
    /// Reads and writes what it can; ready once the connection has ended.
    fn poll_driver(&mut self, cx: &mut Context<'_>) -> Poll<hyper::Result<()>> {
        Pin::new(&mut self.driver).poll(cx)
    }

    /// Whether a kept connection can take a request: the upstream has not
    /// closed it (a closed socket reads its end on the first poll).
    fn is_usable(&mut self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        !self.send.is_closed() && self.poll_driver(&mut cx).is_pending() && self.send.is_ready()
    }
}

/// Where the upstream is, and how to reach it.
struct Target {
    host: String,
    port: u16,
    /// The `Host` header.
    authority: HeaderValue,
    /// What is asked for: the URL's path and query.
    path: Uri,
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

pub struct Client {
    target: Target,
    proxy: Option<Proxy>,
    connect_timeout: Duration,
    idle: Mutex<Vec<(Conn, Instant)>>,
    /// Hands answers a way back to the pool without keeping the client alive.
    this: Weak<Client>,
}

/// A request to send: its key, what it accepts, its JSON body.
pub struct Post<'a> {
    pub bearer: &'a str,
    pub accept: &'static str,
    pub body: Bytes,
}

impl Client {
    /// A client that posts to `url` (http or https). For https the system's
    /// roots are trusted, plus those in `reach.extra_roots_pem`.
    pub fn new(url: &str, reach: Reach<'_>) -> anyhow::Result<Arc<Self>> {
        let Reach {
            connect_timeout,
            extra_roots_pem,
            proxy,
        } = reach;
        let url = url::Url::parse(url).context("parsing llm_base_url")?;
        let host = url
            .host_str()
            .context("llm_base_url has no host")?
            .to_owned();
        // An IPv6 address without its URL brackets, as sockets and TLS take it.
        let bare_host = host.trim_matches(['[', ']']).to_owned();
        let port = url
            .port_or_known_default()
            .context("llm_base_url has no port")?;
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        let tls = match url.scheme() {
            "https" => {
                let roots = roots(extra_roots_pem)?;
                let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::aws_lc_rs::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .context("choosing TLS versions")?
                .with_root_certificates(roots)
                .with_no_client_auth();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                let name = ServerName::try_from(bare_host.clone())
                    .context("llm_base_url's host is not a valid TLS server name")?;
                Some((TlsConnector::from(Arc::new(config)), name))
            }
            "http" => None,
            other => anyhow::bail!("llm_base_url: unsupported scheme {other}"),
        };
        let target = Target {
            host: bare_host,
            port,
            authority: HeaderValue::from_str(&authority).context("llm_base_url's host")?,
            path: url[url::Position::BeforePath..]
                .parse()
                .context("llm_base_url's path")?,
            tls,
        };
        let proxy = proxy.map(Proxy::parse).transpose()?;
        Ok(Arc::new_cyclic(|this| Self {
            target,
            proxy,
            connect_timeout,
            idle: Mutex::new(Vec::new()),
            this: this.clone(),
        }))
    }

    /// Sends `post` and waits for the answer's headers; the body is read
    /// through the [`Answer`].
    pub async fn post(&self, post: Post<'_>) -> Result<Answer, Error> {
        loop {
            let (mut conn, kept) = match self.take_idle() {
                Some(conn) => (conn, true),
                None => (self.connect().await?, false),
            };
            // Waiting for the answer's head, the reader needs to be woken.
            conn.watch.watch();
            let request = self.request(&post)?;
            let mut sent = std::pin::pin!(conn.send.send_request(request));
            let answer = poll_fn(|cx| {
                if let Poll::Ready(answer) = sent.as_mut().poll(cx) {
                    return Poll::Ready(answer);
                }
                match conn.poll_driver(cx) {
                    Poll::Pending => Poll::Pending,
                    // The connection ended: the request learns why.
                    Poll::Ready(_) => sent.as_mut().poll(cx),
                }
            })
            .await;
            match answer {
                Ok(response) => {
                    let (parts, body) = response.into_parts();
                    return Ok(Answer {
                        status: parts.status,
                        body,
                        conn: Some(conn),
                        ended: false,
                        pool: self.this.clone(),
                    });
                }
                // A kept connection that closed before the request went out:
                // the upstream never saw it, so it goes on a new one.
                Err(error) if kept && error.is_canceled() => continue,
                Err(error) => return Err(error.into()),
            }
        }
    }

    fn request(&self, post: &Post<'_>) -> Result<Request<Full<Bytes>>, Error> {
        let mut request = Request::new(Full::new(post.body.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.target.path.clone();
        let headers = request.headers_mut();
        headers.insert(header::HOST, self.target.authority.clone());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::ACCEPT, HeaderValue::from_static(post.accept));
        let mut bearer =
            HeaderValue::from_str(&format!("Bearer {}", post.bearer)).map_err(|_| Error::Key)?;
        bearer.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, bearer);
        Ok(request)
    }

    fn take_idle(&self) -> Option<Conn> {
        loop {
            let (mut conn, since) = self.idle.lock().ok()?.pop()?;
            if since.elapsed() < KEEP_IDLE && conn.is_usable() {
                return Some(conn);
            }
        }
    }

    fn keep(&self, conn: Conn) {
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        if idle.len() >= MAX_IDLE {
            idle.remove(0);
        }
        idle.push((conn, Instant::now()));
    }

    async fn connect(&self) -> Result<Conn, Error> {
        let target = &self.target;
        let watch = Watch::default();
        let connecting = async {
            let tcp = match &self.proxy {
                None => TcpStream::connect((target.host.as_str(), target.port))
                    .await
                    .map_err(connect_failed)?,
                Some(proxy) => proxy.tunnel(&target.host, target.port).await?,
            };
            tcp.set_nodelay(true).map_err(connect_failed)?;
            let tcp = TcpSocket::new(tcp, watch.clone());
            let io: Box<dyn Io> = match &target.tls {
                None => Box::new(tcp),
                Some((tls, name)) => Box::new(
                    tls.connect(name.clone(), tcp)
                        .await
                        .map_err(connect_failed)?,
                ),
            };
            Ok::<_, Error>(io)
        };
        let io = tokio::time::timeout(self.connect_timeout, connecting)
            .await
            .map_err(|_| Error::ConnectTimeout(self.connect_timeout))??;
        let (send, driver) = http1::handshake(TokioIo::new(io)).await?;
        Ok(Conn {
            send,
            driver,
            watch,
        })
    }
}

fn connect_failed(error: std::io::Error) -> Error {
    Error::Connect(error.to_string())
}

/// How to reach the upstream, besides its URL.
pub struct Reach<'a> {
    pub connect_timeout: Duration,
    /// Extra trusted roots (PEM) for an https upstream.
    pub extra_roots_pem: Option<&'a [u8]>,
    /// An HTTP proxy to tunnel through, `http://[user:password@]host:port`.
    pub proxy: Option<&'a str>,
}

/// An HTTP proxy that opens tunnels (`CONNECT`) to the upstream; TLS, when the
/// upstream speaks it, runs inside the tunnel, end to end.
struct Proxy {
    host: String,
    port: u16,
    /// `Proxy-Authorization` from the URL's user and password.
    authorization: Option<String>,
}

/// The longest answer to a `CONNECT` that is read.
const PROXY_HEAD_MAX: usize = 8 * 1024;

impl Proxy {
    fn parse(url: &str) -> anyhow::Result<Self> {
        let url = url::Url::parse(url).context("parsing llm_proxy_url")?;
        anyhow::ensure!(
            url.scheme() == "http",
            "llm_proxy_url must be an http:// URL"
        );
        let host = url.host_str().context("llm_proxy_url has no host")?;
        let authorization = match (url.username(), url.password()) {
            ("", None) => None,
            (user, password) => {
                use base64::Engine as _;
                let user = percent_decoded(user);
                let password = percent_decoded(password.unwrap_or(""));
                let pair =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                Some(format!("Basic {pair}"))
            }
        };
        Ok(Self {
            host: host.trim_matches(['[', ']']).to_owned(),
            port: url.port_or_known_default().unwrap_or(80),
            authorization,
        })
    }

    /// A TCP connection through the proxy to `host:port`.
    async fn tunnel(&self, host: &str, port: u16) -> Result<TcpStream, Error> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let failed = |error: std::io::Error| Error::Connect(format!("proxy: {error}"));
        let mut tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(failed)?;
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut ask = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(authorization) = &self.authorization {
            ask.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
        }
        ask.push_str("\r\n");
        tcp.write_all(ask.as_bytes()).await.map_err(failed)?;
        // The proxy's answer ends at a blank line; nothing follows it before
        // this side speaks.
        let mut head = Vec::with_capacity(256);
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() >= PROXY_HEAD_MAX {
                return Err(Error::Connect("proxy: its answer is too long".into()));
            }
            let mut byte = [0u8; 1];
            if tcp.read(&mut byte).await.map_err(failed)? == 0 {
                return Err(Error::Connect("proxy: closed the connection".into()));
            }
            head.push(byte[0]);
        }
        let status = String::from_utf8_lossy(&head);
        let status = status.lines().next().unwrap_or_default();
        let accepted = status
            .split_whitespace()
            .nth(1)
            .is_some_and(|code| code.starts_with('2'));
        if accepted {
            Ok(tcp)
        } else {
            Err(Error::Connect(format!(
                "proxy refused the tunnel: {status}"
            )))
        }
    }
}

/// Whether `url` is a proxy the client can use (checked again, with the
/// reason, when the client is built).
pub fn is_proxy_url(url: &str) -> bool {
    Proxy::parse(url).is_ok()
}

fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The system's trusted roots, plus any from a PEM file.
fn roots(extra_pem: Option<&[u8]>) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::warn!(error = %error, "reading a system CA certificate failed");
    }
    roots.add_parsable_certificates(native.certs);
    if let Some(pem) = extra_pem {
        let mut reader = pem;
        let mut added = 0;
        for cert in rustls_pemfile_certs(&mut reader) {
            roots
                .add(cert?)
                .context("llm_ca_file holds a certificate rustls refuses")?;
            added += 1;
        }
        anyhow::ensure!(added > 0, "llm_ca_file holds no PEM certificate");
    }
    Ok(roots)
}

fn rustls_pemfile_certs(
    reader: &mut &[u8],
) -> impl Iterator<Item = anyhow::Result<rustls::pki_types::CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(reader)
        .map(|cert| cert.context("llm_ca_file is not valid PEM"))
}

/// An answer whose headers have arrived; the body is read by polling, which
/// also drives the connection. Dropped before its end, it closes the
/// connection, which is how the upstream learns to stop writing.
pub struct Answer {
    status: StatusCode,
    body: Incoming,
    conn: Option<Conn>,
    ended: bool,
    pool: Weak<Client>,
}

impl Answer {
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// From now on the socket is read only when the answer is polled, and a
    /// poll that finds nothing arranges no wake-up: the caller polls again on
    /// its own. What the upstream writes meanwhile then wakes nothing.
    pub fn read_on_demand(&self) {
        if let Some(conn) = &self.conn {
            conn.watch.read_on_demand();
        }
    }

    /// The next piece of the body, `None` at its end.
    pub fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Error>>> {
        loop {
            // The connection first: it reads the socket into the body.
            if let Some(conn) = &mut self.conn
                && let Poll::Ready(result) = conn.poll_driver(cx)
            {
                self.conn = None;
                if let Err(error) = result {
                    return Poll::Ready(Some(Err(error.into())));
                }
            }
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        return Poll::Ready(Some(Ok(data)));
                    }
                }
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error.into()))),
                Poll::Ready(None) => {
                    self.ended = true;
                    return Poll::Ready(None);
                }
                Poll::Pending if self.conn.is_none() => {
                    return Poll::Ready(Some(Err(Error::Closed)));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The whole body as text, at most `limit` bytes of it (for error answers).
    pub async fn text(mut self, limit: usize) -> String {
        let mut text = BytesMut::new();
        while let Some(Ok(data)) = poll_fn(|cx| self.poll_data(cx)).await {
            let room = limit.saturating_sub(text.len());
            text.extend_from_slice(&data[..data.len().min(room)]);
            if text.len() >= limit {
                break;
            }
        }
        String::from_utf8_lossy(&text).into_owned()
    }
}

impl Stream for Answer {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_data(cx)
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        // A reader usually stops at the answer's last event, with the body's
        // end already read or waiting in the socket: seeing it now keeps the
        // connection. Anything else ends the connection.
        let mut cx = Context::from_waker(Waker::noop());
        if !self.ended && !matches!(self.poll_data(&mut cx), Poll::Ready(None)) {
            return;
        }
        let (Some(mut conn), Some(pool)) = (self.conn.take(), self.pool.upgrade()) else {
            return;
        };
        // The read of the body's end leaves the connection ready for the next
        // request once it has been polled again.
        if conn.is_usable() {
            pool.keep(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::StreamExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio_rustls::TlsAcceptor;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    use super::*;

    const CA: &[u8] = include_bytes!("../../tests/fixtures/tls/ca.pem");
    const CERT: &[u8] = include_bytes!("../../tests/fixtures/tls/server.pem");
    const KEY: &[u8] = include_bytes!("../../tests/fixtures/tls/server.key");

    /// A small HTTP/1.1 upstream on a real socket: every request on a
    /// connection is answered with `events` SSE events in chunked encoding,
    /// `gap` apart; it counts the connections it took and those that ended.
    struct Upstream {
        port: u16,
        accepted: Arc<AtomicUsize>,
        ended: Arc<AtomicUsize>,
    }

    #[derive(Clone, Copy)]
    struct Shape {
        events: usize,
        gap: Duration,
        /// Close the connection after each answer (without saying so).
        close_after_each: bool,
    }

    const QUICK: Shape = Shape {
        events: 3,
        gap: Duration::ZERO,
        close_after_each: false,
    };

    const QUICK_ANSWER: &str = "data: 0\n\ndata: 1\n\ndata: 2\n\n";

    impl Upstream {
        fn plain_client(&self) -> Arc<Client> {
            let url = format!("http://127.0.0.1:{}/v1/chat/completions", self.port);
            client(&url, None)
        }
    }

    async fn upstream(shape: Shape, tls: Option<TlsAcceptor>) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let ended = Arc::new(AtomicUsize::new(0));
        let (a, e) = (accepted.clone(), ended.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                a.fetch_add(1, Ordering::SeqCst);
                let (tls, e) = (tls.clone(), e.clone());
                tokio::spawn(async move {
                    match tls {
                        None => answer(tcp, shape).await,
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(tcp).await {
                                answer(stream, shape).await;
                            }
                        }
                    }
                    e.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        Upstream {
            port,
            accepted,
            ended,
        }
    }

    async fn answer<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, shape: Shape) {
        let mut buf = Vec::new();
        loop {
            // The request: its head, then as many body bytes as it announces.
            let head_end = loop {
                if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break at + 4;
                }
                if !read_more(&mut stream, &mut buf).await {
                    return;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < head_end + length {
                if !read_more(&mut stream, &mut buf).await {
                    return;
                }
            }
            buf.drain(..head_end + length);
            let start = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                         transfer-encoding: chunked\r\n\r\n";
            if stream.write_all(start.as_bytes()).await.is_err() {
                return;
            }
            for i in 0..shape.events {
                let event = format!("data: {i}\n\n");
                let chunk = format!("{:x}\r\n{event}\r\n", event.len());
                if stream.write_all(chunk.as_bytes()).await.is_err()
                    || stream.flush().await.is_err()
                {
                    return;
                }
                tokio::time::sleep(shape.gap).await;
            }
            if stream.write_all(b"0\r\n\r\n").await.is_err() || shape.close_after_each {
                return;
            }
        }
    }

    /// Whether more of the request arrived (false: the connection ended).
    async fn read_more<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> bool {
        let mut more = [0u8; 4096];
        match stream.read(&mut more).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                buf.extend_from_slice(&more[..n]);
                true
            }
        }
    }

    fn post() -> Post<'static> {
        Post {
            bearer: "sk-test",
            accept: "text/event-stream",
            body: Bytes::from_static(b"{\"stream\":true}"),
        }
    }

    async fn read_whole(client: &Client) -> String {
        let answer = client.post(post()).await.expect("answer");
        assert_eq!(answer.status(), StatusCode::OK);
        let pieces: Vec<Bytes> = answer
            .map(|piece| piece.expect("a piece of the body"))
            .collect()
            .await;
        String::from_utf8(pieces.concat()).expect("text")
    }

    fn client(url: &str, roots: Option<&[u8]>) -> Arc<Client> {
        client_via(url, roots, None)
    }

    fn client_via(url: &str, roots: Option<&[u8]>, proxy: Option<&str>) -> Arc<Client> {
        let reach = Reach {
            connect_timeout: Duration::from_secs(2),
            extra_roots_pem: roots,
            proxy,
        };
        Client::new(url, reach).expect("client")
    }

    async fn until(what: &str, done: impl Fn() -> bool) {
        for _ in 0..200 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{what}: not within 2 s");
    }

    #[tokio::test]
    async fn answers_are_read_whole_on_one_kept_connection() {
        let up = upstream(QUICK, None).await;
        let client = up.plain_client();
        for _ in 0..3 {
            assert_eq!(read_whole(&client).await, QUICK_ANSWER);
        }
        assert_eq!(up.accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_answer_read_up_to_its_last_event_keeps_its_connection() {
        let up = upstream(QUICK, None).await;
        let client = up.plain_client();
        let mut answer = client.post(post()).await.expect("answer");
        let mut text = String::new();
        while text != QUICK_ANSWER {
            let piece = poll_fn(|cx| answer.poll_data(cx)).await;
            let piece = piece.expect("a piece").expect("data");
            text.push_str(std::str::from_utf8(&piece).expect("text"));
        }
        // The body's end has come by now, and is not asked for.
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(answer);
        assert_eq!(read_whole(&client).await, QUICK_ANSWER);
        assert_eq!(up.accepted.load(Ordering::SeqCst), 1);
    }

    /// A waker that counts how often it is woken.
    struct Wakes(AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Wakes {
        /// Sleeps, and checks that nothing woke the reader meanwhile (polls
        /// wake their own waker as hyper hands data along; they don't count).
        async fn sleep_unwoken(&self, time: Duration) {
            self.0.store(0, Ordering::SeqCst);
            tokio::time::sleep(time).await;
            let wakes = self.0.load(Ordering::SeqCst);
            assert_eq!(wakes, 0, "a write of the upstream woke the reader");
        }
    }

    /// What a poll finds now, without waiting: the pieces that are there,
    /// and whether the body has ended.
    fn read_what_is_there(answer: &mut Answer, cx: &mut Context<'_>) -> (String, bool) {
        let mut text = String::new();
        loop {
            match answer.poll_data(cx) {
                Poll::Ready(Some(piece)) => {
                    text.push_str(std::str::from_utf8(&piece.expect("a piece")).expect("text"));
                }
                Poll::Ready(None) => return (text, true),
                Poll::Pending => return (text, false),
            }
        }
    }

    #[tokio::test]
    async fn an_answer_read_on_demand_wakes_nothing_and_is_read_when_polled() {
        let shape = Shape {
            events: 6,
            gap: Duration::from_millis(40),
            ..QUICK
        };
        let up = upstream(shape, None).await;
        let client = up.plain_client();
        let mut answer = client.post(post()).await.expect("answer");
        let first = poll_fn(|cx| answer.poll_data(cx)).await;
        let mut text =
            String::from_utf8(first.expect("a piece").expect("data").to_vec()).expect("text");
        answer.read_on_demand();
        let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        text += &read_what_is_there(&mut answer, &mut cx).0;
        // The upstream writes about four events meanwhile.
        wakes.sleep_unwoken(Duration::from_millis(200)).await;
        let (came, _) = read_what_is_there(&mut answer, &mut cx);
        assert!(
            came.matches("data:").count() >= 2,
            "read on demand: {came:?}"
        );
        text += &came;
        let mut ended = false;
        for _ in 0..100 {
            wakes.sleep_unwoken(Duration::from_millis(20)).await;
            let (came, end) = read_what_is_there(&mut answer, &mut cx);
            text += &came;
            if end {
                ended = true;
                break;
            }
        }
        assert!(ended, "the answer did not end: {text:?}");
        assert_eq!(
            text,
            (0..6).map(|i| format!("data: {i}\n\n")).collect::<String>()
        );
        drop(answer);
        // The connection goes back to the pool and waits for answers as usual.
        let again = read_whole(&client).await;
        assert_eq!(
            again,
            (0..6).map(|i| format!("data: {i}\n\n")).collect::<String>()
        );
        assert_eq!(up.accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_kept_connection_the_upstream_has_closed_is_not_used() {
        let shape = Shape {
            close_after_each: true,
            ..QUICK
        };
        let up = upstream(shape, None).await;
        let client = up.plain_client();
        read_whole(&client).await;
        until("the upstream closed", || {
            up.ended.load(Ordering::SeqCst) == 1
        })
        .await;
        assert_eq!(read_whole(&client).await, QUICK_ANSWER);
        assert_eq!(up.accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_answer_dropped_unread_closes_its_connection() {
        let shape = Shape {
            events: 500,
            gap: Duration::from_millis(5),
            close_after_each: false,
        };
        let up = upstream(shape, None).await;
        let client = up.plain_client();
        let mut answer = client.post(post()).await.expect("answer");
        let first = answer.next().await.expect("a piece").expect("data");
        assert!(first.starts_with(b"data: 0"));
        drop(answer);
        // The upstream's next write fails: it stops writing.
        until("the upstream saw the end", || {
            up.ended.load(Ordering::SeqCst) == 1
        })
        .await;
        let mut again = client.post(post()).await.expect("answer");
        again.next().await.expect("a piece").expect("data");
        assert_eq!(up.accepted.load(Ordering::SeqCst), 2, "a new connection");
    }

    fn acceptor() -> TlsAcceptor {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(CERT)
            .collect::<Result<_, _>>()
            .expect("certificate");
        let key = PrivateKeyDer::from_pem_slice(KEY).expect("key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
        TlsAcceptor::from(Arc::new(config))
    }

    #[tokio::test]
    async fn an_https_upstream_is_trusted_through_extra_roots_only() {
        let up = upstream(QUICK, Some(acceptor())).await;
        let url = format!("https://localhost:{}/v1/chat/completions", up.port);
        let trusting = client(&url, Some(CA));
        assert_eq!(read_whole(&trusting).await, QUICK_ANSWER);
        assert_eq!(read_whole(&trusting).await, QUICK_ANSWER);
        assert_eq!(up.accepted.load(Ordering::SeqCst), 1);

        let system_roots_only = client(&url, None);
        let Err(error) = system_roots_only.post(post()).await else {
            panic!("a certificate from an unknown authority was accepted");
        };
        assert!(matches!(error, Error::Connect(_)), "{error}");
    }

    #[test]
    fn extra_roots_must_hold_a_certificate() {
        let url = "https://localhost:1/v1/chat/completions";
        let with = |roots: &'static [u8]| Reach {
            connect_timeout: Duration::from_secs(1),
            extra_roots_pem: Some(roots),
            proxy: None,
        };
        assert!(Client::new(url, with(b"not a certificate")).is_err());
        assert!(Client::new(url, with(CA)).is_ok());
    }

    /// A CONNECT proxy on a real socket: it tunnels to where it is asked
    /// when the request carries `authorization` (if any), else answers 407.
    /// It counts the tunnels it opened.
    async fn proxy(authorization: Option<&'static str>) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let count = tunnels.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let count = count.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    while !head.ends_with(b"\r\n\r\n") {
                        if !read_more(&mut client, &mut head).await {
                            return;
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let target = head
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                    let allowed = authorization.is_none_or(|expected| {
                        head.lines()
                            .any(|line| line == format!("Proxy-Authorization: {expected}"))
                    });
                    if !head.starts_with("CONNECT ") || !allowed {
                        let _ = client
                            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                            .await;
                        return;
                    }
                    let Ok(mut upstream) = TcpStream::connect(target.as_str()).await else {
                        return;
                    };
                    count.fetch_add(1, Ordering::SeqCst);
                    if client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await
                        .is_ok()
                    {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        (port, tunnels)
    }

    #[tokio::test]
    async fn an_upstream_is_reached_through_a_proxy_tunnel() {
        let up = upstream(QUICK, Some(acceptor())).await;
        let url = format!("https://localhost:{}/v1/chat/completions", up.port);
        // user "bench", password "p@ss" (percent-encoded in the URL).
        let (port, tunnels) = proxy(Some("Basic YmVuY2g6cEBzcw==")).await;
        let via = format!("http://bench:p%40ss@127.0.0.1:{port}");
        let client = client_via(&url, Some(CA), Some(&via));
        assert_eq!(read_whole(&client).await, QUICK_ANSWER);
        assert_eq!(read_whole(&client).await, QUICK_ANSWER);
        assert_eq!(tunnels.load(Ordering::SeqCst), 1, "one tunnel, kept");

        let wrong = format!("http://bench:wrong@127.0.0.1:{port}");
        let refused = client_via(&url, Some(CA), Some(&wrong));
        let Err(error) = refused.post(post()).await else {
            panic!("the proxy's refusal was not seen");
        };
        assert!(error.to_string().contains("407"), "{error}");
        assert_eq!(tunnels.load(Ordering::SeqCst), 1);
    }
}
