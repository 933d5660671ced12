//! One upstream fetch that any number of callers wait on (single-flight).

use std::sync::{Condvar, Mutex, PoisonError};

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
    pub(crate) fn wait(&self) -> Outcome {
        let mut slot = self.result.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(result) = slot.as_ref() {
                return result.clone();
            }
            slot = self.done.wait(slot).unwrap_or_else(PoisonError::into_inner);
        }
    }

    pub(crate) fn publish(&self, result: Outcome) {
        *self.result.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        self.done.notify_all();
    }
}
