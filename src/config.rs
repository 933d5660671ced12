//! Client configuration: defaults, the `KY_*` environment variables, and validation.
//!
//! Each option's rule lives in one `check_*` function, used by the environment reader (which
//! names the variable), by the C setters (each checks its own value only, so a bad value of one
//! option never makes another setter fail) and by [`Config::validate`] when a client is built.
//! A bad value is a [`Status::InvalidArgument`](crate::Status::InvalidArgument) error naming the
//! setting, never a silent default. The only I/O here is `stat` of the CA file; it is read when
//! the client is built (`fetch`).

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::clock::{Clock, ManualClock};
use crate::error::{Error, sanitize};

/// Where the token is served in production.
pub const DEFAULT_BASE_URL: &str = "https://api.kuaiyugo.com";
/// Default whole-call deadline, retries included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(5000);
/// Longest accepted whole-call deadline.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// Default number of retries after the first attempt (network errors and 5xx only).
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Most retries accepted.
pub const MAX_RETRIES: u32 = 10;
/// Default cache lifetime of a token.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_millis(60_000);
/// Cap on the cache lifetime: after Tianmu refreshes the token (hourly), WeChat keeps the old one
/// valid for only 5 minutes, so a token cached longer than that may already be dead.
pub const MAX_CACHE_TTL: Duration = Duration::from_millis(300_000);
/// Default refresh-ahead point, as a fraction of the cache TTL.
pub const DEFAULT_REFRESH_AHEAD: f64 = 0.8;
/// Default (and longest) time since a token was fetched during which it is still served when
/// refreshing fails: WeChat keeps a replaced token valid for 5 minutes.
pub const MAX_STALE_IF_ERROR: Duration = Duration::from_millis(300_000);
/// Longest accepted user-agent suffix.
pub const MAX_USER_AGENT_SUFFIX: usize = 64;
/// Most program ids in a prefetch list.
pub const MAX_PREFETCH: usize = 1024;
/// Default cap on program ids cached at once (least recently used evicted beyond it).
pub const DEFAULT_MAX_PROGRAMS: usize = 10_000;
/// Largest accepted `max_programs`.
pub const MAX_MAX_PROGRAMS: usize = 10_000_000;
/// Largest CA file accepted (a full system bundle is ~250 KB).
pub const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// How the client reaches the API through a proxy.
#[derive(Clone, Default)]
pub enum Proxy {
    /// Connect directly.
    #[default]
    None,
    /// Always use this proxy (`http://[user:password@]host:port`).
    Url(String),
    /// Decide from `HTTPS_PROXY`/`https_proxy`/`ALL_PROXY`/`all_proxy` (`http_proxy`/`HTTP_PROXY`
    /// first for an `http://` base) and `NO_PROXY`/`no_proxy`, captured when the config was read.
    Environment(EnvProxy),
}

/// Proxy variables captured from the environment. Unset `NO_PROXY` exempts loopback hosts;
/// an explicitly empty `NO_PROXY` exempts nothing.
#[derive(Clone, Default)]
pub struct EnvProxy {
    /// (variable name, value) for the `https://` base, in precedence order.
    https: Option<(&'static str, String)>,
    /// (variable name, value) for an `http://` base.
    http: Option<(&'static str, String)>,
    /// `None` when neither `NO_PROXY` nor `no_proxy` is set.
    no_proxy: Option<String>,
}

impl EnvProxy {
    /// Captures the proxy variables now (only those: an unrelated bad `KY_*` variable does not
    /// matter here).
    pub fn from_env() -> EnvProxy {
        EnvProxy::from_lookup(&env_lookup)
    }

    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> EnvProxy {
        let first = |names: &[&'static str]| {
            names
                .iter()
                .find_map(|&n| lookup(n).filter(|v| !v.is_empty()).map(|v| (n, v)))
        };
        EnvProxy {
            https: first(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]),
            http: first(&["http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy"]),
            no_proxy: lookup("NO_PROXY").or_else(|| lookup("no_proxy")),
        }
    }
}

fn env_lookup(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

impl fmt::Debug for Proxy {
    // Proxy URLs may carry credentials: show only which kind is configured.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proxy::None => f.write_str("None"),
            Proxy::Url(_) => f.write_str("Url(<redacted>)"),
            Proxy::Environment(env) => f
                .debug_struct("Environment")
                .field("https", &env.https.as_ref().map(|(name, _)| name))
                .field("http", &env.http.as_ref().map(|(name, _)| name))
                .field("no_proxy", &env.no_proxy)
                .finish(),
        }
    }
}

