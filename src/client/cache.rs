//! The per-program token cache and its lifecycle: fresh → refresh-ahead → expired → stale-if-error.
//!
//! Per program id there is one [`Entry`]: the last good token (kept past its TTL for
//! stale-if-error), the fetch in flight (if any) and a generation counter. The first caller on a
//! cold or expired entry becomes the *leader* and fetches; everyone else arriving meanwhile waits
//! on the same [`Flight`]. Errors are never cached. `invalidate` bumps the generation and detaches
//! the flight, so a fetch that started before it can neither fill the cache nor be joined later.
//!
//! The hit path takes only the read lock and touches the entry through atomics: a hit past the
//! refresh-ahead point claims the refresh with one compare-and-swap and queues it for the
//! background thread, so exactly one refresh starts however many threads notice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use super::background::Background;
use super::flight::{Flight, Freshness, Outcome};
use super::hot::{self, Snapshot};
use crate::clock::{Clock, millis, nanos};
use crate::config::Config;
use crate::error::Error;
use crate::fetch::{Attempt, Fetcher};
use crate::log::{Level, log_line};
use crate::stats::Counters;
use crate::token::{AccessToken, constant_time_eq};

/// After a failed refresh, how long to keep serving the stale token (or the still-fresh one)
/// before asking upstream again: an outage must not turn every call into a request.
pub(crate) const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// "Never" on the clock.
const NEVER: u64 = u64::MAX;

/// Source of [`Cache::id`]: process-unique, so a per-thread snapshot can never be mistaken for
/// one of a later cache at the same address.
static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) struct Cache {
    id: u64,
    /// Bumped (under the write lock) by every change to any entry; per-thread snapshots are
    /// valid only at the version they were taken at (see `hot`).
    version: AtomicU64,
    fetcher: Fetcher,
    pub(crate) clock: Clock,
    /// Cache lifetime in clock nanoseconds; 0 disables caching.
    ttl: u64,
    /// Age at which a hit starts a background refresh (refresh-ahead), if enabled.
    refresh_after: Option<u64>,
    /// Age at which the prefetch thread refreshes a token.
    pub(crate) prefetch_after: u64,
    /// Age up to which the last good token is served when refreshing fails; 0 disables.
    stale_window: u64,
    entries: RwLock<HashMap<Box<str>, Entry>>,
    pub(crate) counters: Counters,
    pub(crate) background: Background,
}

#[derive(Default)]
struct Entry {
    cached: Option<Cached>,
    flight: Option<Arc<Flight>>,
    generation: u64,
    /// Clock time from which a hit queues a background refresh; `NEVER` when none is due or one
    /// is already queued (the hit that swaps it to `NEVER` owns the refresh).
    refresh_due: AtomicU64,
    /// Clock time before which a failed refresh is not retried; meanwhile callers get the stale
    /// token (within the window).
    retry_after: u64,
}

struct Cached {
    token: AccessToken,
    /// Clock time the request that produced it was *sent*: its age is counted conservatively.
    fetched_at: u64,
}

enum Lookup {
    Fresh {
        token: AccessToken,
        /// This caller won the refresh-ahead that is due.
        refresh: bool,
        /// For a per-thread snapshot: when the token expires and when a hit must next look at
        /// the shared entry for a refresh-ahead (`NEVER` once one is claimed).
        expires_at: u64,
        refresh_due: u64,
    },
    Stale {
        token: AccessToken,
        age: u64,
    },
}

