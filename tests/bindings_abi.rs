//! The C#, Python and C++ declarations match `include/ky_access_token.h`: every function's
//! argument and return types, every enum value, every struct's fields and size, the callbacks and
//! the repeated constants (tests/abi/abi_check.py; docs/abi-check.md). The same run proves the
//! checker reports each kind of mismatch (tests/abi/test_abi_check.py mutates its inputs).

use std::process::Command;
use std::time::Duration;

mod common;
use common::{lib_dir, output_within, root};

#[test]
fn bindings_match_the_header() {
    let out = output_within(
        Command::new("python3")
            .args(["-m", "unittest", "discover", "-v", "-s"])
            .arg(root().join("tests/abi"))
            .current_dir(root())
            .env(
                "KY_ACCESS_TOKEN_LIB",
                lib_dir().join("libky_access_token.so"),
            )
            .env(
                "KY_STATS_SIZE",
                size_of::<ky_access_token::ffi::ky_stats>().to_string(),
            )
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        // A hard limit: the checks take well under a second; nothing here waits on the network.
        Duration::from_secs(300),
    );
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("\nOK"), "{report}");
    assert!(!report.contains("skipped"), "{report}");
}