/// Everything a [`Client`](crate::Client) needs to know. Build with [`Config::new`] (defaults) or
/// [`Config::from_env`], adjust with the setters, then pass to [`Client::new`](crate::Client::new),
/// which validates it.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) base_url: String,
    pub(crate) timeout: Duration,
    pub(crate) max_retries: u32,
    pub(crate) cache_ttl: Duration,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) ca_pem: Option<Vec<u8>>,
    pub(crate) proxy: Proxy,
    pub(crate) static_hosts: Option<Vec<(String, IpAddr)>>,
    pub(crate) user_agent_suffix: Option<String>,
    pub(crate) refresh_ahead: f64,
    pub(crate) stale_if_error: Duration,
    pub(crate) prefetch: Vec<String>,
    pub(crate) max_programs: usize,
    pub(crate) clock: Clock,
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl Config {
    /// The defaults: production base URL, 5 s deadline, 2 retries, 60 s cache, refresh-ahead at
    /// 80 % of it, stale-if-error for 5 minutes, system roots, no proxy.
    pub fn new() -> Config {
        Config {
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            cache_ttl: DEFAULT_CACHE_TTL,
            connect_timeout: None,
            ca_file: None,
            ca_pem: None,
            proxy: Proxy::None,
            static_hosts: None,
            user_agent_suffix: None,
            refresh_ahead: DEFAULT_REFRESH_AHEAD,
            stale_if_error: MAX_STALE_IF_ERROR,
            prefetch: Vec::new(),
            max_programs: DEFAULT_MAX_PROGRAMS,
            clock: Clock::system(),
        }
    }

    /// The defaults overridden by `KY_BASE_URL`, `KY_TIMEOUT_MS`, `KY_CONNECT_TIMEOUT_MS`,
    /// `KY_MAX_RETRIES`, `KY_CACHE_TTL_MS`, `KY_REFRESH_AHEAD`, `KY_STALE_IF_ERROR_MS`,
    /// `KY_MAX_PROGRAMS`, `KY_CA_FILE`, `KY_USER_AGENT_SUFFIX` and the proxy variables. An empty
    /// `KY_*` variable counts as unset; a malformed or out-of-range one is an error naming it.
    pub fn from_env() -> Result<Config, Error> {
        Config::from_lookup(env_lookup)
    }

    /// [`Config::from_env`] reading variables through `lookup` (for tests and embedders).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let ky = |name: &str| lookup(name).filter(|v| !v.is_empty());
        // Each variable is parsed, then checked by its option's own rule; a message names it.
        let var = |name: &str, check: fn(Duration) -> Result<(), Error>| {
            ky(name)
                .map(|v| {
                    let value = Duration::from_millis(parse_number(name, &v)?);
                    check(value).map_err(|e| named(name, &v, &e))?;
                    Ok::<_, Error>(value)
                })
                .transpose()
        };
        let mut config = Config::new();
        if let Some(url) = ky("KY_BASE_URL") {
            BaseUrl::parse(&url)?;
            config.base_url = url;
        }
        if let Some(timeout) = var("KY_TIMEOUT_MS", check_timeout)? {
            config.timeout = timeout;
        }
        if let Some(v) = ky("KY_MAX_RETRIES") {
            let retries = u32::try_from(parse_number("KY_MAX_RETRIES", &v)?)
                .map_err(|_| Error::invalid(format!("KY_MAX_RETRIES={v} is too large")))?;
            check_max_retries(retries).map_err(|e| named("KY_MAX_RETRIES", &v, &e))?;
            config.max_retries = retries;
        }
        if let Some(ttl) = var("KY_CACHE_TTL_MS", |_| Ok(()))? {
            config = config.cache_ttl(ttl);
        }
        config.connect_timeout = var("KY_CONNECT_TIMEOUT_MS", check_connect_timeout)?;
        if let Some(v) = ky("KY_REFRESH_AHEAD") {
            let fraction = v.trim().parse::<f64>().map_err(|_| {
                Error::invalid(format!(
                    "KY_REFRESH_AHEAD={} is not a number (a fraction of the TTL, e.g. 0.8; 0 turns it off)",
                    sanitize(&v, 40)
                ))
            })?;
            check_refresh_ahead(fraction).map_err(|e| named("KY_REFRESH_AHEAD", &v, &e))?;
            config.refresh_ahead = fraction;
        }
        if let Some(window) = var("KY_STALE_IF_ERROR_MS", check_stale_if_error)? {
            config.stale_if_error = window;
        }
        if let Some(v) = ky("KY_MAX_PROGRAMS") {
            let max = usize::try_from(parse_number("KY_MAX_PROGRAMS", &v)?).unwrap_or(usize::MAX);
            check_max_programs(max).map_err(|e| named("KY_MAX_PROGRAMS", &v, &e))?;
            config.max_programs = max;
        }
        if let Some(suffix) = ky("KY_USER_AGENT_SUFFIX") {
            check_user_agent_suffix(&suffix)?;
            config.user_agent_suffix = Some(suffix);
        }
        if let Some(path) = ky("KY_CA_FILE") {
            let path = PathBuf::from(path);
            check_ca_file(&path)?;
            config.ca_file = Some(path);
        }
        config.proxy = Proxy::Environment(EnvProxy::from_lookup(&lookup));
        Ok(config)
    }

    /// Base URL of the API, e.g. `https://api.kuaiyugo.com` or `http://127.0.0.1:8080/prefix`.
    /// `http://` is accepted only for loopback hosts.
    pub fn base_url(mut self, url: impl Into<String>) -> Config {
        self.base_url = url.into();
        self
    }

    /// Whole-call deadline, retries and backoff included (1 ms to 10 min).
    pub fn timeout(mut self, timeout: Duration) -> Config {
        self.timeout = timeout;
        self
    }

    /// Deadline for opening a connection (TCP and TLS), within the whole-call timeout. Default:
    /// only the whole-call timeout applies.
    pub fn connect_timeout(mut self, timeout: Duration) -> Config {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Retries after the first attempt for network errors and 5xx (0 to 10).
    pub fn max_retries(mut self, retries: u32) -> Config {
        self.max_retries = retries;
        self
    }

    /// How long a token is served from cache; zero disables the cache. Capped at
    /// [`MAX_CACHE_TTL`] (5 minutes).
    pub fn cache_ttl(mut self, ttl: Duration) -> Config {
        self.cache_ttl = ttl.min(MAX_CACHE_TTL);
        self
    }

    /// A PEM file of extra root certificates, trusted on top of the system store.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Config {
        self.ca_file = Some(path.into());
        self
    }

    /// Extra root certificates as PEM text in memory, trusted on top of the system store (and of
    /// [`Config::ca_file`] if both are given).
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Config {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Appended to the `User-Agent` header (`ky-access-token/VERSION SUFFIX`), e.g. your game's
    /// name and version: printable ASCII, at most 64 characters.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Config {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Refresh-ahead point as a fraction of the cache TTL (default 0.8): a caller that finds a
    /// token older than that gets it at once and one background refresh starts. `0` or `1` turns
    /// refresh-ahead off (tokens are then refetched only when they expire).
    pub fn refresh_ahead(mut self, fraction: f64) -> Config {
        self.refresh_ahead = fraction;
        self
    }

    /// How long after it was fetched the last good token may still be served when refreshing
    /// it fails (default and maximum 5 minutes; zero turns stale-if-error off).
    pub fn stale_if_error(mut self, window: Duration) -> Config {
        self.stale_if_error = window;
        self
    }

    /// Program ids to keep warm from a background thread, so that even the first call is a
    /// cache hit. The thread stops when the client is dropped.
    pub fn prefetch<I, S>(mut self, program_ids: I) -> Config
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.prefetch
            .extend(program_ids.into_iter().map(Into::into));
        self
    }

    /// Most program ids cached at once (default 10,000; 1 to 10,000,000). Beyond it the least
    /// recently used are evicted: program ids often come from requests, and memory must not
    /// grow with every id ever seen.
    pub fn max_programs(mut self, max: usize) -> Config {
        self.max_programs = max;
        self
    }

    /// Drives cache timing from `clock` instead of the system clock (for tests).
    pub fn clock(mut self, clock: ManualClock) -> Config {
        self.clock = Clock::Manual(clock);
        self
    }

    /// Proxy selection.
    pub fn proxy(mut self, proxy: Proxy) -> Config {
        self.proxy = proxy;
        self
    }

    /// Resolves host names only from this table and never asks DNS; a name not in it fails as
    /// [`Status::Network`](crate::Status::Network). For pinning the API host and for offline tests.
    pub fn static_hosts(mut self, hosts: impl IntoIterator<Item = (String, IpAddr)>) -> Config {
        self.static_hosts = Some(hosts.into_iter().collect());
        self
    }

    /// Checks every setting, each by its own rule; returns the parsed base URL.
    pub(crate) fn validate(&self) -> Result<BaseUrl, Error> {
        check_timeout(self.timeout)?;
        check_max_retries(self.max_retries)?;
        if let Some(connect) = self.connect_timeout {
            check_connect_timeout(connect)?;
        }
        check_refresh_ahead(self.refresh_ahead)?;
        check_stale_if_error(self.stale_if_error)?;
        check_max_programs(self.max_programs)?;
        if let Some(suffix) = &self.user_agent_suffix {
            check_user_agent_suffix(suffix)?;
        }
        if self.prefetch.len() > MAX_PREFETCH {
            return Err(Error::invalid(format!(
                "prefetch list has {} program ids; at most {MAX_PREFETCH} are allowed",
                self.prefetch.len()
            )));
        }
        for id in &self.prefetch {
            check_prefetch_id(id)?;
        }
        BaseUrl::parse(&self.base_url)
    }

    /// The refresh-ahead point as a fraction of the TTL, if refresh-ahead is on.
    pub(crate) fn refresh_fraction(&self) -> Option<f64> {
        (self.refresh_ahead > 0.0 && self.refresh_ahead < 1.0).then_some(self.refresh_ahead)
    }

    /// The proxy URL to use for `base`, and the name of the setting it came from.
    pub(crate) fn effective_proxy(&self, base: &BaseUrl) -> Option<(&str, &str)> {
        match &self.proxy {
            Proxy::None => None,
            Proxy::Url(url) => Some(("the client configuration", url.as_str())),
            Proxy::Environment(env) => {
                let (name, url) = if base.https { &env.https } else { &env.http }.as_ref()?;
                let exempt = match &env.no_proxy {
                    None => is_loopback_host(&base.host),
                    Some(list) => no_proxy_matches(list, &base.host),
                };
                (!exempt).then_some((*name, url.as_str()))
            }
        }
    }
}

