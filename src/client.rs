//! The client: a per-program token cache with single-flight fetching. Knows nothing of C.
//!
//! Per program id there is one [`Entry`]: the cached token (if fresh), the fetch in flight (if
//! any) and a generation counter. The first caller on a cold or expired entry becomes the
//! *leader* and fetches; everyone else arriving meanwhile waits on the same [`Flight`] and gets
//! the leader's result, errors included. Errors are never cached. `invalidate` bumps the
//! generation and detaches the flight, so a fetch that started before it can neither fill the
//! cache nor be joined by later callers.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::error::Error;
use crate::fetch::Fetcher;
use crate::program_id::validate_program_id;
use crate::token::AccessToken;

/// Fetches and caches access tokens for any number of program ids. Thread-safe: share it
/// (`&Client` or `Arc<Client>`) between threads.
pub struct Client {
    fetcher: Fetcher,
    ttl: Duration,
    entries: RwLock<HashMap<Box<str>, Entry>>,
}

#[derive(Default)]
struct Entry {
    cached: Option<Cached>,
    flight: Option<Arc<Flight>>,
    generation: u64,
}

struct Cached {
    token: AccessToken,
    /// When the request that produced it was *sent*: the token's age is counted conservatively.
    fetched_at: Instant,
}

/// One upstream fetch that any number of callers wait on.
#[derive(Default)]
struct Flight {
    result: Mutex<Option<Result<AccessToken, Error>>>,
    done: Condvar,
}

impl Flight {
    fn wait(&self) -> Result<AccessToken, Error> {
        let mut slot = self.result.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(result) = slot.as_ref() {
                return result.clone();
            }
            slot = self.done.wait(slot).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn publish(&self, result: Result<AccessToken, Error>) {
        *self.result.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        self.done.notify_all();
    }
}

impl Client {
    /// Validates `config` and builds a client. No network I/O happens here.
    pub fn new(config: Config) -> Result<Client, Error> {
        Ok(Client {
            fetcher: Fetcher::new(&config)?,
            ttl: config.cache_ttl,
            entries: RwLock::new(HashMap::new()),
        })
    }

    /// The token for `program_id`: from cache while younger than the TTL, otherwise fetched
    /// (once, however many threads ask at the same time).
    pub fn get_access_token(&self, program_id: &str) -> Result<AccessToken, Error> {
        self.get_validated(validate_program_id(program_id.as_bytes())?)
    }

    /// [`Client::get_access_token`] for an id the caller already validated (the C boundary does,
    /// while reading it), so the hot path checks it once.
    pub(crate) fn get_validated(&self, id: &str) -> Result<AccessToken, Error> {
        if let Some(token) = self.cached(id) {
            return Ok(token);
        }
        let (flight, leader_generation) = {
            let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
            let entry = match entries.get_mut(id) {
                Some(entry) => entry,
                None => entries.entry(id.into()).or_default(),
            };
            // Another thread may have filled the cache while we waited for the write lock.
            if let Some(token) = self.fresh(entry) {
                return Ok(token);
            }
            match &entry.flight {
                Some(flight) => (Arc::clone(flight), None),
                None => {
                    let flight = Arc::new(Flight::default());
                    entry.flight = Some(Arc::clone(&flight));
                    (flight, Some(entry.generation))
                }
            }
        };
        let Some(generation) = leader_generation else {
            return flight.wait();
        };
        let mut leader = Leader {
            client: self,
            id,
            flight,
            generation,
            started: Instant::now(),
            result: None,
        };
        let result = self.fetcher.fetch(id);
        leader.result = Some(result.clone());
        drop(leader); // publishes to the waiters, fills the cache
        result
    }

    /// Drops the cached token for `program_id`; the next get fetches afresh. A fetch already in
    /// flight finishes for the callers waiting on it but does not repopulate the cache.
    pub fn invalidate(&self, program_id: &str) -> Result<(), Error> {
        let id = validate_program_id(program_id.as_bytes())?;
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.get_mut(id) {
            entry.cached = None;
            entry.flight = None;
            entry.generation += 1;
        }
        Ok(())
    }

    /// The cache TTL in effect (after the 5-minute cap).
    pub fn cache_ttl(&self) -> Duration {
        self.ttl
    }

    fn cached(&self, id: &str) -> Option<AccessToken> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        self.fresh(entries.get(id)?)
    }

    fn fresh(&self, entry: &Entry) -> Option<AccessToken> {
        let cached = entry.cached.as_ref()?;
        (cached.fetched_at.elapsed() < self.ttl).then(|| cached.token.clone())
    }
}

/// The leader's duty, done on drop so that even a panicking fetch releases its waiters.
struct Leader<'a> {
    client: &'a Client,
    id: &'a str,
    flight: Arc<Flight>,
    generation: u64,
    started: Instant,
    result: Option<Result<AccessToken, Error>>,
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        let result = self
            .result
            .take()
            .unwrap_or_else(|| Err(Error::internal("the token fetch panicked")));
        {
            let mut entries = self
                .client
                .entries
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = entries.get_mut(self.id) {
                if entry
                    .flight
                    .as_ref()
                    .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
                {
                    entry.flight = None;
                }
                if entry.generation == self.generation && !self.client.ttl.is_zero() {
                    if let Ok(token) = &result {
                        entry.cached = Some(Cached {
                            token: token.clone(),
                            fetched_at: self.started,
                        });
                    }
                }
            }
        }
        self.flight.publish(result);
    }
}

static DEFAULT_CLIENT: OnceLock<Result<Client, Error>> = OnceLock::new();

/// The process-wide client behind the global functions, configured from the environment
/// ([`Config::from_env`]) at first use. A configuration error is kept and returned by every call.
pub fn default_client() -> Result<&'static Client, Error> {
    DEFAULT_CLIENT
        .get_or_init(|| Config::from_env().and_then(Client::new))
        .as_ref()
        .map_err(Clone::clone)
}
