//! Fuzzing, as a test (the fuzz targets themselves live in fuzz/, see fuzz/README.md):
//!
//! - the committed seed corpus, fuzz/corpus/<target>/*, replayed through the very checks the fuzz
//!   targets run (fuzz/checks/, included below): fast, needs no cargo-fuzz, always runs, and
//!   keeps every crash input ever found as a regression test;
//! - `bash fuzz/run.sh 5`: each target fuzzed for 5 s; needs cargo-fuzz, which is required when
//!   CI=true (outside CI, without it, that one test prints SKIP and checks nothing).
#![cfg(target_os = "linux")]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::Command;

#[path = "../fuzz/checks/mod.rs"]
mod checks;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `check` on every file of fuzz/corpus/<target>/ and reports all failures at once.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = root().join("fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "{}: only {} seeds",
        dir.display(),
        files.len()
    );
    let failed: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let input = std::fs::read(file).unwrap();
            catch_unwind(AssertUnwindSafe(|| check(&input)))
                .err()
                .map(|_| file.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: {} of {} corpus inputs fail their checks (messages above): {failed:?}",
        failed.len(),
        files.len()
    );
    eprintln!("{target}: {} corpus inputs pass", files.len());
}

#[test]
fn response_parser_corpus() {
    replay("response_parser", checks::response::check);
}

#[test]
fn program_id_corpus() {
    replay("program_id", checks::program_id::check);
}

/// Its callbacks run on library threads, where a failed check aborts this test binary (a panic
/// cannot unwind out of an `extern "C"` function): that is still a failure, with the message.
#[test]
fn c_entry_points_corpus() {
    // Before the default client exists: it must only ever see the closed port.
    checks::c_entry_points::prepare_environment();
    replay("c_entry_points", checks::c_entry_points::check);
}

#[test]
fn fuzz_targets_run_5_seconds_each_without_a_crash() {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        assert!(
            !in_ci,
            "cargo-fuzz is required when CI=true: cargo install cargo-fuzz"
        );
        eprintln!("SKIP: cargo-fuzz is not installed (cargo install cargo-fuzz); nothing checked");
        return;
    }
    let output = Command::new("bash")
        .arg(root().join("fuzz/run.sh"))
        .arg("5")
        // The long-campaign switch must never soften this test.
        .env_remove("KY_FUZZ_KNOWN_BUGS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "fuzz/run.sh 5 failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("total: ") && last.ends_with(" executions, 0 crashes"),
        "{stdout}"
    );
}
