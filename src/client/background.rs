//! The client's background thread: runs refresh-ahead refreshes queued by cache hits and keeps
//! the prefetch list warm. Started on first need, stopped and joined when the client is dropped.
//!
//! One thread per client, working through one program at a time: refreshes are rare (once per
//! TTL per program) and a slow one only delays the others' refresh, never a caller, who keeps
//! getting the cached token until it expires.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use super::cache::{Cache, RETRY_PAUSE};
use crate::clock::nanos;

/// Longest sleep between prefetch checks: bounds the effect of a manual clock (whose time does
/// not pass while the thread sleeps) and of a token refreshed by a caller meanwhile.
const MAX_NAP: Duration = Duration::from_secs(1);
/// Without a prefetch list, the thread ends after this long without work (the next
/// refresh-ahead starts a new one): an idle client keeps no thread, so a managed runtime that
/// loaded the library can exit.
const IDLE_EXIT: Duration = Duration::from_secs(5);

pub(crate) struct Background {
    state: Mutex<State>,
    wake: Condvar,
    prefetch: Vec<String>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Box<str>>,
    stop: bool,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    pub(crate) fn new(prefetch: Vec<String>) -> Background {
        Background {
            state: Mutex::default(),
            wake: Condvar::new(),
            prefetch,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the thread now if there is a prefetch list (so the first call is already a hit).
    pub(crate) fn start_if_prefetching(&self, cache: &Arc<Cache>) {
        if !self.prefetch.is_empty() {
            let mut state = self.lock();
            Self::ensure_thread(&mut state, cache);
        }
    }

    /// Queues a refresh-ahead for `id` (the caller won the right to it).
    pub(crate) fn schedule(&self, cache: &Arc<Cache>, id: &str) {
        let mut state = self.lock();
        if state.stop {
            return;
        }
        state.queue.push_back(id.into());
        Self::ensure_thread(&mut state, cache);
        drop(state);
        self.wake.notify_one();
    }

    fn ensure_thread(state: &mut State, cache: &Arc<Cache>) {
        if state.thread.is_some() || state.stop {
            return;
        }
        // The thread holds only a weak reference between jobs, so it never keeps a dropped
        // client's cache alive.
        let weak = Arc::downgrade(cache);
        state.thread = std::thread::Builder::new()
            .name("ky-refresh".into())
            .spawn(move || run(&weak))
            .ok();
    }

    /// Stops the thread and waits for it (a refresh in progress finishes first, bounded by the
    /// client's timeout). Called from the client's drop.
    pub(crate) fn stop(&self) {
        let thread = {
            let mut state = self.lock();
            state.stop = true;
            state.queue.clear();
            state.thread.take()
        };
        self.wake.notify_all();
        if let Some(thread) = thread {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

fn run(weak: &Weak<Cache>) {
    // When prefetching failed for an id, do not retry it before this clock time.
    let mut retry_at: HashMap<String, u64> = HashMap::new();
    loop {
        let Some(cache) = weak.upgrade() else { return };
        let background = &cache.background;
        let job = {
            let mut state = background.lock();
            loop {
                if state.stop {
                    return;
                }
                if let Some(id) = state.queue.pop_front() {
                    break Job::RefreshAhead(id);
                }
                let now = cache.clock.now();
                let next = background
                    .prefetch
                    .iter()
                    .map(|id| {
                        let due = cache
                            .prefetch_due(id)
                            .max(retry_at.get(id).copied().unwrap_or(0));
                        (due, id)
                    })
                    .min();
                match next {
                    Some((due, id)) if due <= now => break Job::Prefetch(id.clone()),
                    Some((due, _)) => {
                        let nap = Duration::from_nanos(due - now).min(MAX_NAP);
                        state = background
                            .wake
                            .wait_timeout(state, nap)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0;
                    }
                    None => {
                        let (next, waited) = background
                            .wake
                            .wait_timeout(state, IDLE_EXIT)
                            .unwrap_or_else(PoisonError::into_inner);
                        state = next;
                        if waited.timed_out() && state.queue.is_empty() && !state.stop {
                            // Detach ourselves under the lock: `schedule` then starts a new
                            // thread, and `stop` has nothing to join.
                            drop(state.thread.take());
                            return;
                        }
                    }
                }
            }
        };
        match job {
            Job::RefreshAhead(id) => cache.refresh_in_background(&id, "refresh-ahead"),
            Job::Prefetch(id) => {
                cache.refresh_in_background(&id, "prefetch");
                if cache.prefetch_due(&id) <= cache.clock.now() {
                    retry_at.insert(id, cache.clock.now().saturating_add(nanos(RETRY_PAUSE)));
                } else {
                    retry_at.remove(&id);
                }
            }
        }
    }
}

enum Job {
    RefreshAhead(Box<str>),
    Prefetch(String),
}
