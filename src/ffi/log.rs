//! `ky_set_log_callback`: the C face of the process-wide log sink.

use std::ffi::{CString, c_char, c_void};

use super::boundary::status_call;
use super::status::{ky_log_level, ky_status};
use crate::error::Error;
use crate::log::{Level, SharedSink, replace_sink};
use std::sync::Arc;

/// Receives one log line: `level`, the NUL-terminated UTF-8 `line` (valid only during the call;
/// it names the program id and timings and never contains a token), and the registered userdata.
/// Called on whichever thread did the work, possibly several at once. It must not unwind; it may
/// call `ky_*` functions, but lines those produce are dropped, and it may not call
/// `ky_set_log_callback` (that returns `KY_ERR_INVALID_ARGUMENT`).
pub type ky_log_callback =
    Option<unsafe extern "C" fn(level: ky_log_level, line: *const c_char, userdata: *mut c_void)>;

/// The callback as it is called: `C-unwind`, so a host runtime that ends the thread inside it
/// unwinds through our frames instead of aborting the process (see `client::spawn`).
type LogCallbackUnwind = unsafe extern "C-unwind" fn(ky_log_level, *const c_char, *mut c_void);

struct UserData(*mut c_void);
// SAFETY: only passed back to the caller's callback; the caller allowed any thread.
unsafe impl Send for UserData {}
// SAFETY: as above; the library never dereferences it.
unsafe impl Sync for UserData {}

/// Installs a process-wide log callback for lines at `min_level` (a `ky_log_level`) and above,
/// replacing any previous one; NULL removes it. One line per upstream request, retry, failure,
/// stale token served and background refresh.
///
/// When this returns, no call to the previous callback is still running, so its userdata may be
/// freed. Returns `KY_ERR_INVALID_ARGUMENT` for an unknown level or when called from inside the
/// log callback.
///
/// # Safety
/// `callback` is NULL or a function matching `ky_log_callback`; `userdata` stays valid until the
/// callback is replaced or removed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_set_log_callback(
    callback: ky_log_callback,
    userdata: *mut c_void,
    min_level: i32,
) -> ky_status {
    status_call(|| {
        let level = Level::from_code(min_level).ok_or_else(|| {
            Error::invalid(format!(
                "min_level {min_level} is not a ky_log_level (KY_LOG_DEBUG 0 … KY_LOG_ERROR 3)"
            ))
        })?;
        let sink = callback.map(|callback| {
            // SAFETY: only the unwind annotation differs (see `LogCallbackUnwind`).
            let callback: LogCallbackUnwind = unsafe { std::mem::transmute(callback) };
            let userdata = UserData(userdata);
            Arc::new(move |level: Level, line: &str| {
                let userdata = &userdata;
                if let Ok(line) = CString::new(line) {
                    // SAFETY: the caller's function, called as documented.
                    unsafe { callback(level, line.as_ptr(), userdata.0) };
                }
            }) as SharedSink
        });
        replace_sink(sink, level)?;
        Ok(())
    })
}