impl Cache {
    pub(crate) fn new(config: &Config) -> Result<Cache, Error> {
        let fetcher = Fetcher::new(config)?;
        let ttl = nanos(config.cache_ttl);
        if ttl == 0 && !config.prefetch.is_empty() {
            return Err(Error::invalid(
                "prefetch needs the cache: set a cache TTL above zero",
            ));
        }
        let fraction = |f: f64| (ttl as f64 * f) as u64;
        Ok(Cache {
            id: NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed),
            version: AtomicU64::new(0),
            fetcher,
            clock: config.clock.clone(),
            ttl,
            refresh_after: config.refresh_fraction().map(fraction),
            prefetch_after: fraction(
                config
                    .refresh_fraction()
                    .unwrap_or(crate::config::DEFAULT_REFRESH_AHEAD),
            ),
            stale_window: nanos(config.stale_if_error),
            entries: RwLock::new(HashMap::new()),
            counters: Counters::default(),
            background: Background::new(config.prefetch.clone()),
        })
    }

    /// Runs `f` on the token for `id` — raw bytes, validated here unless this thread's snapshot
    /// already knows them — without cloning the shared token on a per-thread hit.
    pub(crate) fn with_token<R>(
        self: &Arc<Self>,
        id: &[u8],
        mut f: impl FnMut(&[u8]) -> R,
    ) -> Result<R, Error> {
        if let Some(result) = self.hot_hit(id, &mut |t: &AccessToken| f(t.as_bytes())) {
            return Ok(result);
        }
        let id = crate::program_id::validate_program_id(id)?;
        let token = self.shared_get(id)?;
        Ok(f(token.as_bytes()))
    }

    /// The token for a validated id: see the module docs for the lifecycle.
    pub(crate) fn get(self: &Arc<Self>, id: &str) -> Result<AccessToken, Error> {
        if let Some(token) = self.hot_hit(id.as_bytes(), &mut |t: &AccessToken| t.clone()) {
            return Ok(token);
        }
        self.shared_get(id)
    }

    /// This thread's snapshot, if still valid: no shared write at all.
    #[inline]
    fn hot_hit<R>(&self, id: &[u8], f: &mut impl FnMut(&AccessToken) -> R) -> Option<R> {
        let version = self.version.load(Ordering::Acquire);
        let (result, shard) = hot::lookup(self.id, version, id, || self.clock.now(), f)?;
        self.counters.hit_on(shard);
        Some(result)
    }

    fn shared_get(self: &Arc<Self>, id: &str) -> Result<AccessToken, Error> {
        let now = self.clock.now();
        let answered = {
            let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
            let version = self.version.load(Ordering::Acquire);
            entries
                .get(id)
                .and_then(|entry| self.lookup(entry, now))
                .map(|answer| (answer, version))
        };
        if let Some((answer, version)) = answered {
            return Ok(self.deliver(id, answer, Some(version)));
        }
        Counters::bump(&self.counters.misses);
        let (flight, generation) = {
            let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
            let entry = match entries.get_mut(id) {
                Some(entry) => entry,
                None => entries.entry(id.into()).or_default(),
            };
            // Another thread may have fetched while we waited for the write lock.
            if let Some(answer) = self.lookup(entry, self.clock.now()) {
                drop(entries);
                return Ok(self.deliver(id, answer, None));
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
        let outcome = match generation {
            Some(generation) => self.lead(id, flight, generation),
            None => {
                Counters::bump(&self.counters.coalesced_waiters);
                flight.wait()
            }
        };
        let (token, freshness) = outcome?;
        if matches!(freshness, Freshness::Stale { .. }) {
            Counters::bump(&self.counters.stale_served);
        }
        Ok(token)
    }

    /// Counts and logs an answer and starts the refresh it won, outside the entries lock (the
    /// background thread and a log callback may both take locks of their own). A fresh answer
    /// read at `version` becomes this thread's snapshot.
    fn deliver(self: &Arc<Self>, id: &str, answer: Lookup, version: Option<u64>) -> AccessToken {
        match answer {
            Lookup::Fresh {
                token,
                refresh,
                expires_at,
                refresh_due,
            } => {
                self.counters.hit();
                if let Some(version) = version {
                    hot::remember(Snapshot {
                        cache: self.id,
                        version,
                        id: id.as_bytes().into(),
                        token: token.clone(),
                        expires_at,
                        refresh_due,
                    });
                }
                if refresh {
                    self.background.schedule(self, id);
                }
                token
            }
            Lookup::Stale { token, age } => {
                Counters::bump(&self.counters.stale_served);
                self.log_stale(id, age, None);
                token
            }
        }
    }

    fn log_stale(&self, id: &str, age: u64, cause: Option<&Error>) {
        let cause = cause.map_or_else(String::new, |e| format!(": {e}"));
        log_line!(
            Level::Warn,
            "program {id}: serving the last good token ({} ms old, stale window {} ms) because refreshing failed{cause}",
            millis(age),
            millis(self.stale_window)
        );
    }

    /// What the entry can answer at `now` without I/O, if anything.
    fn lookup(&self, entry: &Entry, now: u64) -> Option<Lookup> {
        let cached = entry.cached.as_ref()?;
        let age = now.saturating_sub(cached.fetched_at);
        if age < self.ttl {
            let due = entry.refresh_due.load(Ordering::Acquire);
            // Exactly one hit wins the swap and owns the refresh.
            let refresh = now >= due
                && entry
                    .refresh_due
                    .compare_exchange(due, NEVER, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok();
            return Some(Lookup::Fresh {
                token: cached.token.clone(),
                refresh,
                expires_at: cached.fetched_at.saturating_add(self.ttl),
                // Past the due time the refresh is claimed (by this caller or another): the next
                // look at the shared entry is needed only when the version changes.
                refresh_due: if now >= due { NEVER } else { due },
            });
        }
        (age < self.stale_window && now < entry.retry_after).then(|| Lookup::Stale {
            token: cached.token.clone(),
            age,
        })
    }

    /// Refreshes `id` from the background thread unless a fetch is already running.
    pub(crate) fn refresh_in_background(self: &Arc<Self>, id: &str, why: &str) {
        let (flight, generation) = {
            let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
            let entry = match entries.get_mut(id) {
                Some(entry) => entry,
                None => entries.entry(id.into()).or_default(),
            };
            if entry.flight.is_some() {
                return;
            }
            let flight = Arc::new(Flight::default());
            entry.flight = Some(Arc::clone(&flight));
            (flight, entry.generation)
        };
        Counters::bump(&self.counters.refresh_ahead_runs);
        log_line!(Level::Debug, "program {id}: {why} refresh started");
        let _ = self.lead(id, flight, generation);
    }

    /// Runs the fetch as the leader of `flight` and publishes the outcome, even if the fetch
    /// panics (the guard's drop does it), so waiters are never stranded.
    fn lead(self: &Arc<Self>, id: &str, flight: Arc<Flight>, generation: u64) -> Outcome {
        let mut leader = Leader {
            cache: self,
            id,
            flight,
            generation,
            started: self.clock.now(),
            result: None,
            done: false,
        };
        let started = std::time::Instant::now();
        let result = self.fetcher.fetch(id, |attempt| self.observe(id, &attempt));
        if let Err(e) = &result {
            self.log_failure(id, started.elapsed(), e);
        }
        leader.result = Some(result);
        leader.finish()
    }

    fn observe(&self, id: &str, attempt: &Attempt<'_>) {
        Counters::bump(&self.counters.upstream_requests);
        match attempt.outcome {
            Ok(()) => log_line!(
                Level::Info,
                "program {id}: token fetched in {} ms (attempt {})",
                attempt.elapsed.as_millis(),
                attempt.number
            ),
            Err(e) => {
                self.counters.upstream_failure(e.status());
                if let Some(pause) = attempt.retry_in {
                    log_line!(
                        Level::Warn,
                        "program {id}: attempt {} failed after {} ms, retrying in {} ms: {e}",
                        attempt.number,
                        attempt.elapsed.as_millis(),
                        pause.as_millis()
                    );
                }
            }
        }
    }

    fn log_failure(&self, id: &str, elapsed: Duration, e: &Error) {
        log_line!(
            Level::Error,
            "program {id}: fetch failed after {} ms: {e}",
            elapsed.as_millis()
        );
    }

    /// Drops the cached token (and any stale copy) for a validated id.
    pub(crate) fn invalidate(&self, id: &str) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.get_mut(id) {
            self.reset(entry);
        }
    }

    /// Drops the cached token only if it is `token`; true if it did.
    pub(crate) fn invalidate_if(&self, id: &str, token: &[u8]) -> bool {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = entries.get_mut(id) else {
            return false;
        };
        let matches = entry
            .cached
            .as_ref()
            .is_some_and(|c| constant_time_eq(c.token.as_bytes(), token));
        if matches {
            self.reset(entry);
        }
        matches
    }

    fn reset(&self, entry: &mut Entry) {
        self.version.fetch_add(1, Ordering::Release);
        entry.cached = None;
        entry.flight = None;
        entry.generation += 1;
        entry.retry_after = 0;
        entry.refresh_due.store(NEVER, Ordering::Release);
    }

    /// Clock time at which the prefetch thread should next refresh `id` (0 = now).
    pub(crate) fn prefetch_due(&self, id: &str) -> u64 {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = entries.get(id) else {
            return 0;
        };
        if entry.flight.is_some() {
            return NEVER; // someone is fetching it right now
        }
        match &entry.cached {
            Some(c) => c
                .fetched_at
                .saturating_add(self.prefetch_after)
                .max(entry.retry_after),
            None => entry.retry_after,
        }
    }

    /// Drops this thread's snapshots of this cache (its tokens are zeroed now).
    pub(crate) fn forget_snapshots(&self) {
        hot::forget(self.id);
    }

    pub(crate) fn cached_programs(&self) -> u64 {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.values().filter(|e| e.cached.is_some()).count() as u64
    }
}

/// The leader's duty: record the outcome in the entry and wake the waiters. Done on drop too, so
/// that even a panicking fetch releases them.
struct Leader<'a> {
    cache: &'a Cache,
    id: &'a str,
    flight: Arc<Flight>,
    generation: u64,
    started: u64,
    result: Option<Result<AccessToken, Error>>,
    done: bool,
}

