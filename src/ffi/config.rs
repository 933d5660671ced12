//! `ky_config`: an opaque, extensible client configuration. New options arrive as new setters,
//! so the ABI never breaks. Each setter checks its own value at once, by that option's rule in
//! `config` (and leaves the configuration unchanged if it is rejected); another option's bad
//! value never makes it fail. `ky_client_new` checks the whole.

use std::ffi::c_char;
use std::time::Duration;

use super::boundary::{self, handle_mut, infallible_call, status_call};
use super::status::ky_status;
use crate::config::{
    BaseUrl, Config, EnvProxy, MAX_PREFETCH, Proxy, check_ca_file, check_connect_timeout,
    check_max_programs, check_max_retries, check_proxy_url, check_refresh_ahead,
    check_stale_if_error, check_timeout, check_user_agent_suffix,
};
use crate::error::Error;

/// Longest string accepted by a configuration setter (URLs, paths, proxy), in bytes.
const MAX_SETTING_LEN: usize = 4096;
/// Largest in-memory CA bundle accepted (a full system bundle is ~250 KB).
const MAX_CA_PEM_LEN: usize = 4 * 1024 * 1024;

/// An opaque client configuration, made by `ky_config_new` or `ky_config_from_env`, changed with
/// the `ky_config_set_*` functions, read by `ky_client_new`, released with `ky_config_free`.
///
/// Thread-safety: not synchronised; use one configuration from one thread at a time (a
/// configuration is usually built once, then used for `ky_client_new` and freed).
pub struct ky_config {
    pub(crate) config: Config,
}

/// Applies `change`, which checks its own value first and fails without touching the
/// configuration.
fn set(config: *mut ky_config, change: impl FnOnce(&mut Config) -> Result<(), Error>) -> ky_status {
    status_call(|| {
        // SAFETY: the caller guarantees `config` is NULL or a live configuration it owns.
        let target = unsafe { handle_mut(config, "config") }?;
        change(&mut target.config)?;
        Ok(())
    })
}

fn new_config(out: *mut *mut ky_config, make: impl FnOnce() -> Result<Config, Error>) -> ky_status {
    status_call(|| {
        if out.is_null() {
            return Err(Error::invalid("out is NULL").into());
        }
        let config = make()?;
        let raw = Box::into_raw(Box::new(ky_config { config }));
        // SAFETY: `out` is non-NULL and, per the contract, writable.
        unsafe { out.write(raw) };
        Ok(())
    })
}

/// Creates a configuration with the library defaults (production base URL, 5 s timeout,
/// 2 retries, 60 s cache, refresh-ahead at 0.8 of it, stale-if-error 5 min, system CA roots, no
/// proxy). The environment is NOT read: see `ky_config_from_env`.
///
/// Ownership: on `KY_OK`, `*out` is a new configuration owned by the caller; release it with
/// `ky_config_free`. `*out` is untouched on failure.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_new(out: *mut *mut ky_config) -> ky_status {
    new_config(out, || Ok(Config::new()))
}

/// Creates a configuration from the `KY_*` environment variables (as the default client uses),
/// to adjust further with the setters. Fails with `KY_ERR_INVALID_ARGUMENT` naming a malformed
/// variable. Ownership as `ky_config_new`.
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_from_env(out: *mut *mut ky_config) -> ky_status {
    new_config(out, Config::from_env)
}

/// Releases a configuration. `ky_config_free(NULL)` does nothing. Clients made from it are
/// unaffected (they keep their own copy).
///
/// # Safety
/// `config` is NULL or a configuration from `ky_config_new`/`ky_config_from_env` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_free(config: *mut ky_config) {
    infallible_call((), || {
        if !config.is_null() {
            // SAFETY: per the contract, `config` came from `Box::into_raw` and is freed once.
            drop(unsafe { Box::from_raw(config) });
        }
    })
}

