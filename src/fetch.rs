//! One token fetch over HTTP: request, retries inside the deadline, status and body checks, and
//! the mapping of transport failures to [`Status`]. Knows HTTP and JSON, nothing of caching or C.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::Agent;
use ureq::config::Config as AgentConfig;
use ureq::http::Uri;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::config::{BaseUrl, Config, MAX_CA_FILE_BYTES, check_proxy_url};
use crate::error::{Error, Status, sanitize};
use crate::fork::ForkLocal;
use crate::response::{error_body_msg, parse_token_response};
use crate::token::{AccessToken, zero};

/// Bodies larger than this are refused without being read whole (a token is a few hundred bytes).
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;
/// How much of a non-2xx body is read to quote its `msg`.
const MAX_ERROR_BODY_BYTES: u64 = 4096;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
const USER_AGENT: &str = concat!("ky-access-token/", env!("CARGO_PKG_VERSION"));

/// What one upstream attempt did, for the client's counters and log (never the token).
pub(crate) struct Attempt<'a> {
    /// 1 for the first request, 2 for the first retry…
    pub number: u32,
    pub elapsed: Duration,
    pub outcome: Result<(), &'a Error>,
    /// The pause before the next attempt, if there will be one.
    pub retry_in: Option<Duration>,
}

/// Fetches tokens from one configured API endpoint. Shareable across threads.
pub(crate) struct Fetcher {
    /// The HTTP agent and its pool of kept-alive connections, per process: a forked child must
    /// never use a connection it shares with its parent (see `fork`), so it builds its own.
    agent: ForkLocal<Agent>,
    /// What the agent is built from, again in a forked child.
    agent_config: AgentConfig,
    static_hosts: Option<Vec<(String, IpAddr)>>,
    base: BaseUrl,
    timeout: Duration,
    connect_timeout: Option<Duration>,
    max_retries: u32,
    /// " via the proxy from HTTPS_PROXY", for messages (never the proxy URL: it may hold a password).
    via: String,
}

impl Fetcher {
    pub(crate) fn new(config: &Config) -> Result<Fetcher, Error> {
        let base = config.validate()?;
        let (proxy, via) = match config.effective_proxy(&base) {
            None => (None, String::new()),
            Some((source, url)) => {
                // Named as the user set it: a variable, or the setter.
                let setting = if source.ends_with("PROXY") || source.ends_with("proxy") {
                    source
                } else {
                    "the proxy setting"
                };
                let proxy = check_proxy_url(url, setting)?;
                (Some(proxy), format!(" via the proxy from {source}"))
            }
        };
        let user_agent = match &config.user_agent_suffix {
            Some(suffix) if !suffix.is_empty() => format!("{USER_AGENT} {suffix}"),
            _ => USER_AGENT.to_owned(),
        };
        let agent_config = AgentConfig::builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .https_only(base.https)
            .user_agent(user_agent)
            .timeout_connect(config.connect_timeout)
            .accept("application/json")
            .proxy(proxy)
            .tls_config(tls_config(config)?)
            .timeout_global(Some(config.timeout))
            .build();
        let static_hosts = config.static_hosts.clone();
        let agent = ForkLocal::new(build_agent(&agent_config, &static_hosts));
        Ok(Fetcher {
            agent,
            agent_config,
            static_hosts,
            base,
            timeout: config.timeout,
            connect_timeout: config.connect_timeout,
            max_retries: config.max_retries,
            via,
        })
    }

    /// This process's agent (a fresh one, with no connections, in a forked child).
    fn agent(&self) -> &Agent {
        self.agent
            .get(|_| build_agent(&self.agent_config, &self.static_hosts))
    }

    /// Fetches the token for a validated program id: up to `1 + max_retries` attempts for
    /// network errors and 5xx, exponential backoff with jitter, all inside one deadline.
    /// `observe` hears about every request actually sent.
    pub(crate) fn fetch(
        &self,
        program_id: &str,
        mut observe: impl FnMut(Attempt<'_>),
    ) -> Result<AccessToken, Error> {
        let url = format!(
            "{}/api/config/v1/programs/{program_id}/accesstoken",
            self.base.url
        );
        let deadline = Instant::now() + self.timeout;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let started = Instant::now();
            let remaining = deadline.saturating_duration_since(started);
            if remaining.is_zero() {
                return Err(self.timeout_error());
            }
            let err = match self.attempt(&url, remaining) {
                Ok(token) => {
                    observe(Attempt {
                        number: attempts,
                        elapsed: started.elapsed(),
                        outcome: Ok(()),
                        retry_in: None,
                    });
                    return Ok(token);
                }
                Err(err) => err,
            };
            let pause = backoff(attempts - 1);
            let retry = err.is_retryable()
                && attempts <= self.max_retries
                && Instant::now() + pause < deadline;
            observe(Attempt {
                number: attempts,
                elapsed: started.elapsed(),
                outcome: Err(&err),
                retry_in: retry.then_some(pause),
            });
            if !retry {
                let suffix = if attempts > 1 {
                    format!(" (after {attempts} attempts)")
                } else {
                    String::new()
                };
                let no_time = if err.is_retryable() && attempts <= self.max_retries {
                    " (no time left to retry)"
                } else {
                    ""
                };
                return Err(err.with_suffix(&suffix).with_suffix(no_time));
            }
            std::thread::sleep(pause);
        }
    }