/// An option's rule broken by a variable: the message names the variable and its value.
fn named(name: &str, value: &str, e: &Error) -> Error {
    Error::invalid(format!("{name}={}: {}", sanitize(value, 40), e.message()))
}

fn parse_number(name: &str, value: &str) -> Result<u64, Error> {
    value.trim().parse::<u64>().map_err(|_| {
        Error::invalid(format!(
            "{name}={} is not a non-negative whole number",
            sanitize(value, 40)
        ))
    })
}

/// The whole-call deadline: 1 ms to [`MAX_TIMEOUT`].
pub(crate) fn check_timeout(timeout: Duration) -> Result<(), Error> {
    check_deadline(timeout, "timeout", "the timeout setting or KY_TIMEOUT_MS")
}

/// The connect deadline: 1 ms to [`MAX_TIMEOUT`].
pub(crate) fn check_connect_timeout(timeout: Duration) -> Result<(), Error> {
    check_deadline(
        timeout,
        "connect timeout",
        "the connect-timeout setting or KY_CONNECT_TIMEOUT_MS",
    )
}

fn check_deadline(value: Duration, what: &str, setting: &str) -> Result<(), Error> {
    if value.is_zero() || value > MAX_TIMEOUT {
        return Err(Error::invalid(format!(
            "{what} must be between 1 ms and {} ms ({setting}), got {} ms",
            MAX_TIMEOUT.as_millis(),
            value.as_millis()
        )));
    }
    Ok(())
}

