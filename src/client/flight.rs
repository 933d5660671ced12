//! One upstream fetch that any number of callers wait on (single-flight).

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Instant;

use crate::error::Error;
use crate::token::AccessToken;

/// What a fetch hands to everyone who waited on it: the token, and whether it is the last good
/// one served past its TTL because refreshing failed (stale-if-error).
pub(crate) type Outcome = Result<(AccessToken, Freshness), Error>;

#[derive(Clone, Debug)]
pub(crate) enum Freshness {
    Fresh,
    /// Served `age` clock-nanoseconds after it was fetched because refreshing failed with `cause`.
    Stale {
        age: u64,
        cause: Error,
    },
}

#[derive(Default)]
pub(crate) struct Flight {
    result: Mutex<Option<Outcome>>,
    done: Condvar,
}

impl Flight {
    /// The leader's outcome, or `None` if it has not come by `deadline` (the waiter's own:
    /// a leader that hangs, or does not exist, never holds a caller past its timeout).
    pub(crate) fn wait(&self, deadline: Instant) -> Option<Outcome> {
        let mut slot = self.result.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(result) = slot.as_ref() {
                return Some(result.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            slot = self
                .done
                .wait_timeout(slot, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    pub(crate) fn publish(&self, result: Outcome) {
        *self.result.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        self.done.notify_all();
    }
}