/// Sets the API base URL, e.g. "https://api.kuaiyugo.com" (the default) or a sandbox's
/// "http://127.0.0.1:PORT". `http://` is accepted only for loopback hosts.
///
/// # Safety
/// `config` is NULL or a live configuration; `url` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_base_url(
    config: *mut ky_config,
    url: *const c_char,
) -> ky_status {
    set(config, |c| {
        // SAFETY: the caller guarantees `url` is NULL or NUL-terminated.
        let url = unsafe { boundary::req_str(url, "url", MAX_SETTING_LEN) }?;
        BaseUrl::parse(url)?;
        c.base_url = url.to_owned();
        Ok(())
    })
}

/// Sets the whole-call deadline in milliseconds, retries included (1 to 600000; default 5000).
///
/// # Safety
/// `config` is NULL or a live configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_timeout_ms(config: *mut ky_config, ms: u64) -> ky_status {
    set(config, |c| {
        let timeout = Duration::from_millis(ms);
        check_timeout(timeout)?;
        c.timeout = timeout;
        Ok(())
    })
}

/// Sets the deadline for opening a connection (TCP + TLS) in milliseconds (1 to 600000). By
/// default only the whole-call deadline applies.
///
/// # Safety
/// `config` is NULL or a live configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_connect_timeout_ms(
    config: *mut ky_config,
    ms: u64,
) -> ky_status {
    set(config, |c| {
        let timeout = Duration::from_millis(ms);
        check_connect_timeout(timeout)?;
        c.connect_timeout = Some(timeout);
        Ok(())
    })
}

/// Sets how many times a network error or 5xx is retried (0 to 10; default 2).
///
/// # Safety
/// `config` is NULL or a live configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_max_retries(
    config: *mut ky_config,
    retries: u32,
) -> ky_status {
    set(config, |c| {
        check_max_retries(retries)?;
        c.max_retries = retries;
        Ok(())
    })
}

/// Sets how long a token is served from cache, in milliseconds (default 60000). Values above
/// 300000 (5 min) are capped; 0 disables the cache.
///
/// # Safety
/// `config` is NULL or a live configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_cache_ttl_ms(config: *mut ky_config, ms: u64) -> ky_status {
    set(config, |c| {
        *c = std::mem::take(c).cache_ttl(Duration::from_millis(ms));
        Ok(())
    })
}

/// Trusts the root certificates in this PEM file on top of the system store. It must be a
/// regular file of at most 4 MiB (checked now); it is read by `ky_client_new`. NULL removes a
/// file set earlier.
///
/// # Safety
/// `config` is NULL or a live configuration; `path` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_ca_file(
    config: *mut ky_config,
    path: *const c_char,
) -> ky_status {
    set(config, |c| {
        // SAFETY: the caller guarantees `path` is NULL or NUL-terminated.
        let path = unsafe { boundary::opt_str(path, "path", MAX_SETTING_LEN) }?;
        let path = path.map(std::path::PathBuf::from);
        if let Some(path) = &path {
            check_ca_file(path)?;
        }
        c.ca_file = path;
        Ok(())
    })
}

/// Trusts the root certificates in `pem` (PEM text, `len` bytes, copied) on top of the system
/// store, for games that ship their CA inside the binary. NULL with `len == 0` removes them.
///
/// # Safety
/// `config` is NULL or a live configuration; `pem` is NULL or readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_ca_pem(
    config: *mut ky_config,
    pem: *const u8,
    len: usize,
) -> ky_status {
    set(config, |c| {
        // SAFETY: the caller guarantees `pem` is readable for `len` bytes.
        let pem = unsafe { boundary::bytes(pem, len, "pem") }?;
        if pem.len() > MAX_CA_PEM_LEN {
            return Err(Error::invalid(format!(
                "pem is {} bytes; at most {MAX_CA_PEM_LEN} are accepted",
                pem.len()
            )));
        }
        c.ca_pem = (!pem.is_empty()).then(|| pem.to_vec());
        Ok(())
    })
}