pub(crate) fn check_max_retries(retries: u32) -> Result<(), Error> {
    if retries > MAX_RETRIES {
        return Err(Error::invalid(format!(
            "max retries must be at most {MAX_RETRIES} (the max-retries setting or KY_MAX_RETRIES), got {retries}"
        )));
    }
    Ok(())
}

pub(crate) fn check_refresh_ahead(fraction: f64) -> Result<(), Error> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(Error::invalid(format!(
            "refresh-ahead must be a fraction of the TTL between 0 and 1 (the refresh-ahead setting or KY_REFRESH_AHEAD), got {fraction}"
        )));
    }
    Ok(())
}

pub(crate) fn check_stale_if_error(window: Duration) -> Result<(), Error> {
    if window > MAX_STALE_IF_ERROR {
        return Err(Error::invalid(format!(
            "stale-if-error window must be at most {} ms (the stale-if-error setting or KY_STALE_IF_ERROR_MS): WeChat keeps a \
             replaced token for only 5 minutes; got {} ms",
            MAX_STALE_IF_ERROR.as_millis(),
            window.as_millis()
        )));
    }
    Ok(())
}

pub(crate) fn check_max_programs(max: usize) -> Result<(), Error> {
    if max == 0 || max > MAX_MAX_PROGRAMS {
        return Err(Error::invalid(format!(
            "max programs must be between 1 and {MAX_MAX_PROGRAMS} (the max-programs setting or KY_MAX_PROGRAMS), got {max}"
        )));
    }
    Ok(())
}

