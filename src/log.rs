//! The process-wide log sink: one line per upstream request, retry, failure, stale serve and
//! background refresh. Lines name the program id and timings, never a token.
//!
//! A sink is called on whatever thread did the work, while a read lock is held, so that
//! [`set_log_sink`] can promise that no call to the *old* sink is running once it returns (the
//! C caller may free its userdata then). A sink that logs from inside itself, or replaces itself,
//! would deadlock on that lock; a thread-local flag turns both into a no-op / an error instead.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{PoisonError, RwLock};

use crate::error::Error;

crate::c_enum::c_enum! {
    /// Log levels for `ky_set_log_callback`; a callback receives lines at its `min_level` and above.
    pub enum Level as ky_log_level {
        /// Background refreshes started.
        Debug = 0 => KY_LOG_DEBUG, "debug";
        /// Each upstream request that succeeded, with its timing.
        Info = 1 => KY_LOG_INFO, "info";
        /// A failed attempt that will be retried; a stale token served.
        Warn = 2 => KY_LOG_WARN, "warn";
        /// A fetch that failed for good.
        Error = 3 => KY_LOG_ERROR, "error";
    }
}

/// Receives log lines.
pub type LogSink = Box<dyn Fn(Level, &str) + Send + Sync>;

/// `i32::MAX` = no sink installed: the check on every log site is one relaxed load.
static MIN_LEVEL: AtomicI32 = AtomicI32::new(i32::MAX);
static SINK: RwLock<Option<LogSink>> = RwLock::new(None);

thread_local! {
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

/// Installs `sink` for lines at `min_level` and above (replacing any previous one), or removes
/// it with `None`. When this returns, no call to the previous sink is still running.
/// Fails if called from inside a sink.
pub fn set_log_sink(sink: Option<LogSink>, min_level: Level) -> Result<(), Error> {
    if IN_SINK.try_with(Cell::get).unwrap_or(false) {
        return Err(Error::invalid(
            "the log callback cannot be changed from inside the log callback",
        ));
    }
    let mut slot = SINK.write().unwrap_or_else(PoisonError::into_inner);
    let level = if sink.is_some() {
        min_level as i32
    } else {
        i32::MAX
    };
    *slot = sink;
    MIN_LEVEL.store(level, Ordering::Release);
    Ok(())
}

/// True when a line at `level` would be delivered: check before formatting.
#[inline]
pub(crate) fn enabled(level: Level) -> bool {
    (level as i32) >= MIN_LEVEL.load(Ordering::Relaxed)
}

/// Delivers one line (formatted only if a sink wants it). Lines emitted from inside the sink
/// (e.g. a callback that calls back into the library) are dropped rather than deadlock.
pub(crate) fn emit(level: Level, args: fmt::Arguments<'_>) {
    if !enabled(level) || IN_SINK.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    let line = args.to_string();
    let sink = SINK.read().unwrap_or_else(PoisonError::into_inner);
    if let Some(sink) = sink.as_ref() {
        let _ = IN_SINK.try_with(|f| f.set(true));
        // A panicking Rust sink must not take the library down with it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(level, &line)));
        let _ = IN_SINK.try_with(|f| f.set(false));
    }
}

macro_rules! log_line {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::emit($level, format_args!($($arg)*));
        }
    };
}
pub(crate) use log_line;
