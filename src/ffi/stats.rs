//! `ky_stats`: the versioned counters struct and its size-negotiating writer.

use super::boundary::Failure;
use crate::error::Error;
use crate::stats::{STATUS_SLOTS, Stats};

/// Version of `ky_stats` this header describes. Fields are only ever appended; a library newer
/// than the header fills just the fields the caller's `sizeof(ky_stats)` has room for.
pub const KY_STATS_VERSION: u32 = 1;

/// Slots in `ky_stats.upstream_failures_by_status`, indexed by `ky_status` code.
pub const KY_STATUS_SLOTS: usize = 16;
const _: () = assert!(KY_STATUS_SLOTS == STATUS_SLOTS);

/// A client's counters since it was created, filled by `ky_client_stats` / `ky_get_stats`.
/// Counters are read one by one, not as an atomic snapshot, so they may be a call apart.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ky_stats {
    /// `KY_STATS_VERSION` of the library that filled it.
    pub version: u32,
    /// Bytes of this struct the library wrote.
    pub size: u32,
    /// Calls answered from the cache with a fresh token.
    pub cache_hits: u64,
    /// Calls that found no fresh token and fetched it or waited for a fetch.
    pub cache_misses: u64,
    /// HTTP requests sent upstream (retries and background refreshes included).
    pub upstream_requests: u64,
    /// Upstream requests that failed.
    pub upstream_failures: u64,
    /// `upstream_failures` by `ky_status` code (index 3 = `KY_ERR_NETWORK`, …).
    pub upstream_failures_by_status: [u64; KY_STATUS_SLOTS],
    /// Calls that waited for another caller's fetch instead of sending their own.
    pub coalesced_waiters: u64,
    /// Calls answered with the last good token past its TTL because refreshing failed.
    pub stale_served: u64,
    /// Background refreshes (refresh-ahead and prefetch).
    pub refresh_ahead_runs: u64,
    /// Program ids with a token in the cache now.
    pub cached_programs: u64,
}

/// Writes `stats` as a `ky_stats` into the caller's `out_size` bytes.
///
/// # Safety
/// `out` is NULL or writable for `out_size` bytes.
pub(crate) unsafe fn write_stats(
    stats: &Stats,
    out: *mut ky_stats,
    out_size: usize,
) -> Result<(), Failure> {
    const HEADER: usize = 8;
    if out.is_null() {
        return Err(Error::invalid("out is NULL").into());
    }
    if out_size < HEADER {
        return Err(Error::invalid(format!(
            "out_size is {out_size}; pass sizeof(ky_stats) (at least {HEADER})"
        ))
        .into());
    }
    let size = out_size.min(size_of::<ky_stats>());
    let value = ky_stats {
        version: KY_STATS_VERSION,
        size: size as u32,
        cache_hits: stats.cache_hits,
        cache_misses: stats.cache_misses,
        upstream_requests: stats.upstream_requests,
        upstream_failures: stats.upstream_failures,
        upstream_failures_by_status: stats.upstream_failures_by_status,
        coalesced_waiters: stats.coalesced_waiters,
        stale_served: stats.stale_served,
        refresh_ahead_runs: stats.refresh_ahead_runs,
        cached_programs: stats.cached_programs,
    };
    // SAFETY: `out` is writable for `out_size >= size` bytes (it may be unaligned or smaller than
    // a whole `ky_stats` when built against an older header, hence a byte copy).
    unsafe {
        std::ptr::copy_nonoverlapping((&raw const value).cast::<u8>(), out.cast::<u8>(), size);
    }
    Ok(())
}
