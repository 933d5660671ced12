//! The C status enum. Numbers are the published contract: append, never renumber.

use crate::error::Status;

/// Status code returned by every fallible `ky_*` function.
///
/// `KY_OK` (0) is success; anything else is a failure whose details are in
/// `ky_last_error_message()` on the same thread. Codes are never renumbered; new ones may be added,
/// so treat unknown non-zero values as failures (`ky_status_name` names them "KY_ERR_UNKNOWN").
#[repr(i32)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ky_status {
    /// Success.
    KY_OK = 0,
    /// NULL or malformed argument (program id, buffer), or a bad configuration value. No I/O was done.
    KY_ERR_INVALID_ARGUMENT = 1,
    /// `out_buf` cannot hold the token and its NUL; `ky_last_required_size()` says how many bytes it needs.
    KY_ERR_BUFFER_TOO_SMALL = 2,
    /// Connection refused or reset, DNS failure, proxy failure.
    KY_ERR_NETWORK = 3,
    /// The whole-call deadline (`KY_TIMEOUT_MS`, retries included) passed.
    KY_ERR_TIMEOUT = 4,
    /// TLS handshake or certificate verification failed.
    KY_ERR_TLS = 5,
    /// The server answered a non-2xx HTTP status (3xx included: redirects are not followed).
    KY_ERR_HTTP_STATUS = 6,
    /// The API answered `err != 0`; see `ky_last_api_err()` and the message (upstream `msg`).
    KY_ERR_API = 7,
    /// The answer was not the documented JSON, had no usable token, or exceeded 1 MiB.
    KY_ERR_BAD_RESPONSE = 8,
    /// A bug in this library (a caught panic). The host process is unaffected; please report it.
    KY_ERR_INTERNAL = 9,
    /// `ky_client_get_access_token_async` only: the client was being freed, so the call was not run.
    KY_ERR_CANCELLED = 10,
    /// `ky_client_get_access_token_async` only: too many calls are queued on this client (more than
    /// `KY_MAX_QUEUED_ASYNC`); nothing was queued. Try again later.
    KY_ERR_BUSY = 11,
}

impl From<Status> for ky_status {
    fn from(status: Status) -> ky_status {
        match status {
            Status::Ok => ky_status::KY_OK,
            Status::InvalidArgument => ky_status::KY_ERR_INVALID_ARGUMENT,
            Status::BufferTooSmall => ky_status::KY_ERR_BUFFER_TOO_SMALL,
            Status::Network => ky_status::KY_ERR_NETWORK,
            Status::Timeout => ky_status::KY_ERR_TIMEOUT,
            Status::Tls => ky_status::KY_ERR_TLS,
            Status::HttpStatus => ky_status::KY_ERR_HTTP_STATUS,
            Status::Api => ky_status::KY_ERR_API,
            Status::BadResponse => ky_status::KY_ERR_BAD_RESPONSE,
            Status::Internal => ky_status::KY_ERR_INTERNAL,
            Status::Cancelled => ky_status::KY_ERR_CANCELLED,
            Status::Busy => ky_status::KY_ERR_BUSY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_codes_equal_rust_codes() {
        for status in Status::ALL {
            assert_eq!(ky_status::from(status) as i32, status.code());
            assert_eq!(format!("{:?}", ky_status::from(status)), status.name());
        }
    }
}