pub(crate) fn check_user_agent_suffix(suffix: &str) -> Result<(), Error> {
    let printable = suffix.bytes().all(|b| (0x20..0x7f).contains(&b));
    if !printable || suffix.len() > MAX_USER_AGENT_SUFFIX {
        return Err(Error::invalid(format!(
            "user-agent suffix must be at most {MAX_USER_AGENT_SUFFIX} printable ASCII \
             characters (the user-agent-suffix setting or KY_USER_AGENT_SUFFIX), got \"{}\"",
            sanitize(suffix, MAX_USER_AGENT_SUFFIX)
        )));
    }
    Ok(())
}

pub(crate) fn check_prefetch_id(id: &str) -> Result<(), Error> {
    crate::program_id::validate_program_id(id.as_bytes())
        .map(drop)
        .map_err(|e| Error::invalid(format!("prefetch list: {}", e.message())))
}

/// The CA file must be a regular file of at most [`MAX_CA_FILE_BYTES`]: `/dev/zero` would be
/// read forever and a FIFO would block. Only `stat`s it (no open, which a FIFO would block).
pub(crate) fn check_ca_file(path: &std::path::Path) -> Result<(), Error> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::invalid(format!(
            "cannot read CA file {shown} (the CA-file setting or KY_CA_FILE): {e}"
        ))
    })?;
    if !meta.is_file() {
        return Err(Error::invalid(format!(
            "CA file {shown} (the CA-file setting or KY_CA_FILE) is not a regular file"
        )));
    }
    if meta.len() > MAX_CA_FILE_BYTES {
        return Err(Error::invalid(format!(
            "CA file {shown} (the CA-file setting or KY_CA_FILE) is {} bytes; at most {MAX_CA_FILE_BYTES} are accepted",
            meta.len()
        )));
    }
    Ok(())
}

/// A proxy URL from `source` (a variable name or "the proxy setting"): `http://` or `https://`
/// only. ureq would accept a SOCKS URL here and then panic when it connects through it (its
/// SOCKS support is not compiled in). Returns the parsed proxy.
pub(crate) fn check_proxy_url(url: &str, source: &str) -> Result<ureq::Proxy, Error> {
    let shown = sanitize(&redact_userinfo(url), 100);
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("http" | "https") => {}
        Some(other) => {
            return Err(Error::invalid(format!(
                "{source}={shown}: proxy scheme \"{}\" is not supported; use an http:// or https:// proxy",
                sanitize(other, 16)
            )));
        }
        None => {
            return Err(Error::invalid(format!(
                "{source}={shown}: a proxy must be a URL http://[user:password@]host:port"
            )));
        }
    }
    ureq::Proxy::new(url).map_err(|_| {
        Error::invalid(format!(
            "{source}={shown}: not a valid proxy URL (expected http://[user:password@]host:port)"
        ))
    })
}

