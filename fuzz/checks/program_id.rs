//! `validate_program_id`: Ok exactly for 1..=32 bytes of `[A-Za-z0-9_-]`, returning the same
//! bytes; otherwise INVALID_ARGUMENT with a short, printable message. Never panics.

use ky_access_token::{Status, validate_program_id};

/// The rule from README.md, written independently of the library's code.
pub fn is_valid_id(bytes: &[u8]) -> bool {
    (1..=32).contains(&bytes.len())
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn check(bytes: &[u8]) {
    match validate_program_id(bytes) {
        Ok(id) => {
            assert!(is_valid_id(bytes), "accepted an invalid id {bytes:?}");
            assert_eq!(id.as_bytes(), bytes, "returned other bytes than given");
        }
        Err(e) => {
            assert!(!is_valid_id(bytes), "rejected a valid id {bytes:?}");
            assert_eq!(e.status(), Status::InvalidArgument, "{}", e.message());
            let msg = e.message();
            // The id is user input: the message may name one byte of it, never dump it.
            assert!(!msg.is_empty() && msg.len() <= 120, "message: {msg:?}");
            assert!(!msg.chars().any(char::is_control), "message: {msg:?}");
        }
    }
}
