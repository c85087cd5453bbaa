//! HTTP/1.1 connections to the upstream, each driven by the stream it
//! carries.
//!
//! A pooled client (reqwest's, hyper's) runs every connection in a task of its
//! own and hands each body chunk to the reader through a channel: two task
//! wake-ups and a socket read for every event the model writes. Here the
//! relay's own task polls the connection whenever it reads the answer, so
//! nothing runs for an answer while the relay is not reading it, and what the
//! model wrote meanwhile is read from the socket in one go.
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

/// How long a connection may wait in the pool: well under the idle timeouts
/// of common servers (nginx 75 s, most load balancers 60 s).
const KEEP_IDLE: Duration = Duration::from_secs(30);
/// Connections kept at most; one per stream open at the busiest moment is
/// the useful number.
const MAX_IDLE: usize = 1024;

/// How much a held socket lets pile up before it wakes the process anyway.
const HELD_BYTES: u32 = 16 * 1024;

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
    tcp: Arc<TcpStream>,
}

/// The TCP socket under a connection. A read looks at the socket itself when
/// the runtime has not been told it is readable, since a held socket (see
/// [`Answer::hold_reads`]) does not say so for a little data.
struct Tcp(Arc<TcpStream>);

impl AsyncRead for Tcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        use std::io::Read as _;
        let tcp = &self.0;
        loop {
            let into = buf.initialize_unfilled();
            match tcp.try_read(into) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            let into = buf.initialize_unfilled();
            match (&*socket2::SockRef::from(&**tcp)).read(into) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            match tcp.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl AsyncWrite for Tcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        loop {
            match self.0.try_write(data) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if let Err(e) = futures::ready!(self.0.poll_write_ready(cx)) {
                        return Poll::Ready(Err(e));
                    }
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(socket2::SockRef::from(&*self.0).shutdown(std::net::Shutdown::Write))
    }
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
    /// roots are trusted, plus those in `extra_roots_pem`.
    pub fn new(
        url: &str,
        connect_timeout: Duration,
        extra_roots_pem: Option<&[u8]>,
    ) -> anyhow::Result<Arc<Self>> {
        let url = url::Url::parse(url).context("parsing llm_base_url")?;
        let host = url
            .host_str()
            .context("llm_base_url has no host")?
            .to_owned();
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
                let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                    .context("llm_base_url's host is not a valid TLS server name")?;
                Some((TlsConnector::from(Arc::new(config)), name))
            }
            "http" => None,
            other => anyhow::bail!("llm_base_url: unsupported scheme {other}"),
        };
        let target = Target {
            host: host.trim_matches(['[', ']']).to_owned(),
            port,
            authority: HeaderValue::from_str(&authority).context("llm_base_url's host")?,
            path: url[url::Position::BeforePath..]
                .parse()
                .context("llm_base_url's path")?,
            tls,
        };
        Ok(Arc::new_cyclic(|this| Self {
            target,
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
                        held: false,
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
        let connecting = async {
            let tcp = TcpStream::connect((target.host.as_str(), target.port))
                .await
                .map_err(|error| Error::Connect(error.to_string()))?;
            tcp.set_nodelay(true)
                .map_err(|error| Error::Connect(error.to_string()))?;
            let tcp = Arc::new(tcp);
            let io: Box<dyn Io> = match &target.tls {
                None => Box::new(Tcp(tcp.clone())),
                Some((tls, name)) => Box::new(
                    tls.connect(name.clone(), Tcp(tcp.clone()))
                        .await
                        .map_err(|error| Error::Connect(error.to_string()))?,
                ),
            };
            Ok::<_, Error>((io, tcp))
        };
        let (io, tcp) = tokio::time::timeout(self.connect_timeout, connecting)
            .await
            .map_err(|_| Error::ConnectTimeout(self.connect_timeout))??;
        let (send, driver) = http1::handshake(TokioIo::new(io)).await?;
        Ok(Conn { send, driver, tcp })
    }
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
    held: bool,
    pool: Weak<Client>,
}

impl Answer {
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// While held, the socket does not signal that the upstream wrote
    /// something until [`HELD_BYTES`] have piled up, so the process is not
    /// woken for what it reads later anyway; a read still takes whatever is
    /// there. Held between flush windows; let go to wait for the next event.
    pub fn hold_reads(&mut self, hold: bool) {
        if self.held == hold {
            return;
        }
        self.held = hold;
        let Some(conn) = &self.conn else {
            return;
        };
        let mark = if hold { HELD_BYTES } else { 1 };
        if let Err(error) = paychat_sockopt::set_recv_low_water(&*conn.tcp, mark) {
            // Only a saving is lost: the socket signals every event as before.
            tracing::debug!(error = %error, "setting the upstream socket's low-water mark failed");
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
        if !self.ended {
            return;
        }
        self.hold_reads(false);
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
        Client::new(url, Duration::from_secs(2), roots).expect("client")
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
        assert!(Client::new(url, Duration::from_secs(1), Some(b"not a certificate")).is_err());
        assert!(Client::new(url, Duration::from_secs(1), Some(CA)).is_ok());
    }
}
