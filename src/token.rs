//! [`AccessToken`]: the secret, handled so it does not leak by accident.

use std::fmt;
use std::sync::Arc;

/// An access token. Cheap to clone (shared, immutable). Its `Debug` output is redacted, it has no
/// `Display`, and its bytes are overwritten with zeros when the last clone is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(Arc<ZeroOnDrop>);

impl AccessToken {
    /// Wraps a token that has already been validated by the response parser.
    pub(crate) fn new(token: String) -> AccessToken {
        AccessToken(Arc::new(ZeroOnDrop(token.into_bytes().into_boxed_slice())))
    }

    /// The token text. Handle with care: do not log it.
    pub fn as_str(&self) -> &str {
        // The bytes came from a `String` and are never mutated before drop.
        std::str::from_utf8(&self.0.0).unwrap_or_default()
    }

    /// The token bytes, without a trailing NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.0.len()
    }

    /// Always false for a token from the API (empty tokens are rejected), provided for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.0.0.is_empty()
    }

    /// True when both handles share one allocation (the same fetch).
    pub fn same_fetch(&self, other: &AccessToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessToken(<redacted, {} bytes>)", self.len())
    }
}

#[derive(PartialEq, Eq)]
struct ZeroOnDrop(Box<[u8]>);

impl Drop for ZeroOnDrop {
    fn drop(&mut self) {
        zero(&mut self.0);
    }
}

/// Overwrites `bytes` with zeros in a way the optimizer may not remove as a dead store.
pub(crate) fn zero(bytes: &mut [u8]) {
    for b in bytes.iter_mut() {
        // SAFETY: `b` is a valid, exclusive reference to one byte.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Compares two byte strings without an early exit on the first difference, so the time taken
/// does not tell an attacker how much of a guessed token was right. (The length is not secret.)
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let t = AccessToken::new("27_secret_value".into());
        let shown = format!("{t:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(shown, "AccessToken(<redacted, 15 bytes>)");
        assert_eq!(t.as_str(), "27_secret_value");
    }

    #[test]
    fn zero_overwrites() {
        let mut buf = *b"token";
        zero(&mut buf);
        assert_eq!(buf, [0; 5]);
    }
}
