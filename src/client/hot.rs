//! A per-thread read cache in front of the shared one, so a cache hit writes no shared memory:
//! no lock word, no reference count. Game servers call `get` on hot paths from many threads; with
//! a shared lock every hit would bounce the lock's cache line between cores.
//!
//! Each thread keeps up to [`SLOTS`] snapshots of (client, program id) → token, taken under the
//! shared cache's read lock together with the cache's *version*. Every change to the shared cache
//! (a new token, a failed refresh, an invalidation) bumps the version, so a snapshot is used only
//! while nothing has changed since it was taken, and only until the token's expiry or its
//! refresh-ahead point; anything else falls through to the shared cache, which decides.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::token::AccessToken;

/// Snapshots per thread: more programs than this per thread just take the shared path.
const SLOTS: usize = 16;
/// How often (clock nanoseconds) a hit on a snapshot refreshes its entry's last-use time, for
/// least-recently-used eviction: rarely enough that a hit almost never writes shared memory.
const TOUCH_EVERY: u64 = 1_000_000_000;

pub(crate) struct Snapshot {
    /// Which cache (client) it belongs to: a process-unique number, never reused.
    cache: u64,
    /// The cache version it was taken at.
    version: u64,
    /// The validated program id, as bytes (compared with the caller's bytes before validation,
    /// so a hit also proves the id valid).
    id: Box<[u8]>,
    token: AccessToken,
    /// Clock time the token expires.
    expires_at: u64,
    /// Clock time from which a hit must go to the shared cache to start a refresh-ahead.
    refresh_due: u64,
    /// The entry's last-use time, and when this thread next refreshes it.
    used: Arc<AtomicU64>,
    touch_due: Cell<u64>,
}

impl Snapshot {
    pub(crate) fn new(
        cache: u64,
        version: u64,
        id: &[u8],
        token: AccessToken,
        expires_at: u64,
        refresh_due: u64,
        used: Arc<AtomicU64>,
    ) -> Snapshot {
        let touched = used.load(Ordering::Relaxed);
        Snapshot {
            cache,
            version,
            id: id.into(),
            token,
            expires_at,
            refresh_due,
            used,
            touch_due: Cell::new(touched.saturating_add(TOUCH_EVERY)),
        }
    }
}

struct Hot {
    slots: Vec<Snapshot>,
    /// Next slot to overwrite when all are taken.
    next: usize,
    /// This thread's hit-counter shard (kept here so a hit reads one thread-local, not two).
    shard: usize,
}

thread_local! {
    static HOT: RefCell<Hot> = RefCell::new(Hot {
        slots: Vec::new(),
        next: 0,
        shard: crate::stats::next_shard(),
    });
}

/// Runs `f` on this thread's snapshot of `id` in `cache` if it is still valid at `version` and
/// `now()`, returning its result and this thread's hit-counter shard; `None` sends the caller to
/// the shared cache.
#[inline]
pub(crate) fn lookup<R>(
    cache: u64,
    version: u64,
    id: &[u8],
    now: impl FnOnce() -> u64,
    f: &mut impl FnMut(&AccessToken) -> R,
) -> Option<(R, usize)> {
    HOT.try_with(|hot| {
        let hot = hot.try_borrow().ok()?;
        let snap = hot
            .slots
            .iter()
            .find(|s| s.cache == cache && *s.id == *id)?;
        if snap.version != version {
            return None;
        }
        let now = now();
        if now >= snap.expires_at || now >= snap.refresh_due {
            return None;
        }
        if now >= snap.touch_due.get() {
            snap.used.store(now, Ordering::Relaxed);
            snap.touch_due.set(now.saturating_add(TOUCH_EVERY));
        }
        Some((f(&snap.token), hot.shard))
    })
    .ok()
    .flatten()
}

/// Keeps `snapshot` for this thread, replacing an older one of the same (cache, id).
pub(crate) fn remember(snapshot: Snapshot) {
    let _ = HOT.try_with(|hot| {
        let Ok(mut hot) = hot.try_borrow_mut() else {
            return;
        };
        if let Some(slot) = hot
            .slots
            .iter_mut()
            .find(|s| s.cache == snapshot.cache && s.id == snapshot.id)
        {
            *slot = snapshot;
        } else if hot.slots.len() < SLOTS {
            hot.slots.push(snapshot);
        } else {
            let next = hot.next;
            hot.slots[next] = snapshot;
            hot.next = (next + 1) % SLOTS;
        }
    });
}

/// Drops this thread's snapshots of `cache` (when it is dropped on this thread), so its tokens
/// are zeroed now rather than when the thread ends. Other threads' snapshots of it can no
/// longer be used (the id is never reused) and are overwritten as those threads go on.
pub(crate) fn forget(cache: u64) {
    let _ = HOT.try_with(|hot| {
        if let Ok(mut hot) = hot.try_borrow_mut() {
            hot.slots.retain(|s| s.cache != cache);
            hot.next = 0;
        }
    });
}
