//! Caught panics stay quiet. A panic inside the library is a bug, but the host's stdout and
//! stderr are not ours to write to (a game server's log, a Unity console): the default panic
//! hook would print the message and maybe a backtrace there before our `catch_unwind` reports
//! it as `KY_ERR_INTERNAL`. So library code runs inside [`guarded`], and a process-wide hook,
//! installed once, stays silent for panics raised there and hands every other panic to the hook
//! that was installed before it (a Rust program linking this crate keeps its own behaviour).
//! The message still reaches the caller: in the status's message and in the log callback.

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    /// How many [`guarded`] calls this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

fn install_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if DEPTH.try_with(Cell::get).unwrap_or(0) == 0 {
                previous(info);
            }
        }));
    });
}

/// Runs `body` as library code: a panic raised inside prints nothing (it is still a panic;
/// whoever catches it reports it).
pub(crate) fn quiet<R>(body: impl FnOnce() -> R) -> R {
    /// Leaves the quiet region however `body` ends, unwinding included.
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            let _ = DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
        }
    }
    install_hook();
    let _ = DEPTH.try_with(|d| d.set(d.get() + 1));
    let _leave = Leave;
    body()
}

/// Runs `body` as library code, catching a panic quietly; `Err` carries the panic's message,
/// which is also logged.
pub(crate) fn guarded<R>(body: impl FnOnce() -> R) -> Result<R, String> {
    quiet(|| catch_unwind(AssertUnwindSafe(body))).map_err(|payload| {
        let message = message(payload.as_ref());
        crate::log::log_line!(
            crate::log::Level::Error,
            "internal error (caught panic: {message}); please report this bug"
        );
        message
    })
}

/// Catches a panic without marking the region quiet: for the cache-hit path, which must not
/// pay for the marker. Everything it calls beyond the hit runs inside [`quiet`] (see
/// `Cache::with_token`); the hit itself does no arithmetic or indexing that can panic.
#[inline]
pub(crate) fn caught<R>(body: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(body)).map_err(|payload| message(payload.as_ref()))
}

fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".to_owned())
}
