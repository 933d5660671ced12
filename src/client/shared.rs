//! The state a background thread and its owner share: a mutex-guarded state, a condition
//! variable that wakes the thread for work, and one on which the owner waits for it to end.
//! (The worker pool and the refresh thread each keep one; in a forked child each starts afresh.)

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

pub(crate) struct Shared<S> {
    state: Mutex<S>,
    /// Threads wait here for work.
    pub(crate) wake: Condvar,
    /// The owner waits here for threads to end.
    pub(crate) exited: Condvar,
}

impl<S: Default> Shared<S> {
    pub(crate) fn new() -> Arc<Shared<S>> {
        Arc::new(Shared {
            state: Mutex::default(),
            wake: Condvar::new(),
            exited: Condvar::new(),
        })
    }
}

impl<S> Shared<S> {
    /// The state; a panic elsewhere while it was held does not make it unusable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, S> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits on `exited` until `done` holds.
    pub(crate) fn wait_exited<'a>(
        &self,
        mut state: MutexGuard<'a, S>,
        done: impl Fn(&S) -> bool,
    ) -> MutexGuard<'a, S> {
        while !done(&state) {
            state = self
                .exited
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state
    }

    /// An identity for "the thread serving this state" checks.
    pub(crate) fn id(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as *const () as usize
    }
}