    fn attempt(&self, url: &str, remaining: Duration) -> Result<AccessToken, Error> {
        let mut response = self
            .agent()
            .get(url)
            .config()
            .timeout_global(Some(remaining))
            .build()
            .call()
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if !status.is_success() {
            // Best effort: quote the upstream `msg` of a small JSON error body.
            let msg = response
                .body_mut()
                .with_config()
                .limit(MAX_ERROR_BODY_BYTES)
                .read_to_vec()
                .ok()
                .and_then(|body| error_body_msg(&body))
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            let hint = if status.is_redirection() {
                " (redirects are not followed; check KY_BASE_URL)"
            } else {
                ""
            };
            let err = Error::new(
                Status::HttpStatus,
                format!(
                    "HTTP {} {} from {}{}{msg}{hint}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or(""),
                    self.base.authority,
                    self.via
                ),
            );
            return Err(if status.is_server_error() {
                err.retryable()
            } else {
                err
            });
        }
        let declared = response
            .headers()
            .get(ureq::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if let Some(len) = declared.filter(|&len| len > MAX_BODY_BYTES) {
            return Err(Error::bad_response(format!(
                "response body of {len} bytes exceeds the {MAX_BODY_BYTES}-byte limit"
            )));
        }
        let mut body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => Error::bad_response(format!(
                    "response body exceeds the {MAX_BODY_BYTES}-byte limit"
                )),
                other => self.transport_error(other),
            })?;
        let token = parse_token_response(&body);
        // The body holds the token in clear: no copy outlives the parsed one.
        zero(&mut body);
        token
    }

    fn timeout_error(&self) -> Error {
        Error::new(
            Status::Timeout,
            format!(
                "no complete answer from {}{} within {} ms (the timeout setting or KY_TIMEOUT_MS)",
                self.base.authority,
                self.via,
                self.timeout.as_millis()
            ),
        )
    }

    /// Maps a transport failure to a status and a message that says where it happened.
    fn transport_error(&self, e: ureq::Error) -> Error {
        let at = format!("{}{}", self.base.authority, self.via);
        let network = |what: String| Error::new(Status::Network, what).retryable();
        let tls = |detail: String| {
            let hint = untrusted_ca_hint(&detail);
            Error::new(Status::Tls, format!("TLS with {at} failed: {detail}{hint}"))
        };
        match e {
            ureq::Error::Timeout(ureq::Timeout::Connect) => match self.connect_timeout {
                Some(limit) => Error::new(
                    Status::Timeout,
                    format!(
                        "could not connect to {at} within {} ms (the connect-timeout setting or KY_CONNECT_TIMEOUT_MS)",
                        limit.as_millis()
                    ),
                )
                .retryable(),
                None => self.timeout_error(),
            },
            ureq::Error::Timeout(_) => self.timeout_error(),
            ureq::Error::HostNotFound => network(format!(
                "could not resolve host {}{}",
                self.base.host, self.via
            )),
            ureq::Error::ConnectionFailed => network(format!("could not connect to {at}")),
            ureq::Error::Io(io) => {
                if let Some(rustls_error) = io
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                {
                    return tls(rustls_error.to_string());
                }
                match io.kind() {
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => self.timeout_error(),
                    io::ErrorKind::ConnectionRefused => {
                        network(format!("connection to {at} refused"))
                    }
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                        network(format!("connection to {at} was reset"))
                    }
                    io::ErrorKind::UnexpectedEof => network(format!(
                        "{at} closed the connection before a complete answer"
                    )),
                    io::ErrorKind::InvalidData => {
                        tls(format!("unexpected data during the handshake ({io})"))
                    }
                    _ => network(format!("I/O error talking to {at}: {io}")),
                }
            }
            ureq::Error::Rustls(r) => tls(r.to_string()),
            ureq::Error::Tls(what) => tls(what.to_owned()),
            ureq::Error::Pem(p) => tls(format!("bad PEM: {p}")),
            // Not retried: a proxy that refuses the tunnel is configured to, not overloaded.
            ureq::Error::ConnectProxyFailed(why) => Error::new(
                Status::Network,
                format!(
                    "the proxy{} refused to connect to {}: {}",
                    self.via.trim_start_matches(" via the proxy"),
                    self.base.authority,
                    sanitize(&why, 100)
                ),
            ),
            ureq::Error::InvalidProxyUrl => Error::invalid("the proxy URL is not valid"),
            ureq::Error::Protocol(p) => {
                Error::bad_response(format!("{at} did not answer valid HTTP/1.1: {p}"))
            }
            ureq::Error::LargeResponseHeader(..) => {
                Error::bad_response(format!("{at} sent response headers that are too large"))
            }
            ureq::Error::BodyExceedsLimit(_) => {
                Error::bad_response("response body exceeds the size limit")
            }
            ureq::Error::BodyStalled => network(format!("{at} stopped sending the body")),
            ureq::Error::RequireHttpsOnly(_) | ureq::Error::TlsRequired => {
                Error::invalid(format!("refusing to talk plain HTTP to {at}"))
            }
            other => network(format!("request to {at} failed: {other}")),
        }
    }
}

