//! Library threads that may run user callbacks, and survive the host ending them.
//!
//! A managed runtime can end a native thread from inside a callback: CPython calls
//! `pthread_exit` when a thread asks for the GIL while the interpreter finalizes, Mono ends
//! threads of an AppDomain it unloads. `pthread_exit` is a *forced unwind* through our frames.
//! Any `catch_unwind` on the way — including the one at the root of every `std::thread` — catches
//! it, and glibc then aborts the process ("FATAL: exception not rethrown").
//!
//! So on Unix the threads that call user callbacks are plain POSIX threads whose entry point can
//! unwind (`extern "C-unwind"`), and the code between a callback and the thread's root holds no
//! `catch_unwind`: Rust panics are caught around *our* work only. A forced unwind then runs the
//! destructors on its way out (a worker's exit guard among them, so the pool's bookkeeping stays
//! right) and ends the thread the way it ends a C thread. Elsewhere, `std::thread`.
//!
//! Threads are detached: nothing ever joins one (a join on a thread the runtime ended can fail
//! or panic). Whoever needs to wait for them waits on its own counter, with a condition variable.

use std::io;

/// Stack for library threads: TLS handshakes and JSON need more than a small default.
const STACK_SIZE: usize = 2 * 1024 * 1024;

/// Starts a detached thread named `name` running `body`. `body` must not let a Rust panic
/// escape (catch around your own work; never around a user callback).
pub(crate) fn spawn_detached(name: &'static str, body: Box<dyn FnOnce() + Send>) -> io::Result<()> {
    imp::spawn(name, body)
}

#[cfg(unix)]
mod imp {
    use std::ffi::c_void;
    use std::io;

    type Body = Box<dyn FnOnce() + Send>;

    /// The thread's entry point. `C-unwind`: a forced unwind (`pthread_exit` in a callback)
    /// passes through it to glibc's thread start, which ends the thread cleanly.
    extern "C-unwind" fn start(arg: *mut c_void) -> *mut c_void {
        // SAFETY: `arg` is the `Box<Body>` leaked by `spawn`, handed over exactly once.
        let body = unsafe { Box::from_raw(arg.cast::<Body>()) };
        body();
        std::ptr::null_mut()
    }

    pub(super) fn spawn(name: &'static str, body: Body) -> io::Result<()> {
        // Named from inside: a detached thread's handle may be gone by the time we could use it.
        let body: Body = Box::new(move || {
            set_own_name(name);
            body();
        });
        let arg = Box::into_raw(Box::new(body)).cast::<c_void>();
        // SAFETY: plain pthread calls on a zeroed attribute object that we initialise and
        // destroy; `start` has the C ABI pthread_create expects (its unwind table differs only
        // in that it lets a forced unwind through).
        unsafe {
            let mut attr: libc::pthread_attr_t = std::mem::zeroed();
            if libc::pthread_attr_init(&mut attr) != 0 {
                drop(Box::from_raw(arg.cast::<Body>()));
                return Err(io::Error::other("pthread_attr_init failed"));
            }
            let min = libc::PTHREAD_STACK_MIN;
            libc::pthread_attr_setstacksize(&mut attr, super::STACK_SIZE.max(min));
            libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED);
            let entry: extern "C" fn(*mut c_void) -> *mut c_void =
                std::mem::transmute(start as extern "C-unwind" fn(*mut c_void) -> *mut c_void);
            let mut thread: libc::pthread_t = std::mem::zeroed();
            let rc = libc::pthread_create(&mut thread, &attr, entry, arg);
            libc::pthread_attr_destroy(&mut attr);
            if rc != 0 {
                drop(Box::from_raw(arg.cast::<Body>()));
                return Err(io::Error::from_raw_os_error(rc));
            }
        }
        Ok(())
    }

    #[cfg(target_os = "linux")]
    fn set_own_name(name: &'static str) {
        if let Ok(name) = std::ffi::CString::new(name) {
            // SAFETY: names the calling thread; Linux takes up to 15 bytes (ours are shorter).
            unsafe { libc::pthread_setname_np(libc::pthread_self(), name.as_ptr()) };
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn set_own_name(_name: &'static str) {}
}

#[cfg(not(unix))]
mod imp {
    use std::io;

    pub(super) fn spawn(name: &'static str, body: Box<dyn FnOnce() + Send>) -> io::Result<()> {
        std::thread::Builder::new()
            .name(name.into())
            .stack_size(super::STACK_SIZE)
            .spawn(body)
            .map(drop)
    }
}
