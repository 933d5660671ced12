//! A small bounded worker pool for asynchronous gets: at most `MAX_WORKERS` threads per client,
//! started on demand and ended after `IDLE_EXIT` without work, and a bounded queue. Shutting down
//! cancels what has not started and waits for what has, so no job runs after the client is gone.
//!
//! Idle workers end because a thread that once called into a managed runtime (Mono, the .NET
//! CLR, Python) stays attached to it; a pool that never shrinks can keep such a runtime from
//! exiting, and costs a stack per thread for nothing.
//!
//! Workers are detached threads (see `spawn`): the pool counts them itself, and a worker that the
//! host ends inside a callback still leaves the count right (its exit guard runs as the thread
//! unwinds). In a forked child the pool starts empty (see `fork`): the parent's workers and queue
//! do not exist there.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use super::shared::Shared;
use super::spawn::spawn_detached;
use crate::error::{Error, Status};
use crate::fork::ForkLocal;

/// Most worker threads per client: enough to overlap a slow fetch for one program with hits for
/// others, few enough to never look like a thread per call.
pub const MAX_WORKERS: usize = 4;
/// Most jobs waiting for a worker; more are refused with [`Status::Busy`].
pub const MAX_QUEUED: usize = 4096;
/// A worker with nothing to do for this long ends; the next call starts a new one.
pub(crate) const IDLE_EXIT: Duration = Duration::from_secs(2);

/// A job is told whether it runs for real (`true`) or is being cancelled (`false`). It must not
/// let a Rust panic escape (it catches around its own work, not around the user's callback).
pub(crate) type Job = Box<dyn FnOnce(bool) + Send + 'static>;

pub(crate) struct Pool {
    shared: ForkLocal<Arc<Shared<State>>>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// Worker threads alive now.
    live: usize,
    /// Of those, how many wait for work.
    idle: usize,
    closing: bool,
}

thread_local! {
    /// The pool this thread works for (its address), so `shutdown` from inside a job knows it
    /// cannot wait for itself.
    static WORKER_OF: Cell<usize> = const { Cell::new(0) };
}

impl Pool {
    pub(crate) fn new() -> Pool {
        Pool {
            shared: ForkLocal::new(Shared::new()),
        }
    }

    fn shared(&self) -> &Arc<Shared<State>> {
        // A forked child starts with no workers and no queue.
        self.shared.get(|_| Shared::new())
    }

    /// Queues `job`; starts a worker if none is idle and the pool is not full.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Error> {
        let shared = self.shared();
        let mut state = shared.lock();
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
            if let Err(e) = start_worker(shared, &mut state) {
                if state.live == 0 {
                    state.queue.pop_back();
                    return Err(Error::internal(format!(
                        "cannot start a worker thread: {e}"
                    )));
                }
                // Otherwise the running workers will get to it.
            }
        }
        drop(state);
        shared.wake.notify_one();
        Ok(())
    }

    /// Refuses new jobs, cancels queued ones (each is still called, with `false`) and waits for
    /// running ones. From inside a job (a worker thread) it cannot wait for itself or its
    /// siblings; they finish on their own.
    pub(crate) fn shutdown(&self) {
        let shared = self.shared();
        let mut state = shared.lock();
        state.closing = true;
        shared.wake.notify_all();
        if WORKER_OF.try_with(Cell::get).unwrap_or(0) == shared.id() {
            return;
        }
        // Workers cancel what is queued and end; this waits for running jobs, which are bounded
        // by the client's timeout plus the time their callbacks take.
        state = shared.wait_exited(state, |s| s.live == 0);
        // Left over only if no worker could be started or all were ended by the host.
        let orphans = std::mem::take(&mut state.queue);
        drop(state);
        for job in orphans {
            job(false);
        }
    }

    /// Worker threads alive now (for tests).
    #[cfg(test)]
    fn live(&self) -> usize {
        self.shared().lock().live
    }
}

