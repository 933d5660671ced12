//! The client: a per-program token cache with single-flight fetching, refresh-ahead,
//! stale-if-error, prefetch, asynchronous gets and counters. Knows nothing of C.
//!
//! - `cache`: entries and the token lifecycle (the hit path lives here);
//! - `flight`: one fetch many callers wait on;
//! - `hot`: the per-thread snapshots that make a cache hit touch no shared memory;
//! - `background`: the thread that refreshes ahead of expiry and keeps prefetched ids warm;
//! - `pool`: the bounded worker pool behind [`Client::get_access_token_async`];
//! - `spawn`, `shared`: the detached threads both of those run on, and the state they share.

mod background;
mod cache;
mod flight;
mod hot;
mod pool;
mod shared;
mod spawn;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Status};
use crate::program_id::validate_program_id;
use crate::stats::Stats;
use crate::token::AccessToken;
use cache::Cache;
use pool::Pool;

pub use pool::{MAX_QUEUED as MAX_QUEUED_ASYNC, MAX_WORKERS as MAX_ASYNC_WORKERS};

/// Fetches and caches access tokens for any number of program ids. Thread-safe: share it
/// (`&Client` or `Arc<Client>`) between threads. Dropping it cancels queued asynchronous calls,
/// waits for running ones and stops the background thread.
pub struct Client {
    cache: Arc<Cache>,
    pool: Pool,
    ttl: Duration,
}

impl Client {
    /// Validates `config` and builds a client. No network I/O happens here; with a prefetch list
    /// the background thread starts fetching right away.
    pub fn new(config: Config) -> Result<Client, Error> {
        let cache = Arc::new(Cache::new(&config)?);
        cache.background.start_if_prefetching(&cache);
        Ok(Client {
            cache,
            pool: Pool::new(),
            ttl: config.cache_ttl,
        })
    }

    /// The token for `program_id`: from cache while younger than the TTL, otherwise fetched
    /// (once, however many threads ask at the same time). Past the refresh-ahead point the cached
    /// token is returned at once and one background refresh starts; if refreshing fails, the last
    /// good token is served until the stale-if-error window closes.
    pub fn get_access_token(&self, program_id: &str) -> Result<AccessToken, Error> {
        self.cache.get(validate_program_id(program_id.as_bytes())?)
    }

    /// Runs `f` on the token for the raw program id bytes (validated unless this thread's
    /// snapshot already knows them). The C boundary's hot path: no token clone, no shared write.
    pub(crate) fn with_token<R>(
        &self,
        raw_id: &[u8],
        f: impl FnMut(&[u8]) -> R,
    ) -> Result<R, Error> {
        self.cache.with_token(raw_id, f)
    }

    /// Runs [`Client::get_access_token`] on the client's worker pool (at most
    /// [`MAX_ASYNC_WORKERS`] threads) and calls `callback` exactly once, on a worker thread (or,
    /// for a call cancelled by dropping the client, on the dropping thread), with the result. An
    /// invalid id is an error here, before anything is queued. If the client is dropped before
    /// the call starts, `callback` gets [`Status::Cancelled`]. A panic in `callback` is caught.
    pub fn get_access_token_async<F>(&self, program_id: &str, callback: F) -> Result<(), Error>
    where
        F: FnOnce(Result<AccessToken, Error>) + Send + 'static,
    {
        self.submit_async(program_id, move |result| {
            let _ = crate::panics::guarded(move || callback(result));
        })
    }

    /// [`Client::get_access_token_async`] for the C boundary: `deliver` runs exactly once and
    /// outside any `catch_unwind`, so a host runtime may end the worker thread inside it (see
    /// `spawn`). The fetch itself runs inside one: its panic becomes an `Internal` result.
    pub(crate) fn submit_async(
        &self,
        program_id: &str,
        deliver: impl FnOnce(Result<AccessToken, Error>) + Send + 'static,
    ) -> Result<(), Error> {
        let id: Box<str> = validate_program_id(program_id.as_bytes())?.into();
        let cache = Arc::clone(&self.cache);
        self.pool.submit(Box::new(move |run| {
            let result = if run {
                crate::panics::guarded(|| cache.get(&id)).unwrap_or_else(|panic| {
                    Err(Error::internal(format!(
                        "internal error in the asynchronous call for program {id} (caught panic: {panic}); please report this bug"
                    )))
                })
            } else {
                Err(Error::new(
                    Status::Cancelled,
                    format!("the client was freed before the call for program {id} ran"),
                ))
            };
            drop(cache);
            deliver(result);
        }))
    }

