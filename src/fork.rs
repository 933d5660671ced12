//! Fork safety. After `fork()` the child has one thread and a copy of every byte of the parent:
//! pooled keep-alive connections shared with the parent (a response read by the child is one the
//! parent is waiting for: another program's token), flights whose leader thread does not exist,
//! worker and background threads that do not exist, and locks that a vanished thread may hold
//! forever.
//!
//! The library does not try to repair that state. A `pthread_atfork` child handler bumps a
//! process-wide *fork generation* (one atomic add: nothing else is safe there), and every piece
//! of state that cannot cross a fork lives in a [`ForkLocal`]: the first use in the child finds
//! the generation changed and swaps in a fresh value, built without locking the old one (a
//! vanished thread may hold its lock). The old value is leaked on purpose: dropping it could
//! close or write to connections the parent still uses, or detach threads that do not exist.
//! One leak per fork and client, in pages the child shares copy-on-write with the parent.
//!
//! The cache-hit path never looks at any of this: a token cached before the fork is still the
//! right token for its program id in the child.

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// Bumped in the child by the `pthread_atfork` handler.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The current fork generation: 0 in the original process, +1 in each forked child.
#[inline]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

#[cfg(unix)]
extern "C" fn in_child() {
    // Async-signal-safe: a lock-free atomic add, and the unlock of a mutex this very thread
    // locked in `before_fork` (the usual pthread_atfork pairing).
    GENERATION.fetch_add(1, Ordering::Relaxed);
    making::after_fork();
}

/// Registers the fork handlers, once per process. glibc ties the registration to this shared
/// object (`__dso_handle`) and drops it if the library is unloaded.
pub(crate) fn watch() {
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: registering plain `extern "C"` functions that cannot unwind.
            unsafe {
                libc::pthread_atfork(
                    Some(making::before_fork),
                    Some(making::after_fork_in_parent),
                    Some(in_child),
                )
            };
        });
    }
}

/// Held while the process default client is being made: a `fork()` on another thread waits
/// for the making to end. The making runs inside a `OnceLock`, and a child forked in the middle
/// of it would inherit a lock that is "being initialised" by a thread it does not have: its
/// first call would wait forever.
pub(crate) struct Making {
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Starts a making of the default client (see [`Making`]); forks wait until it is dropped.
pub(crate) fn hold_off_forks() -> Making {
    // Registered before the lock is taken: glibc holds its handler-list lock while it runs
    // `before_fork`, so registering with the lock held could wait on a fork waiting on us.
    watch();
    #[cfg(unix)]
    making::lock_as_maker();
    Making {
        _not_send: std::marker::PhantomData,
    }
}

impl Drop for Making {
    fn drop(&mut self) {
        #[cfg(unix)]
        making::unlock_as_maker();
    }
}

#[cfg(unix)]
mod making {
    use std::cell::{Cell, UnsafeCell};

    /// A plain pthread mutex: locked and unlocked around fork by the same thread, which is what
    /// pthread_atfork handlers are for.
    struct Lock(UnsafeCell<libc::pthread_mutex_t>);
    // SAFETY: a pthread mutex is made to be shared between threads.
    unsafe impl Sync for Lock {}

    static LOCK: Lock = Lock(UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER));

    const NONE: u8 = 0;
    const MAKER: u8 = 1;
    const FORKING: u8 = 2;

    thread_local! {
        /// Why this thread holds `LOCK`, if it does. No destructor: safe to read in fork handlers.
        static HELD: Cell<u8> = const { Cell::new(NONE) };
    }

    fn held() -> u8 {
        HELD.try_with(Cell::get).unwrap_or(NONE)
    }

    fn set_held(why: u8) {
        let _ = HELD.try_with(|h| h.set(why));
    }

    pub(super) fn lock_as_maker() {
        // SAFETY: a valid, statically initialised mutex, which this thread does not hold: a
        // making runs no user code on this thread (no log line, no callback; a prefetch list
        // starts its own thread), so nothing inside it can reach `default_client` again.
        unsafe { libc::pthread_mutex_lock(LOCK.0.get()) };
        set_held(MAKER);
    }

    pub(super) fn unlock_as_maker() {
        set_held(NONE);
        // SAFETY: locked by this thread in `lock_as_maker`.
        unsafe { libc::pthread_mutex_unlock(LOCK.0.get()) };
    }

    /// `pthread_atfork` prepare handler: waits for a making on another thread to end. A maker
    /// that forks from inside its own making (from a callback) goes on: it cannot wait for itself,
    /// and the child, a copy of this very thread, finishes the making.
    pub(super) extern "C" fn before_fork() {
        if held() == MAKER {
            return;
        }
        // SAFETY: as in `lock_as_maker`.
        unsafe { libc::pthread_mutex_lock(LOCK.0.get()) };
        set_held(FORKING);
    }

    pub(super) extern "C" fn after_fork_in_parent() {
        after_fork();
    }

