//! `ky_config`: an opaque, extensible client configuration. New options arrive as new setters,
//! so the ABI never breaks. Each setter checks its value at once (and leaves the configuration
//! unchanged if it is rejected); `ky_client_new` checks the whole.

use std::ffi::c_char;
use std::time::Duration;

use super::boundary::{self, handle_mut, infallible_call, status_call};
use super::status::ky_status;
use crate::config::{Config, Proxy};
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

/// Applies `change` to a copy of the configuration and keeps it only if it validates.
fn set(config: *mut ky_config, change: impl FnOnce(Config) -> Result<Config, Error>) -> ky_status {
    status_call(|| {
        // SAFETY: the caller guarantees `config` is NULL or a live configuration it owns.
        let target = unsafe { handle_mut(config, "config") }?;
        let changed = change(target.config.clone())?;
        changed.validate()?;
        target.config = changed;
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
        Ok(c.base_url(url))
    })
}

/// Sets the whole-call deadline in milliseconds, retries included (1 to 600000; default 5000).
///
/// # Safety
/// `config` is NULL or a live configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_timeout_ms(config: *mut ky_config, ms: u64) -> ky_status {
    set(config, |c| Ok(c.timeout(Duration::from_millis(ms))))
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
    set(config, |c| Ok(c.connect_timeout(Duration::from_millis(ms))))
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
    set(config, |c| Ok(c.max_retries(retries)))
}

/// Sets how long a token is served from cache, in milliseconds (default 60000). Values above
/// 300000 (5 min) are capped; 0 disables the cache.
///
/// # Safety
/// `config` is NULL or a live configuration.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_cache_ttl_ms(config: *mut ky_config, ms: u64) -> ky_status {
    set(config, |c| Ok(c.cache_ttl(Duration::from_millis(ms))))
}

/// Trusts the root certificates in this PEM file on top of the system store. The file is read
/// by `ky_client_new`. NULL removes a file set earlier.
///
/// # Safety
/// `config` is NULL or a live configuration; `path` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_config_set_ca_file(
    config: *mut ky_config,
    path: *const c_char,
) -> ky_status {
    set(config, |mut c| {
        // SAFETY: the caller guarantees `path` is NULL or NUL-terminated.
        c.ca_file = unsafe { boundary::opt_str(path, "path", MAX_SETTING_LEN) }?.map(Into::into);
        Ok(c)
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
    set(config, |mut c| {
        // SAFETY: the caller guarantees `pem` is readable for `len` bytes.
        let pem = unsafe { boundary::bytes(pem, len, "pem") }?;
        if pem.len() > MAX_CA_PEM_LEN {
            return Err(Error::invalid(format!(
                "pem is {} bytes; at most {MAX_CA_PEM_LEN} are accepted",
                pem.len()
            )));
        }
        c.ca_pem = (!pem.is_empty()).then(|| pem.to_vec());
        Ok(c)
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
        let proxy = match proxy.unwrap_or("") {
            "" | "none" => Proxy::None,
            "env" => Config::from_env()?.proxy,
            url if url.starts_with("http://") || url.starts_with("https://") => {
                ureq::Proxy::new(url).map_err(|_| {
                    Error::invalid(
                        "proxy is not a valid URL (expected http://[user:password@]host:port)",
                    )
                })?;
                Proxy::Url(url.to_owned())
            }
            _ => {
                return Err(Error::invalid(
                    "proxy must be \"none\", \"env\" or a URL http://[user:password@]host:port",
                ));
            }
        };
        Ok(c.proxy(proxy))
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
    set(config, |mut c| {
        // SAFETY: the caller guarantees `suffix` is NULL or NUL-terminated.
        let suffix = unsafe { boundary::opt_str(suffix, "suffix", MAX_SETTING_LEN) }?;
        c.user_agent_suffix = suffix.filter(|s| !s.is_empty()).map(str::to_owned);
        Ok(c)
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
    set(config, |c| Ok(c.refresh_ahead(fraction)))
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
    set(config, |c| Ok(c.stale_if_error(Duration::from_millis(ms))))
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
        Ok(c.prefetch([id]))
    })
}
