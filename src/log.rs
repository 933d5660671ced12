//! The process-wide log sink: one line per upstream request, retry, failure, stale serve and
//! background refresh. Lines name the program id and timings, never a token.
//!
//! A sink is called on whatever thread did the work, with no library lock held: a sink may call
//! back into the library, even wait for a fetch that another thread leads, while a third thread
//! replaces the sink. [`set_log_sink`] still promises that no call to the *old* sink is running
//! once it returns (the C caller may free its userdata then): every call is counted in and out
//! of the sink it uses, and the replacement waits for the old sink's count to reach zero. A sink
//! that logs from inside itself is ignored (the line is dropped); one that replaces itself gets
//! an error, since it would wait for itself.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, TryLockError};

use crate::error::Error;
use crate::fork::ForkLocal;

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

/// A sink as installed: shared, so a forked child can keep it with a fresh call count.
pub(crate) type SharedSink = Arc<dyn Fn(Level, &str) + Send + Sync>;

/// An installed sink and the calls into it now running.
struct Installed {
    sink: SharedSink,
    calls: AtomicUsize,
    lock: Mutex<()>,
    idle: Condvar,
}

impl Installed {
    fn new(sink: SharedSink) -> Arc<Installed> {
        Arc::new(Installed {
            sink,
            calls: AtomicUsize::new(0),
            lock: Mutex::new(()),
            idle: Condvar::new(),
        })
    }

    /// Waits until no call into this sink is running.
    fn wait_idle(&self) {
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        while self.calls.load(Ordering::Acquire) > 0 {
            guard = self
                .idle
                .wait(guard)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Counts a call out of its sink however the call ends (a host may end the thread inside it).
struct Call(Arc<Installed>);

impl Drop for Call {
    fn drop(&mut self) {
        let _ = IN_SINK.try_with(|f| f.set(false));
        if self.0.calls.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _guard = self.0.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.0.idle.notify_all();
        }
    }
}

/// `i32::MAX` = no sink installed: the check on every log site is one relaxed load.
static MIN_LEVEL: AtomicI32 = AtomicI32::new(i32::MAX);

type Slot = Mutex<Option<Arc<Installed>>>;

/// The installed sink, per process: a forked child keeps the sink but not the parent's count of
/// running calls (their threads do not exist there), nor a lock one of them may hold.
fn slot() -> &'static Slot {
    static SLOT: OnceLock<ForkLocal<Slot>> = OnceLock::new();
    SLOT.get_or_init(|| ForkLocal::new(Mutex::new(None)))
        .get(|parent| {
            let inherited = match parent.try_lock() {
                Ok(guard) => guard.clone(),
                Err(TryLockError::Poisoned(p)) => p.into_inner().clone(),
                Err(TryLockError::WouldBlock) => None,
            };
            if inherited.is_none() {
                MIN_LEVEL.store(i32::MAX, Ordering::Release);
            }
            Mutex::new(inherited.map(|old| Installed::new(Arc::clone(&old.sink))))
        })
}

thread_local! {
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

/// Installs `sink` for lines at `min_level` and above (replacing any previous one), or removes
/// it with `None`. When this returns, no call to the previous sink is still running (this waits
/// for running calls to return). Fails if called from inside a sink. A panic in `sink` is caught.
pub fn set_log_sink(sink: Option<LogSink>, min_level: Level) -> Result<(), Error> {
    let sink = sink.map(|sink| {
        Arc::new(move |level: Level, line: &str| {
            let _ = crate::panics::guarded(|| sink(level, line));
        }) as SharedSink
    });
    replace_sink(sink, min_level)
}

/// [`set_log_sink`] without the panic guard, for the C boundary: a C callback cannot panic, and
/// a host that ends the thread inside it must be able to unwind through (see `client::spawn`).
pub(crate) fn replace_sink(sink: Option<SharedSink>, min_level: Level) -> Result<(), Error> {
    if IN_SINK.try_with(Cell::get).unwrap_or(false) {
        return Err(Error::invalid(
            "the log callback cannot be changed from inside the log callback",
        ));
    }
    let level = if sink.is_some() {
        min_level as i32
    } else {
        i32::MAX
    };
    let previous = {
        let mut slot = slot().lock().unwrap_or_else(PoisonError::into_inner);
        MIN_LEVEL.store(level, Ordering::Release);
        std::mem::replace(&mut *slot, sink.map(Installed::new))
    };
    // Outside the slot lock: a running call may log again (dropped) or fetch meanwhile.
    if let Some(previous) = previous {
        previous.wait_idle();
    }
    Ok(())
}

/// True when a line at `level` would be delivered: check before formatting.
#[inline]
pub(crate) fn enabled(level: Level) -> bool {
    (level as i32) >= MIN_LEVEL.load(Ordering::Relaxed)
}

/// Delivers one line (formatted only if a sink wants it). Lines emitted from inside the sink
/// (e.g. a callback that calls back into the library) are dropped rather than recurse.
pub(crate) fn emit(level: Level, args: fmt::Arguments<'_>) {
    if !enabled(level) || IN_SINK.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    let line = args.to_string();
    let call = {
        let slot = slot().lock().unwrap_or_else(PoisonError::into_inner);
        let Some(installed) = slot.as_ref() else {
            return;
        };
        // Counted in under the slot lock: a replacement either sees this call or is seen by it.
        installed.calls.fetch_add(1, Ordering::AcqRel);
        Call(Arc::clone(installed))
    };
    let _ = IN_SINK.try_with(|f| f.set(true));
    (call.0.sink)(level, &line);
    drop(call);
}

macro_rules! log_line {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::emit($level, format_args!($($arg)*));
        }
    };
}
pub(crate) use log_line;
