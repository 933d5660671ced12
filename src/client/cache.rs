//! The per-program token cache and its lifecycle: fresh → refresh-ahead → expired → stale-if-error.
//!
//! Per program id there is one [`Entry`]: the last good token (kept past its TTL for
//! stale-if-error) and the fetch in flight (if any). The first caller on a cold or expired entry
//! becomes the *leader* and fetches; everyone else arriving meanwhile waits on the same
//! [`Flight`], until the leader answers or their own deadline passes. Errors are never cached.
//! A leader records its outcome only if its flight is still the entry's: `invalidate` removes
//! the entry, so a fetch that started before it can neither fill the cache nor be joined later.
//!
//! The hit path takes only the read lock and touches the entry through atomics: a hit past the
//! refresh-ahead point claims the refresh with one compare-and-swap and queues it for the
//! background thread, so exactly one refresh starts however many threads notice.
//!
//! Memory is bounded, because program ids often come from requests: an id whose fetch failed
//! leaves no entry; tokens past both the TTL and the stale window are swept (at most once a
//! second, by a call that misses the per-thread cache), and dropping a token zeroes it; at most
//! `max_programs` entries are kept, the least recently used evicted first (recency is kept per
//! entry in an atomic, which the per-thread hit path refreshes at most once a second).
//!
//! In a forked child the entries start over from the parent's cached tokens, without its flights
//! (their leaders do not exist there): see `fork`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, TryLockError};
use std::time::{Duration, Instant};

use super::background::Background;
use super::flight::{Flight, Freshness, Outcome};
use super::hot::{self, Snapshot};
use crate::clock::{Clock, millis, nanos};
use crate::config::Config;
use crate::error::{Error, Status};
use crate::fetch::{Attempt, Fetcher};
use crate::fork::ForkLocal;
use crate::log::{Level, log_line};
use crate::stats::Counters;
use crate::token::{AccessToken, constant_time_eq};

/// After a failed refresh, how long to keep serving the stale token (or the still-fresh one)
/// before asking upstream again: an outage must not turn every call into a request.
pub(crate) const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// Expired entries are swept at most this often.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// When the cache is full, this fraction (1/N) of `max_programs` is evicted at once, so the
/// O(entries) choice of victims is paid once per many inserts.
const EVICT_BATCH_DIVISOR: usize = 16;

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
    /// How long a caller may wait, for its own fetch or for another caller's.
    timeout: Duration,
    max_programs: usize,
    entries: ForkLocal<RwLock<Entries>>,
    /// Entries holding a token (kept with every change, so `stats` takes no lock).
    cached: AtomicU64,
    pub(crate) counters: Counters,
    pub(crate) background: Background,
}

#[derive(Default)]
struct Entries {
    map: HashMap<Box<str>, Entry>,
    /// Clock time of the next sweep of expired entries.
    next_sweep: u64,
}

struct Entry {
    cached: Option<Cached>,
    flight: Option<Arc<Flight>>,
    /// Clock time from which a hit queues a background refresh; `NEVER` when none is due or one
    /// is already queued (the hit that swaps it to `NEVER` owns the refresh).
    refresh_due: AtomicU64,
    /// Clock time before which a failed refresh is not retried; meanwhile callers get the stale
    /// token (within the window).
    retry_after: u64,
    /// Clock time of the last use, for least-recently-used eviction. Shared with per-thread
    /// snapshots, which refresh it at most once a second.
    used: Arc<AtomicU64>,
}

impl Entry {
    fn new(now: u64) -> Entry {
        Entry {
            cached: None,
            flight: None,
            refresh_due: AtomicU64::new(NEVER),
            retry_after: 0,
            used: Arc::new(AtomicU64::new(now)),
        }
    }
}

#[derive(Clone)]
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
        used: Arc<AtomicU64>,
    },
    Stale {
        token: AccessToken,
        age: u64,
    },
}

