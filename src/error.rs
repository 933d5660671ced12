//! The error type every layer returns, and the status families it belongs to.
//!
//! A message says what went wrong and what to check; it never contains a token. Messages that
//! quote upstream text (`msg`) or configuration values pass through [`sanitize`] so a C caller
//! always gets printable, NUL-free, bounded text.

use std::ffi::CStr;
use std::fmt;

/// What kind of failure an [`Error`] is. The numbers are the C ABI's status codes (`KY_ERR_*`)
/// and never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Success (`KY_OK`). Never carried by an [`Error`]; listed so the mapping is total.
    Ok = 0,
    /// A program id, pointer, buffer or configuration value is unusable. Nothing was sent.
    InvalidArgument = 1,
    /// The caller's buffer cannot hold the token and its NUL.
    BufferTooSmall = 2,
    /// Connecting failed: refused, reset, unreachable, DNS, proxy.
    Network = 3,
    /// The whole-call deadline passed (retries included).
    Timeout = 4,
    /// The TLS handshake or the server's certificate was rejected.
    Tls = 5,
    /// The server answered with a non-2xx HTTP status (redirects included: they are not followed).
    HttpStatus = 6,
    /// The API answered `err != 0`; see [`Error::api_err`].
    Api = 7,
    /// The answer was not the documented JSON (malformed, missing token, too large…).
    BadResponse = 8,
    /// A bug in this library (a caught panic, a poisoned lock). Please report it.
    Internal = 9,
    /// The client was being freed before the asynchronous call could run.
    Cancelled = 10,
    /// Too many asynchronous calls are queued on this client; try again later.
    Busy = 11,
}

impl Status {
    /// Every status, in numeric order.
    pub const ALL: [Status; 12] = [
        Status::Ok,
        Status::InvalidArgument,
        Status::BufferTooSmall,
        Status::Network,
        Status::Timeout,
        Status::Tls,
        Status::HttpStatus,
        Status::Api,
        Status::BadResponse,
        Status::Internal,
        Status::Cancelled,
        Status::Busy,
    ];

    /// The status for a C status code, if it is one.
    pub fn from_code(code: i32) -> Option<Status> {
        Status::ALL.get(usize::try_from(code).ok()?).copied()
    }

    /// The C constant's name, e.g. `"KY_ERR_NETWORK"`.
    pub fn name(self) -> &'static str {
        self.c_name().to_str().unwrap_or_default()
    }

    /// A short English description, like `curl_easy_strerror`.
    pub fn description(self) -> &'static str {
        self.c_description().to_str().unwrap_or_default()
    }

    /// The C ABI code.
    pub fn code(self) -> i32 {
        self as i32
    }

    pub(crate) fn c_name(self) -> &'static CStr {
        match self {
            Status::Ok => c"KY_OK",
            Status::InvalidArgument => c"KY_ERR_INVALID_ARGUMENT",
            Status::BufferTooSmall => c"KY_ERR_BUFFER_TOO_SMALL",
            Status::Network => c"KY_ERR_NETWORK",
            Status::Timeout => c"KY_ERR_TIMEOUT",
            Status::Tls => c"KY_ERR_TLS",
            Status::HttpStatus => c"KY_ERR_HTTP_STATUS",
            Status::Api => c"KY_ERR_API",
            Status::BadResponse => c"KY_ERR_BAD_RESPONSE",
            Status::Internal => c"KY_ERR_INTERNAL",
            Status::Cancelled => c"KY_ERR_CANCELLED",
            Status::Busy => c"KY_ERR_BUSY",
        }
    }

    pub(crate) fn c_description(self) -> &'static CStr {
        match self {
            Status::Ok => c"success",
            Status::InvalidArgument => c"invalid argument or configuration",
            Status::BufferTooSmall => c"output buffer too small for the token",
            Status::Network => c"network error (connection refused or reset, DNS, proxy)",
            Status::Timeout => c"deadline exceeded",
            Status::Tls => c"TLS handshake or certificate verification failed",
            Status::HttpStatus => c"unexpected HTTP status",
            Status::Api => c"the access-token API reported an error (err != 0)",
            Status::BadResponse => c"malformed or oversized response",
            Status::Internal => c"internal error in ky_access_token",
            Status::Cancelled => c"cancelled: the client was freed before the call ran",
            Status::Busy => c"too many asynchronous calls queued",
        }
    }
}