/// A validated base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    /// Without a trailing slash, ready for `{url}/api/config/…`.
    pub url: String,
    pub https: bool,
    /// Host without IPv6 brackets.
    pub host: String,
    /// `host:port` for messages.
    pub authority: String,
}

impl BaseUrl {
    pub(crate) fn parse(raw: &str) -> Result<BaseUrl, Error> {
        let shown = sanitize(&redact_userinfo(raw), 100);
        let bad = |why: &str| {
            Error::invalid(format!(
                "base URL \"{shown}\" {why} (the base-URL setting or KY_BASE_URL)"
            ))
        };
        let uri: ureq::http::Uri = raw.parse().map_err(|_| bad("is not a valid URL"))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad("must start with https://")),
        };
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("must not contain credentials"));
        }
        if raw.contains('?') || raw.contains('#') {
            return Err(bad("must not have a query or fragment"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        if !https && !is_loopback_host(host) {
            return Err(bad(
                "uses http:// for a non-loopback host; only https:// is allowed there",
            ));
        }
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        Ok(BaseUrl {
            url: raw.trim_end_matches('/').to_owned(),
            https,
            host: host.to_ascii_lowercase(),
            authority: format!("{}:{port}", authority.host()),
        })
    }
}

/// `scheme://user:pw@host/…` → `scheme://***@host/…`, so a URL can be quoted in a message.
pub(crate) fn redact_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

/// `localhost`, 127.0.0.0/8 or ::1.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// curl-style `NO_PROXY` matching: `*`, exact names, domain suffixes (`example.com` and
/// `.example.com` both match `api.example.com`), IP addresses and CIDR ranges; ports ignored.
pub(crate) fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host_ip = host.parse::<IpAddr>().ok();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some((net, bits)) = entry.split_once('/') {
                return match (host_ip, net.parse::<IpAddr>(), bits.parse::<u32>()) {
                    (Some(ip), Ok(net), Ok(bits)) => in_cidr(ip, net, bits),
                    _ => false,
                };
            }
            let entry = strip_port(entry)
                .trim_start_matches('[')
                .trim_end_matches(']');
            if let (Some(ip), Ok(e)) = (host_ip, entry.parse::<IpAddr>()) {
                return ip == e;
            }
            let domain = entry.trim_start_matches('.');
            host.eq_ignore_ascii_case(domain)
                || (host.len() > domain.len()
                    && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain)
                    && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
        })
}

