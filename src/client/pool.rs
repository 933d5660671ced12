//! A small bounded worker pool for asynchronous gets: at most `MAX_WORKERS` threads per client,
//! started on demand, and a bounded queue. Shutting down cancels what has not started and waits
//! for what has, so no job runs after the client is gone.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{JoinHandle, ThreadId};

use crate::error::{Error, Status};

/// Most worker threads per client: enough to overlap a slow fetch for one program with hits for
/// others, few enough to never look like a thread per call.
pub const MAX_WORKERS: usize = 4;
/// Most jobs waiting for a worker; more are refused with [`Status::Busy`].
pub const MAX_QUEUED: usize = 4096;

/// A job is told whether it runs for real (`true`) or is being cancelled (`false`).
pub(crate) type Job = Box<dyn FnOnce(bool) + Send + 'static>;

pub(crate) struct Pool {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    workers: Vec<JoinHandle<()>>,
    idle: usize,
    closing: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Pool {
    pub(crate) fn new() -> Pool {
        Pool {
            shared: Arc::new(Shared {
                state: Mutex::default(),
                work: Condvar::new(),
            }),
        }
    }

    /// Queues `job`; starts a worker if none is idle and the pool is not full.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Error> {
        let mut state = self.shared.lock();
        if state.closing {
            return Err(Error::new(
                Status::Cancelled,
                "the client is being freed: no new asynchronous calls are accepted",
            ));
        }
        if state.queue.len() >= MAX_QUEUED {
            return Err(Error::new(
                Status::Busy,
                format!("{MAX_QUEUED} asynchronous calls are already queued on this client"),
            ));
        }
        state.queue.push_back(job);
        if state.idle == 0 && state.workers.len() < MAX_WORKERS {
            let shared = Arc::clone(&self.shared);
            let spawned = std::thread::Builder::new()
                .name("ky-async".into())
                .spawn(move || work(&shared));
            match spawned {
                Ok(handle) => state.workers.push(handle),
                Err(e) if state.workers.is_empty() => {
                    state.queue.pop_back();
                    return Err(Error::internal(format!(
                        "cannot start a worker thread: {e}"
                    )));
                }
                Err(_) => {} // the running workers will get to it
            }
        }
        drop(state);
        self.shared.work.notify_one();
        Ok(())
    }

    /// Refuses new jobs, cancels queued ones (each is still called, with `false`) and waits for
    /// running ones. From inside a job (a worker thread), it cannot wait for itself or its
    /// siblings; they finish on their own and the last one frees the pool.
    pub(crate) fn shutdown(&self) {
        let workers = {
            let mut state = self.shared.lock();
            state.closing = true;
            std::mem::take(&mut state.workers)
        };
        self.shared.work.notify_all();
        let me: ThreadId = std::thread::current().id();
        if workers.iter().any(|w| w.thread().id() == me) {
            return;
        }
        for worker in workers {
            let _ = worker.join();
        }
    }
}

fn work(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if let Some(job) = state.queue.pop_front() {
            let run = !state.closing;
            drop(state);
            // A job's panic must not kill the worker (and the callback already has its own
            // boundary); the pool stays usable.
            let _ = catch_unwind(AssertUnwindSafe(|| job(run)));
            state = shared.lock();
            continue;
        }
        if state.closing {
            return;
        }
        state.idle += 1;
        state = shared
            .work
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
        state.idle -= 1;
    }
}
