//! `ky-sandbox`: a loopback emulator of the Tianmu access-token endpoint
//! (`GET …/api/config/v1/programs/{id}/accesstoken`) for tests and offline development.
//!
//! Fault modes are selected by program id (so an out-of-process test needs no control channel);
//! see README.md. The server binds loopback addresses only and never connects anywhere.

mod body;
mod faults;
mod tls;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

pub use tls::{Leaf, generate_ca_and_leaf};

/// The program id used in the API documentation.
pub const SAMPLE_PROGRAM_ID: &str = "223fc70098ad11e9a5898928ba7882e6";
/// The token the API documentation shows for [`SAMPLE_PROGRAM_ID`].
pub const SAMPLE_TOKEN: &str = "27_t3e8Pqc7RzC1V8UB3r-SC9GdryVrB0LcOxi3D4e614Rg5d_3sUkLbHZX8sk-LCecrIpjOfQ4YY_AUHn6XogMHFd1Lt4W85aSrfIOcr3bpZvKP798hLHuJd7NNt5i96m9526EZk8SafcTKoKIJUaAGASTE";

/// How to start a sandbox.
#[derive(Clone, Debug, Default)]
pub struct SandboxOptions {
    /// Loopback address to bind; default `127.0.0.1:0` (any free port).
    pub addr: Option<SocketAddr>,
    /// Serve HTTPS with a throwaway CA + leaf written into this directory (`ca.pem`, …).
    pub tls_dir: Option<PathBuf>,
    /// Log one line per request to stderr.
    pub log_requests: bool,
    /// The certificate HTTPS mode presents (valid by default).
    pub tls_leaf: Leaf,
}

/// Shared, mutable state of a running sandbox.
#[derive(Default)]
pub(crate) struct State {
    pub requests: HashMap<String, u64>,
    pub total: u64,
    pub overrides: HashMap<String, String>,
    pub versions: HashMap<String, u64>,
    pub delay: Duration,
    /// While set, every access-token request answers this HTTP status (an upstream outage).
    pub outage: Option<u16>,
    pub last_path: Option<String>,
    pub last_user_agent: Option<String>,
}

impl State {
    pub(crate) fn token(&self, id: &str) -> String {
        if let Some(token) = self.overrides.get(id) {
            return token.clone();
        }
        let version = self.versions.get(id).copied().unwrap_or(0);
        faults::default_token(id, version)
    }
}

pub(crate) type Shared = Arc<Mutex<State>>;

pub(crate) fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running sandbox; stops (and releases its port) when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    base_url: String,
    ca_pem: Option<PathBuf>,
    state: Shared,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts serving; returns once the socket is listening.
    pub fn start(opts: SandboxOptions) -> io::Result<Sandbox> {
        let addr = opts
            .addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        if !addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "ky-sandbox binds loopback addresses only, not {}",
                    addr.ip()
                ),
            ));
        }
        let (acceptor, ca_pem) = match &opts.tls_dir {
            Some(dir) => {
                let (acceptor, ca) = tls::acceptor(dir, opts.tls_leaf)?;
                (Some(acceptor), Some(ca))
            }
            None => (None, None),
        };
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let base_url = match (&acceptor, addr.ip()) {
            (Some(_), _) => format!("https://localhost:{}", addr.port()),
            (None, IpAddr::V6(ip)) => format!("http://[{ip}]:{}", addr.port()),
            (None, IpAddr::V4(ip)) => format!("http://{ip}:{}", addr.port()),
        };
        let state: Shared = Arc::default();
        let (stop, stopped) = oneshot::channel();
        let server = Server {
            state: Arc::clone(&state),
            base_url: base_url.clone(),
            log: opts.log_requests,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("ky-sandbox".into())
            .spawn(move || runtime.block_on(server.run(listener, acceptor, stopped)))?;
        Ok(Sandbox {
            addr,
            base_url,
            ca_pem,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Plain HTTP on `127.0.0.1`, any free port.
    pub fn start_default() -> io::Result<Sandbox> {
        Sandbox::start(SandboxOptions::default())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` in TLS mode.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// TLS mode: the throwaway CA certificate (PEM) that signed the server's certificate.
    pub fn ca_pem_path(&self) -> Option<PathBuf> {
        self.ca_pem.clone()
    }

    /// Access-token requests seen for `program_id` (every outcome, faults included).
    pub fn requests(&self, program_id: &str) -> u64 {
        lock(&self.state)
            .requests
            .get(program_id)
            .copied()
            .unwrap_or(0)
    }

    pub fn total_requests(&self) -> u64 {
        lock(&self.state).total
    }

    /// Path (with any prefix) of the last access-token request.
    pub fn last_path(&self) -> Option<String> {
        lock(&self.state).last_path.clone()
    }

    pub fn last_user_agent(&self) -> Option<String> {
        lock(&self.state).last_user_agent.clone()
    }

    pub fn set_token(&self, program_id: &str, token: &str) {
        lock(&self.state)
            .overrides
            .insert(program_id.to_owned(), token.to_owned());
    }

    /// Issues a new token for `program_id` and returns it.
    pub fn rotate(&self, program_id: &str) -> String {
        rotate(&self.state, program_id)
    }

    /// The token a request for `program_id` would get now.
    pub fn token(&self, program_id: &str) -> String {
        lock(&self.state).token(program_id)
    }

    /// Extra latency before every access-token response.
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.state).delay = delay;
    }

    /// Simulates an outage: while `Some(code)`, every access-token request (still counted) answers
    /// that HTTP status with a JSON error body; `None` ends it.
    pub fn set_outage(&self, status: Option<u16>) {
        lock(&self.state).outage = status;
    }

    /// Counters to zero, tokens and delay back to their defaults.
    pub fn reset(&self) {
        *lock(&self.state) = State::default();
    }

    /// Stops serving and releases the port (also done on drop).
    pub fn shutdown(self) {}
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub(crate) fn rotate(state: &Shared, program_id: &str) -> String {
    let mut state = lock(state);
    state.overrides.remove(program_id);
    *state.versions.entry(program_id.to_owned()).or_insert(0) += 1;
    state.token(program_id)
}

#[derive(Clone)]
struct Server {
    state: Shared,
    base_url: String,
    log: bool,
}

impl Server {
    async fn run(
        self,
        listener: std::net::TcpListener,
        acceptor: Option<tokio_rustls::TlsAcceptor>,
        mut stopped: oneshot::Receiver<()>,
    ) {
        let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
            return;
        };
        loop {
            let stream = tokio::select! {
                _ = &mut stopped => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        // Without it, Nagle + delayed ACK stall about one fetch in ten by 40 ms.
                        let _ = stream.set_nodelay(true);
                        stream
                    }
                    Err(_) => continue,
                },
            };
            let server = self.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match acceptor {
                    Some(acceptor) => {
                        // A failed handshake (e.g. an untrusting client) just ends the connection.
                        if let Ok(tls) = acceptor.accept(stream).await {
                            server.serve(tls).await;
                        }
                    }
                    None => server.serve(stream).await,
                }
            });
        }
    }

    async fn serve<S>(self, stream: S)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let service = service_fn(move |request| {
            let server = self.clone();
            async move {
                Ok::<_, std::convert::Infallible>(
                    faults::respond(&server.state, &server.base_url, server.log, request).await,
                )
            }
        });
        let _ = http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await;
    }
}
