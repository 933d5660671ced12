//! A raw TCP server on loopback for the faults an HTTP server library will not produce: resets in
//! the middle of headers or body, silence, trickling, lying `Content-Length`, non-HTTP answers,
//! a proxy refusing CONNECT. It counts connections so a test can assert the number of attempts.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// What the server does with a connection once it has read the request head.
#[derive(Clone, Debug)]
pub enum Act {
    /// Close at once, answering nothing.
    Close,
    /// Send these bytes, then reset the connection (RST, not FIN).
    SendThenReset(Vec<u8>),
    /// Send these bytes, then close normally.
    SendThenClose(Vec<u8>),
    /// Send these bytes, then keep the connection open and silent.
    SendThenHang(Vec<u8>),
    /// Send `head` at once, then `body` one byte per `every`.
    Trickle {
        head: Vec<u8>,
        body: Vec<u8>,
        every: Duration,
    },
}

pub struct RawServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl RawServer {
    pub fn start(act: Act) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (Arc::clone(&connections), Arc::clone(&stop));
        thread::spawn(move || {
            while !halt.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        count.fetch_add(1, Ordering::SeqCst);
                        let (act, halt) = (act.clone(), Arc::clone(&halt));
                        thread::spawn(move || serve(stream, &act, &halt));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        RawServer {
            addr,
            connections,
            stop,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(mut stream: TcpStream, act: &Act, stop: &AtomicBool) {
    stream.set_nonblocking(false).unwrap();
    read_head(&mut stream);
    match act {
        Act::Close => {}
        Act::SendThenReset(bytes) => {
            let _ = stream.write_all(bytes);
            let _ = stream.flush();
            thread::sleep(Duration::from_millis(20));
            reset(stream);
        }
        Act::SendThenClose(bytes) => {
            let _ = stream.write_all(bytes);
        }
        Act::SendThenHang(bytes) => {
            let _ = stream.write_all(bytes);
            hang(stop, Duration::from_secs(30));
        }
        Act::Trickle { head, body, every } => {
            let _ = stream.write_all(head);
            for byte in body {
                if stop.load(Ordering::SeqCst) || stream.write_all(&[*byte]).is_err() {
                    return;
                }
                thread::sleep(*every);
            }
        }
    }
}

/// Reads up to the end of the request head (or a short timeout).
fn read_head(stream: &mut TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
}

fn hang(stop: &AtomicBool, limit: Duration) {
    let start = Instant::now();
    while !stop.load(Ordering::SeqCst) && start.elapsed() < limit {
        thread::sleep(Duration::from_millis(20));
    }
}

/// Closes with RST: SO_LINGER on with a zero timeout, then close.
fn reset(stream: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket fd and a correctly sized `linger` struct.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

/// An HTTP/1.1 response head with a JSON content type and `Content-Length: len`.
pub fn head(status: &str, len: usize) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n")
        .into_bytes()
}