fn build_agent(config: &AgentConfig, static_hosts: &Option<Vec<(String, IpAddr)>>) -> Agent {
    match static_hosts {
        Some(table) => Agent::with_parts(
            config.clone(),
            DefaultConnector::new(),
            StaticResolver(table.clone()),
        ),
        None => Agent::with_parts(
            config.clone(),
            DefaultConnector::new(),
            CachingResolver::new(DefaultResolver::default()),
        ),
    }
}

/// Exponential backoff, 100 ms doubling to at most 2 s, with "equal jitter" (50–100 %) so many
/// game servers restarted together do not retry in lockstep.
fn backoff(retry: u32) -> Duration {
    let full = FIRST_BACKOFF
        .saturating_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
        .min(MAX_BACKOFF);
    full / 2 + full.mul_f64(jitter() / 2.0)
}

/// A number in [0, 1) that differs per call; the std hasher's random keys are the entropy.
fn jitter() -> f64 {
    use std::hash::BuildHasher;
    let bits = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// The certificates in `pem`; `what` names the source in messages.
fn pem_certificates(pem: &[u8], what: &str) -> Result<Vec<Certificate<'static>>, Error> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(e) => return Err(Error::invalid(format!("{what} is not valid PEM: {e}"))),
        }
    }
    if certs.is_empty() {
        return Err(Error::invalid(format!(
            "{what} contains no PEM certificates"
        )));
    }
    Ok(certs)
}

/// The hint added to a TLS failure. Only an unknown issuer is a trust-store problem (an expired
/// certificate or a wrong name is the server's, and the hint would send the reader the wrong
/// way); it names the store this platform's verifier consults.
fn untrusted_ca_hint(detail: &str) -> &'static str {
    if !(detail.contains("UnknownIssuer") || detail.contains("unknown issuer")) {
        ""
    } else if cfg!(windows) {
        " (is the server's CA in the Windows certificate store? add it there, or name its PEM file in KY_CA_FILE)"
    } else if cfg!(target_os = "macos") {
        " (is the server's CA trusted in the macOS keychain? add it there, or name its PEM file in KY_CA_FILE)"
    } else {
        " (is the server's CA trusted? see KY_CA_FILE / SSL_CERT_FILE)"
    }
}

/// System roots (platform verifier) by default; with `ca_file` and/or `ca_pem`, the system store
/// plus those certificates.
fn tls_config(config: &Config) -> Result<TlsConfig, Error> {
    let mut extra = Vec::new();
    if let Some(path) = &config.ca_file {
        let shown = path.display();
        let pem = read_ca_file(path).map_err(|e| {
            Error::invalid(format!(
                "cannot read CA file {shown} (the CA-file setting or KY_CA_FILE): {e}"
            ))
        })?;
        extra.extend(pem_certificates(
            &pem,
            &format!("CA file {shown} (the CA-file setting or KY_CA_FILE)"),
        )?);
    }
    if let Some(pem) = &config.ca_pem {
        extra.extend(pem_certificates(pem, "the in-memory CA PEM")?);
    }
    let roots = if extra.is_empty() {
        RootCerts::PlatformVerifier
    } else {
        // The platform verifier cannot take extra roots through ureq, so load the system
        // store ourselves (honours SSL_CERT_FILE / SSL_CERT_DIR) and trust both.
        extra.extend(system_roots().iter().cloned());
        RootCerts::Specific(Arc::new(extra))
    };
    Ok(TlsConfig::builder()
        .root_certs(roots)
        .unversioned_rustls_crypto_provider(crypto_provider())
        .build())
}