/// A failed call: its [`Status`], a specific message, and the upstream `err` for [`Status::Api`].
///
/// `Clone` because one upstream failure is handed to every caller that waited on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: String,
    api_err: i64,
    retryable: bool,
}

impl Error {
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Error {
        debug_assert!(status != Status::Ok, "an Error cannot carry KY_OK");
        Error {
            status,
            message: message.into(),
            api_err: 0,
            retryable: false,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::new(Status::InvalidArgument, message)
    }

    pub(crate) fn bad_response(message: impl Into<String>) -> Error {
        Error::new(Status::BadResponse, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Error {
        Error::new(Status::Internal, message)
    }

    pub(crate) fn api(api_err: i64, message: impl Into<String>) -> Error {
        Error {
            api_err,
            ..Error::new(Status::Api, message)
        }
    }

    /// Marks a failure that another attempt may cure (network errors, 5xx).
    pub(crate) fn retryable(mut self) -> Error {
        self.retryable = true;
        self
    }

    pub(crate) fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// Prefixes context, e.g. the number of attempts made.
    pub(crate) fn with_suffix(mut self, suffix: &str) -> Error {
        self.message.push_str(suffix);
        self
    }

    /// The status family.
    pub fn status(&self) -> Status {
        self.status
    }

    /// A specific, human-readable message (never contains a token).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The upstream `err` for [`Status::Api`], otherwise 0.
    pub fn api_err(&self) -> i64 {
        self.api_err
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status.name(), self.message)
    }
}

impl std::error::Error for Error {}

/// Text from outside (upstream `msg`, an environment value) made safe to quote: control
/// characters escaped, NUL impossible, at most `max_chars` characters of output (escapes
/// included) plus a closing `…` when cut.
pub(crate) fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut count = 0;
    for c in text.chars() {
        let escaped: String = if c.is_control() {
            c.escape_default().collect()
        } else {
            c.to_string()
        };
        let width = escaped.chars().count();
        if count + width > max_chars {
            out.push('…');
            break;
        }
        out.push_str(&escaped);
        count += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_published_contract() {
        let expected = [
            ("KY_OK", 0),
            ("KY_ERR_INVALID_ARGUMENT", 1),
            ("KY_ERR_BUFFER_TOO_SMALL", 2),
            ("KY_ERR_NETWORK", 3),
            ("KY_ERR_TIMEOUT", 4),
            ("KY_ERR_TLS", 5),
            ("KY_ERR_HTTP_STATUS", 6),
            ("KY_ERR_API", 7),
            ("KY_ERR_BAD_RESPONSE", 8),
            ("KY_ERR_INTERNAL", 9),
            ("KY_ERR_CANCELLED", 10),
            ("KY_ERR_BUSY", 11),
        ];
        for (status, (name, code)) in Status::ALL.iter().zip(expected) {
            assert_eq!(status.name(), name);
            assert_eq!(status.code(), code);
            assert_eq!(Status::from_code(code), Some(*status));
            assert!(!status.description().is_empty());
        }
        assert_eq!(Status::from_code(12), None);
        assert_eq!(Status::from_code(-1), None);
    }

    #[test]
    fn sanitize_escapes_controls_and_bounds_length() {
        assert_eq!(sanitize("项目不存在", 100), "项目不存在");
        assert_eq!(sanitize("a\0b\nc", 100), "a\\u{0}b\\nc");
        assert_eq!(sanitize("abcdef", 3), "abc…");
        // The bound is on what is written: escapes count.
        let controls = "\u{1}".repeat(200);
        let out = sanitize(&controls, 20);
        assert!(out.chars().count() <= 21, "{out}");
        assert!(out.ends_with('…'));
    }

    #[test]
    fn display_names_the_status() {
        let e = Error::api(40013, "项目不存在");
        assert_eq!(e.to_string(), "KY_ERR_API: 项目不存在");
        assert_eq!(e.api_err(), 40013);
        assert!(!e.is_retryable());
    }
}
