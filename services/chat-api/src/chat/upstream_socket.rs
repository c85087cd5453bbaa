//! The upstream connection's TCP socket, watched by the runtime's reactor or
//! read only when its reader asks.
//!
//! A socket the reactor watches costs a readiness event for every write the
//! model makes, whether or not anyone is waiting to read: on an otherwise idle
//! process each of those events wakes a worker thread for nothing. Once the
//! relay reads an answer on its own schedule (once per flush window), the
//! socket is taken out of the reactor and read with a plain non-blocking read
//! whenever it is polled; it goes back to the reactor when a request needs to
//! wait for it again. Each switch is one `epoll_ctl`, twice per answer, against
//! a wake-up per model write.

use std::io::{self, Read as _, Write as _};
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Switches a [`Socket`] between the two ways of being read; shared by the
/// socket and whoever holds the connection (TLS may sit in between).
#[derive(Clone, Default)]
pub struct Watch(Arc<AtomicBool>);

impl Watch {
    /// From the next poll on, the socket is read only when polled, and a poll
    /// that finds nothing arranges no wake-up: the reader must poll again on
    /// its own.
    pub fn read_on_demand(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// From the next poll on, the reactor wakes the reader when the socket is
    /// ready, as usual.
    pub fn watch(&self) {
        self.0.store(false, Ordering::Relaxed);
    }

    fn on_demand(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

enum State {
    Watched(TcpStream),
    OnDemand(std::net::TcpStream),
    /// A switch failed; the connection is unusable.
    Lost,
}

pub struct Socket {
    state: State,
    watch: Watch,
}

impl Socket {
    pub fn new(tcp: TcpStream, watch: Watch) -> Self {
        Self {
            state: State::Watched(tcp),
            watch,
        }
    }

    /// Takes the socket into or out of the reactor as the watch says.
    fn settled(&mut self) -> io::Result<Side<'_>> {
        let on_demand = self.watch.on_demand();
        let switch = matches!(
            (&self.state, on_demand),
            (State::Watched(_), true) | (State::OnDemand(_), false)
        );
        if switch {
            self.state = match std::mem::replace(&mut self.state, State::Lost) {
                State::Watched(tcp) => State::OnDemand(tcp.into_std()?),
                State::OnDemand(tcp) => State::Watched(TcpStream::from_std(tcp)?),
                State::Lost => State::Lost,
            };
        }
        match &mut self.state {
            State::Watched(tcp) => Ok(Side::Watched(tcp)),
            State::OnDemand(tcp) => Ok(Side::OnDemand(tcp)),
            State::Lost => Err(io::Error::other("the upstream socket was lost")),
        }
    }
}

/// The socket as it is to be used now.
enum Side<'a> {
    Watched(&'a mut TcpStream),
    OnDemand(&'a mut std::net::TcpStream),
}

/// A non-blocking call on a socket out of the reactor: done, or pending with
/// no wake-up arranged (the reader polls again on its own).
fn on_demand<T>(mut call: impl FnMut() -> io::Result<T>) -> Poll<io::Result<T>> {
    loop {
        match call() {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            done => return Poll::Ready(done),
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut().settled() {
            Err(error) => Poll::Ready(Err(error)),
            Ok(Side::Watched(tcp)) => Pin::new(tcp).poll_read(cx, buf),
            Ok(Side::OnDemand(tcp)) => {
                let read = std::task::ready!(on_demand(|| tcp.read(buf.initialize_unfilled())));
                Poll::Ready(read.map(|n| buf.advance(n)))
            }
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().settled() {
            Err(error) => Poll::Ready(Err(error)),
            Ok(Side::Watched(tcp)) => Pin::new(tcp).poll_write(cx, buf),
            Ok(Side::OnDemand(tcp)) => on_demand(|| tcp.write(buf)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().settled() {
            Err(error) => Poll::Ready(Err(error)),
            Ok(Side::Watched(tcp)) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            Ok(Side::OnDemand(tcp)) => on_demand(|| tcp.write_vectored(bufs)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // TCP sockets have no buffer of their own to flush.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().settled() {
            Err(error) => Poll::Ready(Err(error)),
            Ok(Side::Watched(tcp)) => Pin::new(tcp).poll_shutdown(cx),
            Ok(Side::OnDemand(tcp)) => Poll::Ready(tcp.shutdown(Shutdown::Write)),
        }
    }
}