/// Reads a CA file: a regular file of at most `MAX_CA_FILE_BYTES`, checked on the opened file
/// (opened non-blocking, so a FIFO swapped in after the setter's check cannot hang us) and
/// enforced while reading (a file that grows meanwhile is cut off, then refused).
fn read_ca_file(path: &std::path::Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let mut pem = Vec::new();
    file.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut pem)?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(io::Error::other(format!(
            "larger than {MAX_CA_FILE_BYTES} bytes"
        )));
    }
    Ok(pem)
}

/// rustls with the *ring* provider (no cmake or C toolchain beyond cc), made once.
fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: std::sync::OnceLock<Arc<rustls::crypto::CryptoProvider>> =
        std::sync::OnceLock::new();
    Arc::clone(PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())))
}

/// The system trust store, read once per process: reading it opens ~150 files and takes ~2 ms,
/// which every `Client::new` with extra roots would otherwise pay again.
fn system_roots() -> &'static [Certificate<'static>] {
    static ROOTS: std::sync::OnceLock<Vec<Certificate<'static>>> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| {
        rustls_native_certs::load_native_certs()
            .certs
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()).to_owned())
            .collect()
    })
}

/// How long a resolved address is reused. ureq resolves before it looks for a pooled
/// connection, and with a timeout it resolves on a new thread: without this, every fetch on a
/// kept-alive connection would start a thread and read /etc/hosts. Short, so a DNS change
/// (fail-over) is seen within seconds.
const RESOLVE_CACHE_TTL: Duration = Duration::from_secs(10);

/// Remembers the last successful resolution of each (scheme, host, port) for
/// [`RESOLVE_CACHE_TTL`]. Failures are not remembered.
#[derive(Debug)]
struct CachingResolver<R> {
    inner: R,
    cache: std::sync::Mutex<Vec<(String, Vec<SocketAddr>, Instant)>>,
}

impl<R> CachingResolver<R> {
    fn new(inner: R) -> Self {
        CachingResolver {
            inner,
            cache: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl<R: Resolver> Resolver for CachingResolver<R> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &AgentConfig,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map_or("", |a| a.as_str())
        );
        {
            let cache = self
                .cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((_, addrs, at)) = cache.iter().find(|(k, _, _)| *k == key) {
                if at.elapsed() < RESOLVE_CACHE_TTL {
                    let mut out = self.empty();
                    out.truncate(0);
                    for addr in addrs {
                        let _ = out.try_push(*addr);
                    }
                    return Ok(out);
                }
            }
        }
        let resolved = self.inner.resolve(uri, config, timeout)?;
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.retain(|(k, _, at)| *k != key && at.elapsed() < RESOLVE_CACHE_TTL);
        cache.push((key, resolved.iter().copied().collect(), Instant::now()));
        Ok(resolved)
    }
}

/// Resolves names only from a fixed table, never through DNS (see `Config::static_hosts`).
#[derive(Debug)]
struct StaticResolver(Vec<(String, IpAddr)>);

impl Resolver for StaticResolver {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &AgentConfig,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let mut out = self.empty();
        out.truncate(0);
        if let Ok(ip) = host.parse::<IpAddr>() {
            out.push(SocketAddr::new(ip, port));
        }
        for (name, ip) in &self.0 {
            if name.eq_ignore_ascii_case(host) {
                // Extra entries beyond the array's capacity are dropped, not an error.
                let _ = out.try_push(SocketAddr::new(*ip, port));
            }
        }
        #[allow(clippy::len_zero, reason = "ureq's ArrayVec has no is_empty")]
        if out.len() == 0 {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_ca_hint_names_this_platforms_store() {
        let hint = untrusted_ca_hint("invalid peer certificate: UnknownIssuer");
        assert!(hint.contains("KY_CA_FILE"), "{hint}");
        #[cfg(windows)]
        assert!(hint.contains("Windows certificate store") && !hint.contains("SSL_CERT_FILE"));
        #[cfg(target_os = "linux")]
        assert!(hint.contains("SSL_CERT_FILE"));
        assert_eq!(untrusted_ca_hint("invalid peer certificate: Expired"), "");
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        for retry in 0..20 {
            let full = (FIRST_BACKOFF * 2u32.pow(retry.min(10))).min(MAX_BACKOFF);
            let b = backoff(retry);
            assert!(b >= full / 2 && b <= full, "retry {retry}: {b:?}");
        }
    }
}
