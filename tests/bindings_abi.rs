//! The C#, Python and C++ declarations match `include/ky_access_token.h`: every function's
//! argument and return types, every enum value, every struct's fields and size, the callbacks and
//! the repeated constants (tests/abi/abi_check.py; docs/abi-check.md). The same run proves the
//! checker reports each kind of mismatch (tests/abi/test_abi_check.py mutates its inputs).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{lib_dir, root};

#[test]
fn bindings_match_the_header() {
    let mut child = Command::new("python3")
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
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is required for this test (the Python binding needs it too)");
    // A hard limit: the checks take well under a second; nothing here waits on the network.
    let limit = Instant::now() + Duration::from_secs(300);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > limit {
            child.kill().unwrap();
            panic!("the ABI check did not finish in 300 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("\nOK"), "{report}");
    assert!(!report.contains("skipped"), "{report}");
}
