//! Program-id validation: the only user input that reaches a URL path.
//!
//! The API documents `programId` as a string of at most 32 characters (a 32-hex-digit id in
//! practice). Accepting only `[A-Za-z0-9_-]` means an id can never change the request path
//! (`/`, `..`, `%2F`), add a query (`?`, `#`) or smuggle bytes into the request line.

use crate::error::Error;

/// The longest program id the API accepts.
pub const MAX_PROGRAM_ID_LEN: usize = 32;

/// Checks `bytes` and returns it as `&str` when it is a valid program id.
pub fn validate_program_id(bytes: &[u8]) -> Result<&str, Error> {
    if bytes.is_empty() {
        return Err(Error::invalid("program id is empty"));
    }
    if bytes.len() > MAX_PROGRAM_ID_LEN {
        return Err(Error::invalid(format!(
            "program id is longer than {MAX_PROGRAM_ID_LEN} bytes"
        )));
    }
    if let Some(pos) = bytes.iter().position(|&b| !is_id_byte(b)) {
        let b = bytes[pos];
        let shown = if b.is_ascii_graphic() || b == b' ' {
            format!("'{}'", b as char)
        } else {
            format!("byte 0x{b:02x}")
        };
        return Err(Error::invalid(format!(
            "program id has {shown} at position {pos}; only A-Z a-z 0-9 _ - are allowed"
        )));
    }
    // Every byte is ASCII, so this cannot fail; the check is kept instead of `unsafe`.
    std::str::from_utf8(bytes).map_err(|_| Error::internal("validated program id is not UTF-8"))
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn accepts_documented_and_edge_ids() {
        for ok in [
            "223fc70098ad11e9a5898928ba7882e6",
            "a",
            "A-z_0-9",
            &"x".repeat(32),
        ] {
            assert_eq!(validate_program_id(ok.as_bytes()).unwrap(), ok);
        }
    }

    #[test]
    fn rejects_everything_else_with_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (&[b'x'; 33], "longer than 32"),
            (b"a/b", "'/' at position 1"),
            (b"..", "'.' at position 0"),
            (b"a%2Fb", "'%'"),
            (b"a?b", "'?'"),
            (b"a#b", "'#'"),
            (b"a b", "' '"),
            (b"a\tb", "byte 0x09"),
            (b"a\x7f", "byte 0x7f"),
            ("项目".as_bytes(), "byte 0xe9 at position 0"),
            (b"ab\xff\xfe", "byte 0xff at position 2"),
        ];
        for (input, reason) in cases {
            let err = validate_program_id(input).unwrap_err();
            assert_eq!(err.status(), Status::InvalidArgument);
            assert!(
                err.message().contains(reason),
                "{input:?}: {}",
                err.message()
            );
        }
    }
}
