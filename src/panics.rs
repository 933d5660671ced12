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

/// Runs `body`, catching a panic quietly; `Err` carries the panic's message.
pub(crate) fn guarded<R>(body: impl FnOnce() -> R) -> Result<R, String> {
    install_hook();
    let _ = DEPTH.try_with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(body));
    let _ = DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
    result.map_err(|payload| {
        let message = message(payload.as_ref());
        crate::log::log_line!(
            crate::log::Level::Error,
            "internal error (caught panic: {message}); please report this bug"
        );
        message
    })
}

fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".to_owned())
}
