//! The client's background thread: runs refresh-ahead refreshes queued by cache hits and keeps
//! the prefetch list warm. Started on first need, stopped (and waited for) when the client is
//! dropped.
//!
//! One thread per client, working through one program at a time: refreshes are rare (once per
//! TTL per program) and a slow one only delays the others' refresh, never a caller, who keeps
//! getting the cached token until it expires.
//!
//! The thread holds the cache only while it works on a job: it waits with a weak reference, so
//! a client dropped meanwhile is freed at once. It is a detached thread (see `spawn`) that counts
//! itself out when it ends, however it ends; in a forked child it does not exist, and the state
//! here starts afresh (see `fork`).

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, PoisonError, Weak};
use std::time::Duration;

use super::cache::{Cache, RETRY_PAUSE};
use super::shared::Shared;
use super::spawn::spawn_detached;
use crate::clock::nanos;
use crate::fork::ForkLocal;

/// Longest sleep between prefetch checks: bounds the effect of a manual clock (whose time does
/// not pass while the thread sleeps) and of a token refreshed by a caller meanwhile.
const MAX_NAP: Duration = Duration::from_secs(1);
/// Without a prefetch list, the thread ends after this long without work (the next
/// refresh-ahead starts a new one): an idle client keeps no thread, so a managed runtime that
/// loaded the library can exit.
pub(crate) const IDLE_EXIT: Duration = Duration::from_secs(5);

pub(crate) struct Background {
    shared: ForkLocal<Arc<Shared<State>>>,
    prefetch: Vec<String>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Box<str>>,
    stop: bool,
    /// The thread exists.
    running: bool,
}

thread_local! {
    /// The background state this thread serves (its address): `stop` from the thread itself
    /// (a log callback that drops the client) must not wait for itself.
    static SERVES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Background {
    pub(crate) fn new(prefetch: Vec<String>) -> Background {
        Background {
            shared: ForkLocal::new(Shared::new()),
            prefetch,
        }
    }

    fn shared(&self) -> &Arc<Shared<State>> {
        // A forked child has no background thread and an empty queue.
        self.shared.get(|_| Shared::new())
    }

    /// Starts the thread now if there is a prefetch list (so the first call is already a hit).
    pub(crate) fn start_if_prefetching(&self, cache: &Arc<Cache>) {
        if !self.prefetch.is_empty() {
            let shared = self.shared();
            let mut state = shared.lock();
            Self::ensure_thread(shared, &mut state, cache);
        }
    }

    /// Queues a refresh-ahead for `id` (the caller won the right to it).
    pub(crate) fn schedule(&self, cache: &Arc<Cache>, id: &str) {
        let shared = self.shared();
        let mut state = shared.lock();
        if state.stop {
            return;
        }
        state.queue.push_back(id.into());
        Self::ensure_thread(shared, &mut state, cache);
        drop(state);
        shared.wake.notify_one();
    }

    fn ensure_thread(shared: &Arc<Shared<State>>, state: &mut State, cache: &Arc<Cache>) {
        if state.running || state.stop {
            return;
        }
        let weak = Arc::downgrade(cache);
        let mine = Arc::clone(shared);
        state.running = spawn_detached("ky-refresh", Box::new(move || run(&mine, &weak))).is_ok();
    }

    /// Stops the thread and waits for it (a refresh in progress finishes first, bounded by the
    /// client's timeout). Called from the client's drop.
    pub(crate) fn stop(&self) {
        let shared = self.shared();
        let mut state = shared.lock();
        state.stop = true;
        state.queue.clear();
        shared.wake.notify_all();
        if SERVES.try_with(std::cell::Cell::get).unwrap_or(0) == shared.id() {
            return;
        }
        drop(shared.wait_exited(state, |s| !s.running));
    }
}

/// Marks the thread gone however it ends, unless it already handed `running` over (idle exit).
struct ExitGuard<'a> {
    shared: &'a Shared<State>,
    handed_over: bool,
}

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        if !self.handed_over {
            self.shared.lock().running = false;
        }
        self.shared.exited.notify_all();
    }
}

enum Job {
    RefreshAhead(Box<str>),
    Prefetch(String),
}

enum Next {
    Work(Job),
    Nap(Duration),
    Exit,
}

fn run(shared: &Arc<Shared<State>>, weak: &Weak<Cache>) {
    let _ = SERVES.try_with(|s| s.set(shared.id()));
    let mut exit = ExitGuard {
        shared,
        handed_over: false,
    };
    // When prefetching failed for an id, do not retry it before this clock time.
    let mut retry_at: HashMap<String, u64> = HashMap::new();
    let mut idle_for = Duration::ZERO;
    loop {
        let next = {
            let Some(cache) = weak.upgrade() else { return };
            let next = {
                let mut state = shared.lock();
                let next = next_job(&mut state, &cache, &retry_at, idle_for);
                if matches!(next, Next::Exit) && !state.stop {
                    // Idle exit: from now on `schedule` starts a new thread.
                    state.running = false;
                    exit.handed_over = true;
                }
                next
            };
            if let Next::Work(job) = next {
                idle_for = Duration::ZERO;
                // Our own work only: a panic in it must not end the thread unaccounted.
                let _ = catch_unwind(AssertUnwindSafe(|| do_job(&cache, job, &mut retry_at)));
                continue;
            }
            next
            // The cache is released here, before any wait.
        };
        let nap = match next {
            Next::Exit => return,
            Next::Nap(nap) => nap,
            Next::Work(_) => unreachable!("handled above"),
        };
        let state = shared.lock();
        if state.stop || !state.queue.is_empty() {
            continue;
        }
        let (state, waited) = shared
            .wake
            .wait_timeout(state, nap)
            .unwrap_or_else(PoisonError::into_inner);
        idle_for = if waited.timed_out() && state.queue.is_empty() {
            idle_for + nap
        } else {
            Duration::ZERO
        };
    }
}

/// Decides under the state lock what to do next.
fn next_job(
    state: &mut State,
    cache: &Cache,
    retry_at: &HashMap<String, u64>,
    idle_for: Duration,
) -> Next {
    if state.stop {
        return Next::Exit;
    }
    if let Some(id) = state.queue.pop_front() {
        return Next::Work(Job::RefreshAhead(id));
    }
    let background = &cache.background;
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
        Some((due, id)) if due <= now => Next::Work(Job::Prefetch(id.clone())),
        Some((due, _)) => Next::Nap(Duration::from_nanos(due - now).min(MAX_NAP)),
        None if idle_for >= IDLE_EXIT => Next::Exit,
        None => Next::Nap(IDLE_EXIT - idle_for),
    }
}

fn do_job(cache: &Arc<Cache>, job: Job, retry_at: &mut HashMap<String, u64>) {
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
