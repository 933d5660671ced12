//! A small bounded worker pool for asynchronous gets: at most `MAX_WORKERS` threads per client,
//! started on demand and ended after `IDLE_EXIT` without work, and a bounded queue. Shutting down
//! cancels what has not started and waits for what has, so no job runs after the client is gone.
//!
//! Idle workers end because a thread that once called into a managed runtime (Mono, the .NET
//! CLR, Python) stays attached to it; a pool that never shrinks can keep such a runtime from
//! exiting, and costs a stack per thread for nothing.

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
/// A worker with nothing to do for this long ends; the next call starts a new one.
const IDLE_EXIT: std::time::Duration = std::time::Duration::from_secs(2);

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
    /// Handles of workers started and not yet joined (some may have ended on idle).
    workers: Vec<JoinHandle<()>>,
    /// Workers running now.
    live: usize,
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
        if state.idle == 0 && state.live < MAX_WORKERS {
            state.workers.retain(|w| !w.is_finished());
            let shared = Arc::clone(&self.shared);
            let spawned = std::thread::Builder::new()
                .name("ky-async".into())
                .spawn(move || work(&shared));
            match spawned {
                Ok(handle) => {
                    state.workers.push(handle);
                    state.live += 1;
                }
                Err(e) if state.live == 0 => {
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
            state.live -= 1;
            return;
        }
        state.idle += 1;
        let (next, waited) = shared
            .work
            .wait_timeout(state, IDLE_EXIT)
            .unwrap_or_else(PoisonError::into_inner);
        state = next;
        state.idle -= 1;
        if waited.timed_out() && state.queue.is_empty() && !state.closing {
            state.live -= 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn workers_end_when_idle_and_come_back_on_demand() {
        let pool = Pool::new();
        let (tx, rx) = mpsc::channel();
        for _ in 0..3 {
            let tx = tx.clone();
            pool.submit(Box::new(move |run| tx.send(run).unwrap()))
                .unwrap();
        }
        for _ in 0..3 {
            assert!(rx.recv().unwrap());
        }
        assert!(pool.shared.lock().live >= 1);
        std::thread::sleep(IDLE_EXIT + std::time::Duration::from_millis(500));
        assert_eq!(pool.shared.lock().live, 0, "idle workers ended");
        let tx2 = tx.clone();
        pool.submit(Box::new(move |run| tx2.send(run).unwrap()))
            .unwrap();
        assert!(rx.recv().unwrap());
        pool.shutdown();
        assert!(
            pool.submit(Box::new(|_| {}))
                .is_err_and(|e| e.status() == Status::Cancelled)
        );
    }
}