/// Chooses the proxy: a URL "http://[user:password@]host:port" to always use it, "none" (or NULL
/// or "") to connect directly (the default for `ky_config_new`), or "env" to decide from
/// `HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` as read now (the default for `ky_config_from_env`).
///
/// # Safety
/// `config` is NULL or a live configuration; `proxy` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_proxy(
    config: *mut ky_config,
    proxy: *const c_char,
) -> ky_status {
    set(config, |c| {
        // SAFETY: the caller guarantees `proxy` is NULL or NUL-terminated.
        let proxy = unsafe { boundary::opt_str(proxy, "proxy", MAX_SETTING_LEN) }?;
        c.proxy = match proxy.unwrap_or("") {
            "" | "none" => Proxy::None,
            "env" => Proxy::Environment(EnvProxy::from_env()),
            url => {
                check_proxy_url(url, "the proxy setting")?;
                Proxy::Url(url.to_owned())
            }
        };
        Ok(())
    })
}

/// Appends text to the User-Agent header ("ky-access-token/VERSION SUFFIX"), e.g. your game's
/// name and version: printable ASCII, at most 64 characters. NULL or "" removes it.
///
/// # Safety
/// `config` is NULL or a live configuration; `suffix` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_user_agent_suffix(
    config: *mut ky_config,
    suffix: *const c_char,
) -> ky_status {
    set(config, |c| {
        // SAFETY: the caller guarantees `suffix` is NULL or NUL-terminated.
        let suffix = unsafe { boundary::opt_str(suffix, "suffix", MAX_SETTING_LEN) }?;
        let suffix = suffix.filter(|s| !s.is_empty());
        if let Some(suffix) = suffix {
            check_user_agent_suffix(suffix)?;
        }
        c.user_agent_suffix = suffix.map(str::to_owned);
        Ok(())
    })
}

/// Sets the refresh-ahead point as a fraction of the cache TTL (default 0.8): a call that finds
/// a cached token older than that returns it at once and starts one background refresh, so in
/// steady state no caller waits on the network. 0 or 1 turns refresh-ahead off.
///
/// # Safety
/// `config` is NULL or a live configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_refresh_ahead(
    config: *mut ky_config,
    fraction: f64,
) -> ky_status {
    set(config, |c| {
        check_refresh_ahead(fraction)?;
        c.refresh_ahead = fraction;
        Ok(())
    })
}

/// Sets the stale-if-error window in milliseconds (default and maximum 300000): when refreshing
/// fails, the last good token is still served while it is younger than this (WeChat keeps a
/// replaced token valid for 5 minutes). 0 turns it off.
///
/// # Safety
/// `config` is NULL or a live configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_stale_if_error_ms(
    config: *mut ky_config,
    ms: u64,
) -> ky_status {
    set(config, |c| {
        let window = Duration::from_millis(ms);
        check_stale_if_error(window)?;
        c.stale_if_error = window;
        Ok(())
    })
}

/// Adds a program id to keep warm: the client's background thread fetches it at creation and
/// refreshes it ahead of expiry, so even the first call is a cache hit. At most 1024 ids.
///
/// # Safety
/// `config` is NULL or a live configuration; `program_id` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_add_prefetch(
    config: *mut ky_config,
    program_id: *const c_char,
) -> ky_status {
    set(config, |c| {
        // SAFETY: the caller guarantees `program_id` is NULL or NUL-terminated.
        let id = unsafe { boundary::program_id(program_id) }?;
        if c.prefetch.len() >= MAX_PREFETCH {
            return Err(Error::invalid(format!(
                "the prefetch list already has {MAX_PREFETCH} program ids"
            )));
        }
        c.prefetch.push(id.to_owned());
        Ok(())
    })
}

/// Sets how many program ids the cache holds at once (default 10000; 1 to 10000000). Beyond it
/// the least recently used are evicted, so ids taken from requests cannot grow memory without
/// bound.
///
/// # Safety
/// `config` is NULL or a live configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_max_programs(config: *mut ky_config, max: u64) -> ky_status {
    set(config, |c| {
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        check_max_programs(max)?;
        c.max_programs = max;
        Ok(())
    })
}
