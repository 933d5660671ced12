//! Per-thread details of the last failed call, read back with `ky_last_error_message`,
//! `ky_last_api_err` and `ky_last_required_size`.
//!
//! Thread-local so concurrent callers never see each other's errors and the hot (successful) path
//! takes no lock: clearing is one flag check when there is nothing to clear.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};

use crate::error::Error;

struct LastError {
    message: Option<CString>,
    api_err: i64,
    required_size: usize,
}

thread_local! {
    static LAST: RefCell<LastError> = const {
        RefCell::new(LastError { message: None, api_err: 0, required_size: 0 })
    };
}

/// The failure's message as C reads it.
pub(crate) fn c_message(error: &Error) -> CString {
    // Messages are NUL-free by construction; the replace is belt and braces for C.
    CString::new(error.message().replace('\0', "\\0")).unwrap_or_default()
}

/// Records a failure on this thread.
pub(crate) fn set(error: &Error, required_size: usize) {
    let message = c_message(error);
    let _ = LAST.try_with(|last| {
        *last.borrow_mut() = LastError {
            message: Some(message),
            api_err: error.api_err(),
            required_size,
        };
    });
}

/// Forgets the last failure (after a successful call).
pub(crate) fn clear() {
    let _ = LAST.try_with(|last| {
        let mut last = last.borrow_mut();
        if last.message.is_some() {
            *last = LastError {
                message: None,
                api_err: 0,
                required_size: 0,
            };
        }
    });
}

/// The message of this thread's last failure, or "" — never NULL. The pointer stays valid until
/// this thread's next status-returning `ky_` call.
pub(crate) fn message_ptr() -> *const c_char {
    const EMPTY: &CStr = c"";
    LAST.try_with(|last| {
        last.borrow()
            .message
            .as_ref()
            .map_or(EMPTY.as_ptr(), |m| m.as_ptr())
    })
    .unwrap_or(EMPTY.as_ptr())
}

pub(crate) fn api_err() -> i64 {
    LAST.try_with(|last| last.borrow().api_err).unwrap_or(0)
}

pub(crate) fn required_size() -> usize {
    LAST.try_with(|last| last.borrow().required_size)
        .unwrap_or(0)
}
