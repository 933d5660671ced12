//! The error type every layer returns, and the status families it belongs to.
//!
//! A message says what went wrong and what to check; it never contains a token. Messages that
//! quote upstream text (`msg`) or configuration values pass through [`sanitize`] so a C caller
//! always gets printable, NUL-free, bounded text.

use std::fmt;

crate::c_enum::c_enum! {
    /// Status code returned by every fallible `ky_*` function (in Rust: the kind of an `Error`).
    ///
    /// `KY_OK` (0) is success; anything else is a failure whose details are in
    /// `ky_last_error_message()` on the same thread. Codes are never renumbered; new ones may be added,
    /// so treat unknown non-zero values as failures (`ky_status_name` names them "KY_ERR_UNKNOWN").
    pub enum Status as ky_status {
        /// Success.
        Ok = 0 => KY_OK, "success";
        /// NULL or malformed argument (program id, buffer), or a bad configuration value. No I/O was done.
        InvalidArgument = 1 => KY_ERR_INVALID_ARGUMENT, "invalid argument or configuration";
        /// `out_buf` cannot hold the token and its NUL; `ky_last_required_size()` says how many bytes it needs.
        BufferTooSmall = 2 => KY_ERR_BUFFER_TOO_SMALL, "output buffer too small for the token";
        /// Connection refused or reset, DNS failure, proxy failure.
        Network = 3 => KY_ERR_NETWORK, "network error (connection refused or reset, DNS, proxy)";
        /// The whole-call deadline (`KY_TIMEOUT_MS`, retries included) passed.
        Timeout = 4 => KY_ERR_TIMEOUT, "deadline exceeded";
        /// TLS handshake or certificate verification failed.
        Tls = 5 => KY_ERR_TLS, "TLS handshake or certificate verification failed";
        /// The server answered a non-2xx HTTP status (3xx included: redirects are not followed).
        HttpStatus = 6 => KY_ERR_HTTP_STATUS, "unexpected HTTP status";
        /// The API answered `err != 0`; see `ky_last_api_err()` and the message (upstream `msg`).
        Api = 7 => KY_ERR_API, "the access-token API reported an error (err != 0)";
        /// The answer was not the documented JSON, had no usable token, or exceeded 1 MiB.
        BadResponse = 8 => KY_ERR_BAD_RESPONSE, "malformed or oversized response";
        /// A bug in this library (a caught panic). The host process is unaffected; please report it.
        Internal = 9 => KY_ERR_INTERNAL, "internal error in ky_access_token";
        /// `ky_client_get_access_token_async` only: the client was being freed, so the call was not run.
        Cancelled = 10 => KY_ERR_CANCELLED, "cancelled: the client was freed before the call ran";
        /// `ky_client_get_access_token_async` only: too many calls are queued on this client (more than
        /// `KY_MAX_QUEUED_ASYNC`); nothing was queued. Try again later.
        Busy = 11 => KY_ERR_BUSY, "too many asynchronous calls queued";
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

    /// Appends context, e.g. the number of attempts made.
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
