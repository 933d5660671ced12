//! The C ABI. Each function checks its pointers, runs its body inside the panic boundary and
//! delegates to the client; there is no logic here. The header `include/ky_access_token.h` is
//! generated from this module by cbindgen (see `tests/header.rs`).
//!
//! C names (`ky_client`, `ky_token_callback`…) are the published contract, hence the lint allow.
#![allow(non_camel_case_types)]

mod boundary;
mod client;
mod config;
mod last_error;
mod log;
mod stats;
mod status;

use std::ffi::{CStr, c_char};

use boundary::{hot_status_call, infallible_call, pointer_call, status_call};
pub use client::*;
pub use config::*;
pub use log::*;
pub use stats::*;
pub use status::{ky_log_level, ky_status};

use crate::client::default_client;
use crate::error::Status;

/// Major version of this library (semantic versioning); equals the first part of `ky_version()`.
pub const KY_VERSION_MAJOR: u32 = 0;
/// Minor version of this library.
pub const KY_VERSION_MINOR: u32 = 1;
/// Patch version of this library.
pub const KY_VERSION_PATCH: u32 = 0;

/// A buffer size that holds any access token seen in practice, with its NUL. WeChat documents that
/// at least 512 characters must be reserved for a token; this leaves headroom. If a token is ever
/// longer, `ky_get_access_token` returns `KY_ERR_BUFFER_TOO_SMALL` (it never truncates).
pub const KY_TOKEN_BUFFER_SIZE: usize = 1024;

/// The longest valid program id, in bytes (ids are 1-32 characters of `A-Z a-z 0-9 _ -`).
pub const KY_MAX_PROGRAM_ID_LEN: usize = 32;

/// Most asynchronous calls queued on one client; more get `KY_ERR_BUSY`.
pub const KY_MAX_QUEUED_ASYNC: usize = 4096;
const _: () = assert!(KY_MAX_QUEUED_ASYNC == crate::client::MAX_QUEUED_ASYNC);

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => panic!("the package version contains a NUL"),
    };

/// Writes the access token for `program_id`, NUL-terminated, into `out_buf`.
///
/// Served from the process-wide cache while fresh (`KY_CACHE_TTL_MS`, default 60 s, at most 5 min);
/// otherwise fetched from `KY_BASE_URL`. Any number of threads asking for the same program at once
/// share one upstream request and its result. The default client is configured from the
/// environment at the first call (`KY_BASE_URL`, `KY_TIMEOUT_MS`, `KY_MAX_RETRIES`,
/// `KY_CACHE_TTL_MS`, `KY_MAX_PROGRAMS`, `KY_CA_FILE`, proxy variables); the call blocks for at
/// most `KY_TIMEOUT_MS` (default 5000), whether it fetches or waits for another thread's fetch.
///
/// - `program_id`: NUL-terminated, 1-32 characters of `A-Z a-z 0-9 _ -`; borrowed for the call.
/// - `out_buf`, `len`: caller-owned buffer of `len` bytes; `KY_TOKEN_BUFFER_SIZE` is a good size.
///   Written only on success (token + NUL). If the token does not fit, returns
///   `KY_ERR_BUFFER_TOO_SMALL`, writes nothing but `out_buf[0] = '\0'` (when `len > 0`), and
///   `ky_last_required_size()` returns the size needed; the token stays cached, so calling again with
///   a bigger buffer does not refetch. `out_buf == NULL` with `len == 0` is such a size query.
///
/// Returns `KY_OK`, or a failure status with details in `ky_last_error_message()`.
/// `KY_ERR_INVALID_ARGUMENT` (NULL/invalid `program_id`, NULL `out_buf` with `len > 0`, bad
/// configuration) is returned before any I/O.
///
/// Thread-safety: safe to call from any number of threads at once.
///
/// # Safety
/// `program_id` is NULL or a readable NUL-terminated string; `out_buf` is NULL or writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_get_access_token(
    program_id: *const c_char,
    out_buf: *mut c_char,
    len: usize,
) -> ky_status {
    hot_status_call(|| {
        let client = default_client()?;
        // SAFETY: forwarded contract.
        unsafe { client::get_into(client, program_id, out_buf, len) }
    })
}

/// Returns the access token for `program_id` as a newly allocated NUL-terminated string, or NULL on
/// failure (details in `ky_last_error_message()`). Same caching and blocking as `ky_get_access_token`.
///
/// Ownership: the caller owns the result and must release it with `ky_string_free` (not `free`).
///
/// Thread-safety: safe to call from any number of threads at once.
///
/// # Safety
/// `program_id` is NULL or a readable NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_get_access_token_alloc(program_id: *const c_char) -> *mut c_char {
    pointer_call(|| {
        // SAFETY: forwarded contract.
        unsafe { client::alloc_from(default_client()?, program_id) }
    })
}

/// Overwrites a string returned by `ky_get_access_token_alloc` (or `ky_client_…_alloc`) with
/// zeros, then frees it. `ky_string_free(NULL)` does nothing. The string's contents do not
/// matter: it may have been zeroed or cut short by the caller first.
///
/// # Safety
/// `s` is NULL or a pointer returned by `ky_get_access_token_alloc` that has not been freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_string_free(s: *mut c_char) {
    infallible_call((), || {
        if s.is_null() {
            return;
        }
        // SAFETY: the caller guarantees `s` came from `alloc_token` and is freed once.
        unsafe { boundary::free_token(s) };
    })
}