    /// Parent and child handler: releases what `before_fork` took on this thread.
    pub(super) fn after_fork() {
        if held() == FORKING {
            set_held(NONE);
            // SAFETY: locked by this thread in `before_fork`.
            unsafe { libc::pthread_mutex_unlock(LOCK.0.get()) };
        }
    }
}

/// Values left behind by a fork, kept reachable from a static (a leak on purpose should not look
/// like one to a leak checker). A lock-free stack: a lock might be held by a vanished thread.
struct Grave {
    _item: *mut u8,
    next: *mut Grave,
}

static GRAVEYARD: AtomicPtr<Grave> = AtomicPtr::new(std::ptr::null_mut());

fn bury(item: *mut u8) {
    let grave = Box::into_raw(Box::new(Grave {
        _item: item,
        next: std::ptr::null_mut(),
    }));
    let mut head = GRAVEYARD.load(Ordering::Acquire);
    loop {
        // SAFETY: `grave` is ours until the swap publishes it.
        unsafe { (*grave).next = head };
        match GRAVEYARD.compare_exchange_weak(head, grave, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(actual) => head = actual,
        }
    }
}

struct Slot<T> {
    generation: u64,
    value: T,
}

/// A value that a forked child replaces with a fresh one on first use (see the module docs).
pub(crate) struct ForkLocal<T> {
    current: AtomicPtr<Slot<T>>,
}

// SAFETY: `ForkLocal` hands out `&T` only; it is as thread-safe as `T` itself.
unsafe impl<T: Send + Sync> Send for ForkLocal<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for ForkLocal<T> {}

impl<T> ForkLocal<T> {
    pub(crate) fn new(value: T) -> ForkLocal<T> {
        watch();
        let slot = Box::new(Slot {
            generation: generation(),
            value,
        });
        ForkLocal {
            current: AtomicPtr::new(Box::into_raw(slot)),
        }
    }

    /// The value for this process. In a forked child, the first call builds a fresh one with
    /// `fresh`, which may look at the parent's value but must not block on its locks (use
    /// `try_lock`/`try_read` and start empty when they fail).
    #[inline]
    pub(crate) fn get(&self, fresh: impl FnOnce(&T) -> T) -> &T {
        let now = generation();
        let slot = self.current.load(Ordering::Acquire);
        // SAFETY: slots are freed only in `drop` (current) or never (replaced ones are leaked),
        // so a pointer loaded from `current` is valid for as long as `self` is.
        let slot_ref = unsafe { &*slot };
        if slot_ref.generation == now {
            return &slot_ref.value;
        }
        let replacement = Box::into_raw(Box::new(Slot {
            generation: now,
            value: fresh(&slot_ref.value),
        }));
        match self
            .current
            .compare_exchange(slot, replacement, Ordering::AcqRel, Ordering::Acquire)
        {
            // The parent's value is leaked (see the module docs).
            Ok(_) => {
                bury(slot.cast());
                // SAFETY: `replacement` is now `current`, valid until `drop`.
                unsafe { &(*replacement).value }
            }
            Err(_) => {
                // Another thread of the child swapped first: use its value.
                // SAFETY: `replacement` was never shared.
                drop(unsafe { Box::from_raw(replacement) });
                self.get(fresh_never)
            }
        }
    }

    /// True when this value was made in this process (no fork since).
    #[cfg(test)]
    pub(crate) fn is_current(&self) -> bool {
        // SAFETY: as in `get`.
        unsafe { &*self.current.load(Ordering::Acquire) }.generation == generation()
    }
}

/// For the retry in [`ForkLocal::get`]: the winner's value has this generation, or a newer fork
/// happened meanwhile, which only a child of this child could see.
fn fresh_never<T>(_: &T) -> T {
    unreachable!("a fork generation changed twice during one call")
}

impl<T> Drop for ForkLocal<T> {
    fn drop(&mut self) {
        let slot = *self.current.get_mut();
        // SAFETY: `current` came from `Box::into_raw` and is dropped once, here. A value made in
        // another process (the parent) is leaked instead, as in `get`.
        let slot = unsafe { Box::from_raw(slot) };
        if slot.generation == generation() {
            drop(slot);
        } else {
            bury(Box::into_raw(slot).cast());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_without_a_fork() {
        let local = ForkLocal::new(5u32);
        assert_eq!(*local.get(|_| 6), 5);
        assert!(local.is_current());
    }

    #[cfg(unix)]
    #[test]
    fn a_forked_child_gets_a_fresh_value() {
        let local = ForkLocal::new(std::sync::Mutex::new(1u32));
        // A lock held at the fork stays held in the child: the fresh value must not need it.
        let held = local.get(|_| unreachable!()).lock().unwrap();
        // SAFETY: the child only touches atomics and the allocator, then `_exit`s.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let fresh = local.get(|old| std::sync::Mutex::new(old.try_lock().map_or(2, |v| *v)));
            let ok = *fresh.lock().unwrap() == 2 && local.is_current();
            // SAFETY: ends the child without running the parent's test harness.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        drop(held);
        let mut status = 0;
        // SAFETY: waiting for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        assert_eq!(*local.get(|_| unreachable!()).lock().unwrap(), 1);
    }
}
