//! The benchmark drivers build and run: `bash benches/run.sh --quick` compiles every driver
//! against the library and runs each briefly against local sandboxes. It exits non-zero if a
//! driver fails, a stampede round sent more than one upstream request, or (CI=true) gcc or python3
//! is missing. Not a benchmark: the figures of a quick run on a debug build mean nothing; see
//! docs/benchmarks.md for the real run.

use std::process::Command;
use std::time::Instant;

#[test]
fn benchmark_drivers_build_and_run() {
    let started = Instant::now();
    let out = Command::new("bash")
        .args(["benches/run.sh", "--quick"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("bash is required to run benches/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "benches/run.sh --quick failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("bench: all drivers ran"), "{stdout}");
    // Every section ran and produced figures (a section that failed is listed as FAILED above).
    for section in [
        "1-2 cached hit",
        "3 stampede",
        "4 fetch over loopback TLS",
        "5 refresh-ahead",
        "6 footprint",
        "7 bindings",
    ] {
        assert!(
            stdout.contains(&format!("**{section}")),
            "no {section} table:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("256 threads: upstream requests per round | 1 "),
        "the 256-thread stampede must make exactly one request:\n{stdout}"
    );
    eprintln!("benches/run.sh --quick took {:?}", started.elapsed());
}