/// What a caller that found no usable token gets to do.
enum Claim {
    /// Another thread filled the entry meanwhile.
    Answer(Lookup),
    /// A fetch is running: wait for it.
    Join(Arc<Flight>),
    /// Fetch it yourself and publish to this flight.
    Lead(Arc<Flight>),
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
            timeout: config.timeout,
            max_programs: config.max_programs,
            entries: ForkLocal::new(RwLock::default()),
            cached: AtomicU64::new(0),
            counters: Counters::default(),
            background: Background::new(config.prefetch.clone()),
        })
    }

    /// The entries of this process: in a forked child, a copy of the parent's cached tokens.
    fn entries(&self) -> &RwLock<Entries> {
        self.entries.get(|parent| self.entries_after_fork(parent))
    }

    fn entries_after_fork(&self, parent: &RwLock<Entries>) -> RwLock<Entries> {
        // The parent's lock may be held by a thread that does not exist here: never wait for it.
        let parent = match parent.try_read() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                self.cached.store(0, Ordering::Relaxed);
                return RwLock::default();
            }
        };
        let map: HashMap<Box<str>, Entry> = parent
            .map
            .iter()
            .filter_map(|(id, entry)| {
                let cached = entry.cached.clone()?;
                let due = self
                    .refresh_after
                    .map_or(NEVER, |after| cached.fetched_at.saturating_add(after));
                Some((
                    id.clone(),
                    Entry {
                        cached: Some(cached),
                        flight: None,
                        refresh_due: AtomicU64::new(due),
                        retry_after: entry.retry_after,
                        used: Arc::new(AtomicU64::new(entry.used.load(Ordering::Relaxed))),
                    },
                ))
            })
            .collect();
        self.cached.store(map.len() as u64, Ordering::Relaxed);
        self.version.fetch_add(1, Ordering::Release);
        RwLock::new(Entries {
            map,
            next_sweep: parent.next_sweep,
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
        // Past the hit, everything is library code that must never print a panic.
        crate::panics::quiet(|| {
            let id = crate::program_id::validate_program_id(id)?;
            let token = self.shared_get(id)?;
            Ok(f(token.as_bytes()))
        })
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
        // Fault injection for the unit tests of what a panic inside a call does.
        #[cfg(test)]
        if id == "test-panic" {
            panic!("injected panic");
        }
        let deadline = Instant::now() + self.timeout;
        let now = self.clock.now();
        let answered = {
            let entries = self
                .entries()
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            let version = self.version.load(Ordering::Acquire);
            entries
                .map
                .get(id)
                .and_then(|entry| {
                    entry.used.store(now, Ordering::Relaxed);
                    self.lookup(entry, now)
                })
                .map(|answer| (answer, version))
        };
        if let Some((answer, version)) = answered {
            return Ok(self.deliver(id, answer, Some(version)));
        }
        Counters::bump(&self.counters.misses);
        let outcome = match self.claim(id, true) {
            Claim::Answer(answer) => return Ok(self.deliver(id, answer, None)),
            Claim::Lead(flight) => self.lead(id, flight),
            Claim::Join(flight) => {
                Counters::bump(&self.counters.coalesced_waiters);
                flight
                    .wait(deadline)
                    .unwrap_or_else(|| Err(self.wait_timeout(id)))
            }
        };
        let (token, freshness) = outcome?;
        if matches!(freshness, Freshness::Stale { .. }) {
            Counters::bump(&self.counters.stale_served);
        }
        Ok(token)
    }

    fn wait_timeout(&self, id: &str) -> Error {
        Error::new(
            Status::Timeout,
            format!(
                "program {id}: the fetch another call started did not finish within {} ms \
                 (the timeout setting or KY_TIMEOUT_MS)",
                self.timeout.as_millis()
            ),
        )
    }

    /// Under the write lock: finds or makes the entry for `id` (making room if the cache is
    /// full), then answers from it (if `answer` and it can), joins its flight, or starts one.
    fn claim(&self, id: &str, answer: bool) -> Claim {
        let mut entries = self
            .entries()
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let now = self.clock.now();
        if now >= entries.next_sweep {
            self.sweep(&mut entries, now);
            entries.next_sweep = now.saturating_add(nanos(SWEEP_EVERY));
        }
        if !entries.map.contains_key(id) {
            self.make_room(&mut entries);
            entries.map.insert(id.into(), Entry::new(now));
        }
        let entry = entries.map.get_mut(id).expect("inserted above");
        entry.used.store(now, Ordering::Relaxed);
        if answer {
            if let Some(found) = self.lookup(entry, now) {
                return Claim::Answer(found);
            }
        }
        match &entry.flight {
            Some(flight) => Claim::Join(Arc::clone(flight)),
            None => {
                let flight = Arc::new(Flight::default());
                entry.flight = Some(Arc::clone(&flight));
                Claim::Lead(flight)
            }
        }
    }

    /// Drops entries with nothing left to serve: no fetch running and no token young enough for
    /// the TTL or the stale window. Dropping a token zeroes it (once no caller holds a copy).
    fn sweep(&self, entries: &mut Entries, now: u64) {
        let keep_for = self.ttl.max(self.stale_window);
        let before = entries.map.len();
        entries.map.retain(|_, entry| {
            let keep = entry.flight.is_some()
                || entry
                    .cached
                    .as_ref()
                    .is_some_and(|c| now.saturating_sub(c.fetched_at) < keep_for);
            if !keep && entry.cached.is_some() {
                self.cached.fetch_sub(1, Ordering::Relaxed);
            }
            keep
        });
        if entries.map.len() != before {
            self.version.fetch_add(1, Ordering::Release);
        }
        // A burst of ids must not leave its table behind.
        if entries.map.capacity() > 64 && entries.map.len() * 4 < entries.map.capacity() {
            entries.map.shrink_to_fit();
        }
    }

    /// Evicts the least recently used entries (a batch of them) when the cache is full.
    /// Entries with a fetch running are never evicted.
    fn make_room(&self, entries: &mut Entries) {
        if entries.map.len() < self.max_programs {
            return;
        }
        let batch = (self.max_programs / EVICT_BATCH_DIVISOR).max(1);
        let mut used: Vec<u64> = entries
            .map
            .values()
            .filter(|e| e.flight.is_none())
            .map(|e| e.used.load(Ordering::Relaxed))
            .collect();
        if used.is_empty() {
            return; // every entry is being fetched: exceed the cap rather than block
        }
        let nth = batch.min(used.len()) - 1;
        let (_, &mut threshold, _) = used.select_nth_unstable(nth);
        let mut evicted = 0;
        entries.map.retain(|_, entry| {
            let evict = evicted < batch
                && entry.flight.is_none()
                && entry.used.load(Ordering::Relaxed) <= threshold;
            if evict {
                evicted += 1;
                if entry.cached.is_some() {
                    self.cached.fetch_sub(1, Ordering::Relaxed);
                }
            }
            !evict
        });
        self.version.fetch_add(1, Ordering::Release);
        Counters::add(&self.counters.evictions, evicted as u64);
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
                used,
            } => {
                self.counters.hit();
                if let Some(version) = version {
                    hot::remember(Snapshot::new(
                        self.id,
                        version,
                        id.as_bytes(),
                        token.clone(),
                        expires_at,
                        refresh_due,
                        used,
                    ));
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
                used: Arc::clone(&entry.used),
            });
        }
        (age < self.stale_window && now < entry.retry_after).then(|| Lookup::Stale {
            token: cached.token.clone(),
            age,
        })
    }

    /// Refreshes `id` from the background thread unless a fetch is already running.
    pub(crate) fn refresh_in_background(self: &Arc<Self>, id: &str, why: &str) {
        let Claim::Lead(flight) = self.claim(id, false) else {
            return; // someone is fetching it right now
        };
        Counters::bump(&self.counters.refresh_ahead_runs);
        log_line!(Level::Debug, "program {id}: {why} refresh started");
        let _ = self.lead(id, flight);
    }

    /// Runs the fetch as the leader of `flight` and publishes the outcome, even if the fetch
    /// panics (the guard's drop does it), so waiters are never stranded.
    fn lead(self: &Arc<Self>, id: &str, flight: Arc<Flight>) -> Outcome {
        let mut leader = Leader {
            cache: self,
            id,
            flight,
            started: self.clock.now(),
            result: None,
            done: false,
        };
        let started = Instant::now();
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

    /// Drops the cached token (and any stale copy) for a validated id, and its entry: a fetch
    /// still running for it answers its own callers but no longer fills the cache.
    pub(crate) fn invalidate(&self, id: &str) {
        let mut entries = self
            .entries()
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.map.remove(id) {
            self.forget(&entry);
        }
    }

    /// Drops the cached token only if it is `token`; true if it did.
    pub(crate) fn invalidate_if(&self, id: &str, token: &[u8]) -> bool {
        let mut entries = self
            .entries()
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let matches = entries.map.get(id).is_some_and(|entry| {
            entry
                .cached
                .as_ref()
                .is_some_and(|c| constant_time_eq(c.token.as_bytes(), token))
        });
        if matches {
            if let Some(entry) = entries.map.remove(id) {
                self.forget(&entry);
            }
        }
        matches
    }

    /// Bookkeeping for an entry just removed under the write lock.
    fn forget(&self, entry: &Entry) {
        self.version.fetch_add(1, Ordering::Release);
        if entry.cached.is_some() {
            self.cached.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Clock time at which the prefetch thread should next refresh `id` (0 = now).
    pub(crate) fn prefetch_due(&self, id: &str) -> u64 {
        let entries = self
            .entries()
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = entries.map.get(id) else {
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

    /// Program ids with a token in the cache: O(1), no lock.
    pub(crate) fn cached_programs(&self) -> u64 {
        self.cached.load(Ordering::Relaxed)
    }

    /// Entries of any kind (for tests of the memory bound).
    #[doc(hidden)]
    pub(crate) fn entry_count(&self) -> usize {
        self.entries()
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .len()
    }
}

/// The leader's duty: record the outcome in the entry and wake the waiters. Done on drop too, so
/// that even a panicking fetch releases them.
struct Leader<'a> {
    cache: &'a Cache,
    id: &'a str,
    flight: Arc<Flight>,
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
                .entries()
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let mine = entries.map.get_mut(self.id).filter(|entry| {
                entry
                    .flight
                    .as_ref()
                    .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
            });
            match mine {
                Some(entry) => {
                    entry.flight = None;
                    cache.version.fetch_add(1, Ordering::Release);
                    let outcome = self.record(entry, result, now);
                    if entry.cached.is_none() {
                        // Nothing to serve later: a failed id leaves nothing behind.
                        entries.map.remove(self.id);
                    }
                    outcome
                }
                // Invalidated (or evicted) while fetching: answer our callers, keep nothing.
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
                    let previous = entry.cached.replace(Cached {
                        token: token.clone(),
                        fetched_at: self.started,
                    });
                    if previous.is_none() {
                        cache.cached.fetch_add(1, Ordering::Relaxed);
                    }
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
                // Past every window: drop it now rather than at the next sweep.
                entry.cached = None;
                cache.cached.fetch_sub(1, Ordering::Relaxed);
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