/// Starts one worker, counted in `state.live`.
fn start_worker(shared: &Arc<Shared<State>>, state: &mut State) -> std::io::Result<()> {
    let worker = Arc::clone(shared);
    spawn_detached("ky-async", Box::new(move || work(&worker)))?;
    state.live += 1;
    Ok(())
}

/// Counts a worker out however it ends: by returning, or by the host ending the thread inside a
/// callback (the guard is dropped as that unwinds). A worker ended that way may leave jobs
/// queued with nobody to run them: it starts its replacement.
struct ExitGuard<'a>(&'a Arc<Shared<State>>);

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.live -= 1;
        if !state.queue.is_empty() && state.idle == 0 && state.live < MAX_WORKERS {
            // Best effort: if no thread can be started, `shutdown` runs the leftovers.
            let _ = start_worker(self.0, &mut state);
        }
        drop(state);
        self.0.exited.notify_all();
    }
}

fn work(shared: &Arc<Shared<State>>) {
    let _ = WORKER_OF.try_with(|w| w.set(shared.id()));
    let _exit = ExitGuard(shared);
    let mut state = shared.lock();
    loop {
        if let Some(job) = state.queue.pop_front() {
            let run = !state.closing;
            drop(state);
            job(run);
            state = shared.lock();
            continue;
        }
        if state.closing {
            return;
        }
        state.idle += 1;
        let (next, waited) = shared
            .wake
            .wait_timeout(state, IDLE_EXIT)
            .unwrap_or_else(PoisonError::into_inner);
        state = next;
        state.idle -= 1;
        if waited.timed_out() && state.queue.is_empty() && !state.closing {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Mutex, mpsc};
    use std::time::Instant;

    /// Polls `cond` until it holds or a generous deadline passes (never a tight margin).
    fn eventually(what: &str, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting for: {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

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
        assert!(pool.live() >= 1);
        eventually("idle workers end", || pool.live() == 0);
        let tx2 = tx.clone();
        pool.submit(Box::new(move |run| tx2.send(run).unwrap()))
            .unwrap();
        assert!(rx.recv().unwrap());
        pool.shutdown();
        assert_eq!(pool.live(), 0, "shutdown waited for the worker");
        assert!(
            pool.submit(Box::new(|_| {}))
                .is_err_and(|e| e.status() == Status::Cancelled)
        );
    }

    #[test]
    fn shutdown_cancels_queued_jobs_and_waits_for_running_ones() {
        let pool = Pool::new();
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let (done_tx, done_rx) = mpsc::channel();
        // Four blockers occupy every worker, the rest queue behind them.
        for _ in 0..MAX_WORKERS {
            let (started_tx, release_rx, done_tx) =
                (started_tx.clone(), Arc::clone(&release_rx), done_tx.clone());
            pool.submit(Box::new(move |run| {
                started_tx.send(()).unwrap();
                release_rx.lock().unwrap().recv().unwrap();
                done_tx.send(run).unwrap();
            }))
            .unwrap();
        }
        for _ in 0..MAX_WORKERS {
            started_rx.recv().unwrap();
        }
        for _ in 0..10 {
            let done_tx = done_tx.clone();
            pool.submit(Box::new(move |run| done_tx.send(run).unwrap()))
                .unwrap();
        }
        std::thread::scope(|s| {
            s.spawn(|| {
                // Release the blockers only once shutdown has closed the pool.
                eventually("shutdown closes the pool", || pool.shared().lock().closing);
                for _ in 0..MAX_WORKERS {
                    release_tx.send(()).unwrap();
                }
            });
            pool.shutdown();
        });
        let results: Vec<bool> = done_rx.try_iter().collect();
        assert_eq!(results.len(), MAX_WORKERS + 10, "every job called once");
        assert_eq!(results.iter().filter(|&&run| run).count(), MAX_WORKERS);
    }
}