/// Drops the cached token for `program_id`, so the next get fetches afresh. Call it when WeChat
/// rejects the token (errcode 40001 / 42001). A fetch already in flight still answers the callers
/// waiting on it but does not repopulate the cache. Does no I/O.
///
/// Returns `KY_OK`, or `KY_ERR_INVALID_ARGUMENT` for a NULL/invalid id or a bad configuration.
///
/// Thread-safety: safe to call from any number of threads at once.
///
/// # Safety
/// `program_id` is NULL or a readable NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_invalidate_access_token(program_id: *const c_char) -> ky_status {
    status_call(|| {
        // SAFETY: the caller guarantees `program_id` is NULL or NUL-terminated.
        let id = unsafe { boundary::program_id(program_id) }?;
        default_client()?.invalidate_validated(id);
        Ok(())
    })
}

/// The message of this thread's last failed call, in UTF-8 (upstream `msg` text such as
/// `项目不存在` is kept), or "" after a successful call. Never NULL and never contains the token.
///
/// Ownership: owned by the library, per thread; valid until this thread's next `ky_` call that
/// returns a status or a token. Copy it if you need it longer. Do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn ky_last_error_message() -> *const c_char {
    infallible_call(c"".as_ptr(), last_error::message_ptr)
}

/// The upstream `err` value of this thread's last call if it failed with `KY_ERR_API`, else 0.
#[unsafe(no_mangle)]
pub extern "C" fn ky_last_api_err() -> i64 {
    infallible_call(0, last_error::api_err)
}

/// After `KY_ERR_BUFFER_TOO_SMALL` on this thread: the buffer size (token length + 1 for the NUL)
/// the call needed. 0 after any other outcome.
#[unsafe(no_mangle)]
pub extern "C" fn ky_last_required_size() -> usize {
    infallible_call(0, last_error::required_size)
}

/// The library version, e.g. "0.1.0". Static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn ky_version() -> *const c_char {
    VERSION.as_ptr()
}

/// The name of a status code, e.g. "KY_ERR_NETWORK"; "KY_ERR_UNKNOWN" for a value that is not a
/// status. Static: never free it. Takes `int32_t` so any value from C is safe to pass.
#[unsafe(no_mangle)]
pub extern "C" fn ky_status_name(status: i32) -> *const c_char {
    status_text(status, Status::c_name, c"KY_ERR_UNKNOWN")
}

/// A short English description of a status code, like `curl_easy_strerror`, e.g.
/// "deadline exceeded". Static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn ky_status_description(status: i32) -> *const c_char {
    status_text(status, Status::c_description, c"unknown status code")
}

/// A static text about a status code from its `c_enum!` row, or `unknown` for any other value.
fn status_text(
    code: i32,
    text: fn(Status) -> &'static CStr,
    unknown: &'static CStr,
) -> *const c_char {
    infallible_call(unknown.as_ptr(), || {
        Status::from_code(code).map_or(unknown, text).as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: *const c_char) -> String {
        // SAFETY: every function tested returns a static or thread-local NUL-terminated string.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn version_constants_match_the_package() {
        assert_eq!(text(ky_version()), env!("CARGO_PKG_VERSION"));
        let expected = format!("{KY_VERSION_MAJOR}.{KY_VERSION_MINOR}.{KY_VERSION_PATCH}");
        assert_eq!(expected, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn status_names_cover_every_code_and_unknowns() {
        assert_eq!(text(ky_status_name(0)), "KY_OK");
        assert_eq!(text(ky_status_name(4)), "KY_ERR_TIMEOUT");
        assert_eq!(text(ky_status_name(99)), "KY_ERR_UNKNOWN");
        assert_eq!(text(ky_status_name(-1)), "KY_ERR_UNKNOWN");
        assert_eq!(text(ky_status_description(4)), "deadline exceeded");
        assert_eq!(text(ky_status_description(i32::MIN)), "unknown status code");
    }

    #[test]
    fn invalid_arguments_are_rejected_before_any_io() {
        let mut buf = [0 as c_char; 16];
        // SAFETY: valid or NULL pointers, as the contract allows.
        unsafe {
            assert_eq!(
                ky_get_access_token(std::ptr::null(), buf.as_mut_ptr(), buf.len()),
                ky_status::KY_ERR_INVALID_ARGUMENT
            );
            assert_eq!(text(ky_last_error_message()), "program_id is NULL");
            assert_eq!(
                ky_get_access_token(c"abc".as_ptr(), std::ptr::null_mut(), 8),
                ky_status::KY_ERR_INVALID_ARGUMENT
            );
            assert!(text(ky_last_error_message()).contains("out_buf is NULL"));
            assert_eq!(
                ky_get_access_token(c"../x".as_ptr(), buf.as_mut_ptr(), buf.len()),
                ky_status::KY_ERR_INVALID_ARGUMENT
            );
            assert!(ky_get_access_token_alloc(c"a b".as_ptr()).is_null());
            assert_eq!(
                ky_invalidate_access_token(c"".as_ptr()),
                ky_status::KY_ERR_INVALID_ARGUMENT
            );
            ky_string_free(std::ptr::null_mut());
        }
    }
}