impl Leader<'_> {
    fn finish(mut self) -> Outcome {
        let outcome = self.publish();
        self.done = true;
        outcome
    }

    fn publish(&mut self) -> Outcome {
        let result = self
            .result
            .take()
            .unwrap_or_else(|| Err(Error::internal("the token fetch panicked")));
        let cache = self.cache;
        let now = cache.clock.now();
        let outcome = {
            let mut entries = cache
                .entries
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            match entries.get_mut(self.id) {
                Some(entry) => {
                    if entry
                        .flight
                        .as_ref()
                        .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
                    {
                        entry.flight = None;
                    }
                    if entry.generation == self.generation {
                        cache.version.fetch_add(1, Ordering::Release);
                        self.record(entry, result, now)
                    } else {
                        result.map(|t| (t, Freshness::Fresh))
                    }
                }
                None => result.map(|t| (t, Freshness::Fresh)),
            }
        };
        // Logged after the lock is released: a log callback may call back into the library.
        if let Ok((_, Freshness::Stale { age, cause })) = &outcome {
            cache.log_stale(self.id, *age, Some(cause));
        }
        self.flight.publish(outcome.clone());
        outcome
    }

    fn record(&self, entry: &mut Entry, result: Result<AccessToken, Error>, now: u64) -> Outcome {
        let cache = self.cache;
        match result {
            Ok(token) => {
                if cache.ttl > 0 {
                    entry.cached = Some(Cached {
                        token: token.clone(),
                        fetched_at: self.started,
                    });
                }
                entry.retry_after = 0;
                let due = cache
                    .refresh_after
                    .map_or(NEVER, |after| self.started.saturating_add(after));
                entry.refresh_due.store(due, Ordering::Release);
                Ok((token, Freshness::Fresh))
            }
            Err(e) => {
                let retry_at = now.saturating_add(nanos(RETRY_PAUSE));
                entry.retry_after = retry_at;
                if cache.refresh_after.is_some() {
                    entry.refresh_due.store(retry_at, Ordering::Release);
                }
                let Some(cached) = &entry.cached else {
                    return Err(e);
                };
                let age = now.saturating_sub(cached.fetched_at);
                if age < cache.ttl {
                    // A background refresh failed but the token is still fresh.
                    return Ok((cached.token.clone(), Freshness::Fresh));
                }
                if age < cache.stale_window {
                    return Ok((cached.token.clone(), Freshness::Stale { age, cause: e }));
                }
                Err(e)
            }
        }
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.publish();
        }
    }
}
