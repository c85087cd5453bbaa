//! The one socket option that the standard library, tokio and socket2 do not
//! set: the receive low-water mark (`SO_RCVLOWAT`). This crate holds the
//! workspace's only unsafe code, one `setsockopt` call on a borrowed
//! descriptor.

use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// Sets the receive low-water mark of a TCP socket: it then signals that it
/// is readable only once `bytes` are queued (or the peer has closed, or an
/// error is pending), so a process that does not want the data yet is not
/// woken for every segment. A read still returns whatever is queued. Linux
/// caps the mark at half the receive buffer's limit.
pub fn set_recv_low_water(socket: &impl AsFd, bytes: u32) -> io::Result<()> {
    let fd = socket.as_fd();
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    let size = libc::socklen_t::try_from(size_of::<libc::c_int>()).unwrap_or(4);
    #[allow(unsafe_code)]
    // SAFETY: `fd` is borrowed, so it stays open for the call; the option
    // value points at a live `c_int` and `size` is its size.
    let done = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVLOWAT,
            (&raw const value).cast(),
            size,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    #[tokio::test]
    async fn a_held_socket_signals_only_once_enough_is_queued() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let mut writer = TcpStream::connect(address).await.expect("connect");
        let (reader, _) = listener.accept().await.expect("accept");
        set_recv_low_water(&reader, 8).expect("set");
        // The runtime may call a new socket readable; a read that finds
        // nothing resets that.
        let mut buf = [0u8; 16];
        assert!(reader.try_read(&mut buf).is_err());
        let wait = Duration::from_millis(200);

        writer.write_all(b"1234").await.expect("write");
        let early = tokio::time::timeout(wait, reader.readable()).await;
        assert!(early.is_err(), "readable with 4 of 8 bytes queued");
        // A read straight from the socket still takes what is there.
        assert_eq!(socket_read(&reader, &mut buf), 4);

        writer.write_all(b"5678").await.expect("write");
        assert!(tokio::time::timeout(wait, reader.readable()).await.is_err());
        writer.write_all(b"9abc").await.expect("write");
        tokio::time::timeout(Duration::from_secs(2), reader.readable())
            .await
            .expect("readable with 8 bytes queued")
            .expect("readiness");
        assert_eq!(reader.try_read(&mut buf).expect("read"), 8);
        assert!(reader.try_read(&mut buf).is_err());

        // Back at 1, a single byte is enough.
        set_recv_low_water(&reader, 1).expect("set back");
        writer.write_all(b"d").await.expect("write");
        tokio::time::timeout(Duration::from_secs(2), reader.readable())
            .await
            .expect("readable with the mark back at 1")
            .expect("readiness");
    }

    /// A read straight from the socket, whatever the runtime believes.
    fn socket_read(socket: &TcpStream, buf: &mut [u8]) -> usize {
        use std::io::Read as _;
        let fd = socket.as_fd().try_clone_to_owned().expect("dup");
        let mut std_socket = std::net::TcpStream::from(fd);
        std_socket.read(buf).expect("read")
    }

    #[test]
    fn a_closed_or_wrong_descriptor_is_an_error() {
        let file = std::fs::File::open("/dev/null").expect("open");
        assert!(set_recv_low_water(&file, 8).is_err());
    }
}