    /// Drops the cached token for `program_id` (and any stale copy); the next get fetches afresh.
    /// A fetch already in flight finishes for the callers waiting on it but does not repopulate
    /// the cache.
    pub fn invalidate(&self, program_id: &str) -> Result<(), Error> {
        self.invalidate_validated(validate_program_id(program_id.as_bytes())?);
        Ok(())
    }

    pub(crate) fn invalidate_validated(&self, id: &str) {
        self.cache.invalidate(id);
    }

    /// Drops the cached token for `program_id` only if it is still `token` (compared in constant
    /// time). Returns whether it did. Call this when WeChat rejects `token` (40001/42001): a burst
    /// of rejections of an old token then drops it once, and a fresh token fetched meanwhile
    /// survives.
    pub fn invalidate_if(&self, program_id: &str, token: &str) -> Result<bool, Error> {
        let id = validate_program_id(program_id.as_bytes())?;
        Ok(self.invalidate_if_validated(id, token.as_bytes()))
    }

    pub(crate) fn invalidate_if_validated(&self, id: &str, token: &[u8]) -> bool {
        self.cache.invalidate_if(id, token)
    }

    /// The counters since the client was created. O(1): takes no lock.
    pub fn stats(&self) -> Stats {
        self.cache.counters.snapshot(self.cache.cached_programs())
    }

    /// Cache entries of any kind, tokens or fetches in flight (for memory tests).
    #[doc(hidden)]
    pub fn cache_entries(&self) -> usize {
        self.cache.entry_count()
    }

    /// The cache TTL in effect (after the 5-minute cap).
    pub fn cache_ttl(&self) -> Duration {
        self.ttl
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.pool.shutdown();
        self.cache.background.stop();
        self.cache.forget_snapshots();
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("cache_ttl", &self.ttl)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

static DEFAULT_CLIENT: OnceLock<Result<Client, Error>> = OnceLock::new();

/// The process-wide client behind the global functions, configured from the environment
/// ([`Config::from_env`]) at first use. A configuration error is kept and returned by every call.
pub fn default_client() -> Result<&'static Client, Error> {
    let made = match DEFAULT_CLIENT.get() {
        Some(made) => made,
        None => {
            // A fork on another thread waits for the making (see `fork::Making`).
            let _forks_wait = crate::fork::hold_off_forks();
            DEFAULT_CLIENT.get_or_init(|| {
                slow_making_for_tests();
                crate::panics::quiet(|| Config::from_env().and_then(Client::new))
            })
        }
    };
    made.as_ref().map_err(Clone::clone)
}

/// Debug builds only: `KY_TEST_DEFAULT_CLIENT_DELAY_MS` stretches the making of the default
/// client, so that tests/process_model.rs can fork while another thread is inside it.
fn slow_making_for_tests() {
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("KY_TEST_DEFAULT_CLIENT_DELAY_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn an_async_call_whose_fetch_panics_still_calls_back_once() {
        // No network: the injected panic comes before any I/O.
        let client = Client::new(Config::new().base_url("http://127.0.0.1:9")).unwrap();
        let (tx, rx) = mpsc::channel();
        client
            .get_access_token_async("test-panic", move |result| {
                tx.send(result.map(|_| ())).unwrap();
            })
            .unwrap();
        let result = rx.recv_timeout(Duration::from_secs(60)).expect("callback");
        let e = result.unwrap_err();
        assert_eq!(e.status(), Status::Internal);
        assert!(e.message().contains("injected panic"), "{}", e.message());
        drop(client);
        assert!(rx.try_recv().is_err(), "called back exactly once");
    }

    #[test]
    fn a_panicking_callback_leaves_the_pool_working() {
        let client = Client::new(Config::new().base_url("http://127.0.0.1:9")).unwrap();
        client
            .get_access_token_async("test-panic", |_| panic!("callback panics"))
            .unwrap();
        let (tx, rx) = mpsc::channel();
        client
            .get_access_token_async("test-panic", move |r| tx.send(r.is_err()).unwrap())
            .unwrap();
        assert!(rx.recv_timeout(Duration::from_secs(60)).unwrap());
    }
}
