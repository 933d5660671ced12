//! The client's notion of "now": the monotonic system clock, or a hand-driven one for tests.
//!
//! Times are nanoseconds on a monotonic clock, a `u64`, so cache entries can keep them in
//! atomics and the hit path never takes a lock to read or update one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A clock for tests: time stands still until [`ManualClock::advance`] moves it. Give it to
/// [`Config::clock`](crate::Config::clock) to drive TTL, refresh-ahead and the stale window
/// exactly (network deadlines and retry pauses stay on real time).
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock at zero.
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(nanos(by), Ordering::SeqCst);
    }

    /// Time since the clock was made, as the client sees it.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::SeqCst))
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Clock {
    System,
    Manual(ManualClock),
}

impl Clock {
    pub(crate) fn system() -> Clock {
        Clock::System
    }

    /// Nanoseconds on a monotonic clock (an arbitrary origin, not the epoch); never goes backwards.
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        match self {
            Clock::System => coarse_now(),
            Clock::Manual(manual) => manual.0.load(Ordering::SeqCst),
        }
    }
}

/// The monotonic clock at the kernel's tick resolution (1–4 ms), which the vDSO reads without
/// touching the TSC: a few nanoseconds on every cache hit instead of ~25. Cache decisions
/// (TTL of seconds, refresh-ahead, stale window) need nothing finer. Deadlines and timings
/// use `Instant`.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
fn coarse_now() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a valid out pointer; cannot fail on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// Elsewhere, `Instant` against a process-wide epoch.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[inline]
fn coarse_now() -> u64 {
    use std::time::Instant;
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    nanos(EPOCH.get_or_init(Instant::now).elapsed())
}

/// A duration in nanoseconds, saturating (584 years is "never").
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Milliseconds for messages.
pub(crate) fn millis(nanos: u64) -> u64 {
    nanos / 1_000_000
}
