//! The client's notion of "now": the monotonic system clock, or a hand-driven one for tests.
//!
//! Times are nanoseconds since the clock's epoch, a `u64`, so cache entries can keep them in
//! atomics and the hit path never takes a lock to read or update one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    System(Instant),
    Manual(ManualClock),
}

impl Clock {
    pub(crate) fn system() -> Clock {
        Clock::System(Instant::now())
    }

    /// Nanoseconds since the epoch; never goes backwards.
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        match self {
            Clock::System(epoch) => nanos(epoch.elapsed()),
            Clock::Manual(manual) => manual.0.load(Ordering::SeqCst),
        }
    }
}

/// A duration in nanoseconds, saturating (584 years is "never").
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Milliseconds for messages.
pub(crate) fn millis(nanos: u64) -> u64 {
    nanos / 1_000_000
}
