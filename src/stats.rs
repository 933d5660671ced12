//! Counters a client keeps about itself: cheap to bump from any thread, read as a snapshot.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::error::Status;

/// Number of slots in [`Stats::upstream_failures_by_status`]: one per status code, with room to grow.
pub const STATUS_SLOTS: usize = 16;

/// A snapshot of a client's counters since it was created. Read with
/// [`Client::stats`](crate::Client::stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Calls answered from the cache with a fresh token (refresh-ahead hits included).
    pub cache_hits: u64,
    /// Calls that found no fresh token and fetched it or waited for a fetch.
    pub cache_misses: u64,
    /// HTTP requests sent upstream (retries and background refreshes included).
    pub upstream_requests: u64,
    /// Upstream requests that failed (retried or not).
    pub upstream_failures: u64,
    /// `upstream_failures` by status code (index = `Status::code()`).
    pub upstream_failures_by_status: [u64; STATUS_SLOTS],
    /// Calls that waited for another caller's fetch instead of sending their own.
    pub coalesced_waiters: u64,
    /// Calls answered with the last good token, past its TTL, because refreshing failed.
    pub stale_served: u64,
    /// Background refreshes started ahead of expiry (refresh-ahead and prefetch).
    pub refresh_ahead_runs: u64,
    /// Program ids with a token in the cache now.
    pub cached_programs: u64,
    /// Entries evicted because the cache held `max_programs` ids (least recently used first).
    pub evictions: u64,
}

/// Cache hits are counted on every hit, from every thread: one counter per shard (a cache line
/// each, threads spread across them) so two threads hitting the cache never write the same line.
const HIT_SHARDS: usize = 16;

#[repr(align(128))]
#[derive(Default)]
struct Padded(AtomicU64);

#[derive(Default)]
pub(crate) struct Counters {
    hits: [Padded; HIT_SHARDS],
    pub misses: AtomicU64,
    pub upstream_requests: AtomicU64,
    pub upstream_failures: AtomicU64,
    failures_by_status: [AtomicU64; STATUS_SLOTS],
    pub coalesced_waiters: AtomicU64,
    pub stale_served: AtomicU64,
    pub refresh_ahead_runs: AtomicU64,
    pub evictions: AtomicU64,
}

/// A hit-counter shard for a new thread: threads are spread round-robin.
pub(crate) fn next_shard() -> usize {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    (NEXT.fetch_add(1, Relaxed) as usize) % HIT_SHARDS
}

thread_local! {
    static SHARD: usize = next_shard();
}

impl Counters {
    #[inline]
    pub(crate) fn hit(&self) {
        self.hit_on(SHARD.try_with(|s| *s).unwrap_or(0));
    }

    /// A hit on a shard the caller already knows (see `client::hot`).
    #[inline]
    pub(crate) fn hit_on(&self, shard: usize) {
        self.hits[shard % HIT_SHARDS].0.fetch_add(1, Relaxed);
    }

    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub(crate) fn upstream_failure(&self, status: Status) {
        self.upstream_failures.fetch_add(1, Relaxed);
        let slot = usize::try_from(status.code())
            .unwrap_or(0)
            .min(STATUS_SLOTS - 1);
        self.failures_by_status[slot].fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self, cached_programs: u64) -> Stats {
        Stats {
            cache_hits: self.hits.iter().map(|h| h.0.load(Relaxed)).sum(),
            cache_misses: self.misses.load(Relaxed),
            upstream_requests: self.upstream_requests.load(Relaxed),
            upstream_failures: self.upstream_failures.load(Relaxed),
            upstream_failures_by_status: std::array::from_fn(|i| {
                self.failures_by_status[i].load(Relaxed)
            }),
            coalesced_waiters: self.coalesced_waiters.load(Relaxed),
            stale_served: self.stale_served.load(Relaxed),
            refresh_ahead_runs: self.refresh_ahead_runs.load(Relaxed),
            cached_programs,
            evictions: self.evictions.load(Relaxed),
        }
    }
}