fn strip_port(entry: &str) -> &str {
    match entry.rsplit_once(':') {
        // `host:port`, but not a bare IPv6 address.
        Some((host, port)) if !host.contains(':') && port.parse::<u16>().is_ok() => host,
        _ => entry,
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_without_environment() {
        let c = Config::from_lookup(env(&[])).unwrap();
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert_eq!(c.max_retries, 2);
        assert_eq!(c.cache_ttl, Duration::from_secs(60));
        assert!(c.ca_file.is_none());
        let base = c.validate().unwrap();
        assert_eq!(base.authority, "api.kuaiyugo.com:443");
        assert!(c.effective_proxy(&base).is_none());
    }

    #[test]
    fn environment_overrides_and_ttl_cap() {
        // The CA file must exist and be a regular file (it is checked when read).
        let ca_file =
            std::env::temp_dir().join(format!("ky-config-test-{}.pem", std::process::id()));
        std::fs::write(&ca_file, b"not checked here").unwrap();
        let c = Config::from_lookup(env(&[
            ("KY_BASE_URL", "http://127.0.0.1:9/prefix/"),
            ("KY_TIMEOUT_MS", "250"),
            ("KY_MAX_RETRIES", "0"),
            ("KY_CACHE_TTL_MS", "999999"),
            ("KY_CA_FILE", ca_file.to_str().unwrap()),
        ]))
        .unwrap();
        assert_eq!(c.timeout, Duration::from_millis(250));
        assert_eq!(c.max_retries, 0);
        assert_eq!(c.cache_ttl, MAX_CACHE_TTL);
        assert_eq!(c.ca_file.as_deref(), Some(ca_file.as_path()));
        assert_eq!(c.validate().unwrap().url, "http://127.0.0.1:9/prefix");
        let c =
            Config::from_lookup(env(&[("KY_CACHE_TTL_MS", "0"), ("KY_TIMEOUT_MS", "")])).unwrap();
        assert_eq!(c.cache_ttl, Duration::ZERO);
        assert_eq!(c.timeout, DEFAULT_TIMEOUT, "empty counts as unset");
        let _ = std::fs::remove_file(&ca_file);
    }

    #[test]
    fn malformed_environment_is_an_error_naming_the_variable() {
        for (name, value, expect) in [
            ("KY_TIMEOUT_MS", "abc", "KY_TIMEOUT_MS=abc is not"),
            ("KY_TIMEOUT_MS", "-5", "KY_TIMEOUT_MS=-5"),
            ("KY_TIMEOUT_MS", "1.5", "KY_TIMEOUT_MS=1.5"),
            ("KY_MAX_RETRIES", "two", "KY_MAX_RETRIES=two"),
            (
                "KY_MAX_RETRIES",
                "99999999999",
                "KY_MAX_RETRIES=99999999999 is too large",
            ),
            ("KY_CACHE_TTL_MS", "1e3", "KY_CACHE_TTL_MS=1e3"),
        ] {
            let e = Config::from_lookup(env(&[(name, value)])).unwrap_err();
            assert_eq!(e.status(), Status::InvalidArgument);
            assert!(e.message().contains(expect), "{}", e.message());
        }
        // Out of range: refused when read, by the option's own rule, naming the variable.
        for (name, value, expect) in [
            (
                "KY_TIMEOUT_MS",
                "0",
                "KY_TIMEOUT_MS=0: timeout must be between",
            ),
            ("KY_TIMEOUT_MS", "600001", "timeout must be between"),
            (
                "KY_MAX_RETRIES",
                "11",
                "KY_MAX_RETRIES=11: max retries must be at most 10",
            ),
            (
                "KY_MAX_PROGRAMS",
                "0",
                "KY_MAX_PROGRAMS=0: max programs must be between",
            ),
            (
                "KY_REFRESH_AHEAD",
                "1.5",
                "KY_REFRESH_AHEAD=1.5: refresh-ahead",
            ),
            ("KY_STALE_IF_ERROR_MS", "300001", "stale-if-error window"),
            #[cfg(unix)]
            ("KY_CA_FILE", "/dev/zero", "is not a regular file"),
            ("KY_CA_FILE", "/nonexistent/ca.pem", "cannot read CA file"),
            ("KY_BASE_URL", "ftp://x", "must start with https://"),
        ] {
            let e = Config::from_lookup(env(&[(name, value)])).unwrap_err();
            assert_eq!(e.status(), Status::InvalidArgument);
            assert!(e.message().contains(expect), "{}", e.message());
        }
        let c = Config::from_lookup(env(&[("KY_MAX_PROGRAMS", "42")])).unwrap();
        assert_eq!(c.max_programs, 42);
    }

    #[test]
    fn proxy_schemes_other_than_http_are_refused_naming_the_source() {
        for (url, expect) in [
            (
                "socks5://127.0.0.1:1080",
                "proxy scheme \"socks5\" is not supported",
            ),
            (
                "socks4a://u:secret@h:1",
                "proxy scheme \"socks4a\" is not supported",
            ),
            ("127.0.0.1:3128", "must be a URL"),
        ] {
            let e = check_proxy_url(url, "ALL_PROXY").unwrap_err();
            assert_eq!(e.status(), Status::InvalidArgument);
            assert!(e.message().starts_with("ALL_PROXY="), "{}", e.message());
            assert!(e.message().contains(expect), "{}", e.message());
            assert!(!e.message().contains("secret"), "{}", e.message());
        }
        check_proxy_url("http://u:p@proxy:3128", "HTTPS_PROXY").unwrap();
        check_proxy_url("HTTPS://proxy:3128", "HTTPS_PROXY").unwrap();
    }

    #[test]
    fn base_url_rules() {
        for ok in [
            "https://api.kuaiyugo.com",
            "https://api.kuaiyugo.com/",
            "https://gw.example.com:8443/tianmu",
            "http://localhost:8080",
            "http://127.0.0.2:1",
            "http://[::1]:8080/p",
        ] {
            BaseUrl::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (bad, why) in [
            ("http://api.kuaiyugo.com", "non-loopback"),
            ("http://10.0.0.1", "non-loopback"),
            ("http://localhost.evil.com", "non-loopback"),
            ("ftp://x", "must start with https://"),
            ("api.kuaiyugo.com", "must start with https://"),
            ("https://user:pw@api.kuaiyugo.com", "credentials"),
            ("https://api.kuaiyugo.com/?a=1", "query"),
            ("https://", "not a valid URL"),
            ("", "not a valid URL"),
        ] {
            let e = BaseUrl::parse(bad).unwrap_err();
            assert_eq!(e.status(), Status::InvalidArgument);
            assert!(e.message().contains(why), "{bad}: {}", e.message());
            assert!(!e.message().contains("pw@"), "{}", e.message());
        }
        assert_eq!(redact_userinfo("http://u:p@h:1/x@y"), "http://***@h:1/x@y");
        let b = BaseUrl::parse("http://[::1]:8080").unwrap();
        assert_eq!(
            (b.host.as_str(), b.authority.as_str()),
            ("::1", "[::1]:8080")
        );
    }

    #[test]
    fn proxy_selection_from_environment() {
        let prod = BaseUrl::parse(DEFAULT_BASE_URL).unwrap();
        let local = BaseUrl::parse("http://127.0.0.1:8080").unwrap();
        let c = Config::from_lookup(env(&[
            ("HTTPS_PROXY", "http://user:secret@proxy:3128"),
            ("http_proxy", "http://plain:3128"),
        ]))
        .unwrap();
        assert_eq!(
            c.effective_proxy(&prod),
            Some(("HTTPS_PROXY", "http://user:secret@proxy:3128"))
        );
        assert_eq!(
            c.effective_proxy(&local),
            None,
            "loopback exempt by default"
        );
        assert!(!format!("{c:?}").contains("secret"));

        let c =
            Config::from_lookup(env(&[("ALL_PROXY", "http://all:1"), ("NO_PROXY", "")])).unwrap();
        assert_eq!(
            c.effective_proxy(&prod),
            Some(("ALL_PROXY", "http://all:1"))
        );
        assert_eq!(
            c.effective_proxy(&local),
            Some(("ALL_PROXY", "http://all:1")),
            "explicitly empty NO_PROXY exempts nothing"
        );
        let c = Config::from_lookup(env(&[
            ("https_proxy", "http://p:1"),
            ("no_proxy", ".kuaiyugo.com"),
        ]))
        .unwrap();
        assert_eq!(c.effective_proxy(&prod), None);
    }

    #[test]
    fn no_proxy_patterns() {
        let cases = [
            ("*", "anything.com", true),
            ("kuaiyugo.com", "api.kuaiyugo.com", true),
            (".kuaiyugo.com", "api.kuaiyugo.com", true),
            ("kuaiyugo.com", "kuaiyugo.com", true),
            ("kuaiyugo.com", "evilkuaiyugo.com", false),
            ("other.com, api.kuaiyugo.com:443", "api.kuaiyugo.com", true),
            ("10.0.0.0/8", "10.1.2.3", true),
            ("10.0.0.0/8", "11.1.2.3", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("::1", "::1", true),
            ("[::1]", "[::1]", true),
            ("fd00::/8", "fd12::1", true),
            ("", "api.kuaiyugo.com", false),
        ];
        for (list, host, expect) in cases {
            assert_eq!(no_proxy_matches(list, host), expect, "{list} vs {host}");
        }
    }
}
