//! Threaded stress of the C ABI against a flapping sandbox: tests/c/stress.c (C11, -Wall -Wextra
//! -Werror -pedantic) calls the default client, a shared client and short-lived clients from many
//! threads — gets, `_alloc`, async gets, invalidations, compare-and-invalidate — while this test
//! switches 503 outages on and off and rotates tokens in the in-process sandbox. A 50 ms cache TTL
//! keeps fetches, coalescing, stale serving and invalidation racing all the time.
//!
//! Checked: every token is one the sandbox issued for that very program id; every status is OK or
//! the outage's HTTP_STATUS (CANCELLED too for a client freed with calls queued); every async call
//! called back exactly once; `ky_client_free` waited for its callbacks; no crash. Run natively,
//! then under valgrind's helgrind and DRD (races, lock misuse) with the named suppressions in
//! tests/helgrind.supp. With CI=true, valgrind is required.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ky_sandbox::Sandbox;

mod common;
use common::{compile, root};

const IDS: [&str; 4] = ["stress-a", "stress-b", "stress-c", "stress-d"];
/// Async calls each thread queues on a client it frees at once (PRIVATE_ASYNC in stress.c).
const PRIVATE_ASYNC: usize = 6;
const HTTP_STATUS: i32 = 6;
const CANCELLED: i32 = 10;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn driver() -> &'static Path {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| compile("gcc", &["-std=c11"], "tests/c/stress.c", "stress"))
}

/// What the flapping did while the driver ran.
#[derive(Debug, Default)]
struct Flaps {
    outages: u32,
    rotations: u32,
}

/// Toggles outages and rotates tokens every few milliseconds until `stop` (a fixed pseudo-random
/// sequence, so a failure can be rerun).
fn flap(sandbox: &Sandbox, stop: &AtomicBool) -> Flaps {
    let mut flaps = Flaps::default();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut outage_steps = 0;
    while !stop.load(Ordering::Relaxed) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if outage_steps > 0 {
            outage_steps -= 1;
            if outage_steps == 0 {
                sandbox.set_outage(None);
            }
        } else if state % 5 == 0 {
            sandbox.set_outage(Some(503));
            flaps.outages += 1;
            outage_steps = 1 + (state >> 8) % 3;
        }
        if state % 3 == 0 {
            sandbox.rotate(IDS[(state >> 16) as usize % IDS.len()]);
            flaps.rotations += 1;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    sandbox.set_outage(None);
    flaps
}

/// One line of the driver's output.
struct Line {
    source: String,
    id: String,
    status: i32,
    token: String,
}

fn parse(line: &str) -> Line {
    let mut fields = line.splitn(4, ' ');
    let mut next = || {
        fields
            .next()
            .unwrap_or_else(|| panic!("short line {line:?}"))
    };
    Line {
        source: next().to_owned(),
        id: next().to_owned(),
        status: next()
            .parse()
            .unwrap_or_else(|_| panic!("bad status in {line:?}")),
        token: next().to_owned(),
    }
}

/// Runs the driver (through `wrapper`, e.g. valgrind) against a flapping sandbox and checks
/// every result; returns the driver's stdout.
fn stress(name: &str, wrapper: &[String], threads: usize, calls: usize) -> String {
    let sandbox = Sandbox::start_default().unwrap();
    let base = sandbox.base_url();
    let out_file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.txt"));
    let mut command = match wrapper.split_first() {
        Some((tool, args)) => {
            let mut c = Command::new(tool);
            c.args(args).arg(driver());
            c
        }
        None => Command::new(driver()),
    };
    command
        .arg(&out_file)
        .arg(threads.to_string())
        .arg(calls.to_string())
        .arg(&base);
    clean_env(&mut command);
    command
        .env("KY_BASE_URL", &base)
        .env("KY_CACHE_TTL_MS", "50")
        .env("KY_MAX_RETRIES", "1")
        // Generous: a valgrind tool slows the driver 50-100x; a timeout here would be noise.
        .env("KY_TIMEOUT_MS", "30000");

    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (output, flaps) = std::thread::scope(|s| {
        let flapper = s.spawn(|| flap(&sandbox, &stop));
        let output = command.output();
        stop.store(true, Ordering::Relaxed);
        (output.unwrap(), flapper.join().unwrap())
    });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!(
        "{name}: {:.1} s, {flaps:?}, {} upstream requests\n{stdout}",
        started.elapsed().as_secs_f64(),
        sandbox.total_requests()
    );
    assert!(
        output.status.success(),
        "{name} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains(", 0 failed"), "{stdout}");

    let text = std::fs::read_to_string(&out_file).unwrap();
    let results: Vec<Line> = text.lines().map(parse).collect();
    assert_eq!(
        results.len(),
        threads * (calls + PRIVATE_ASYNC),
        "one result per call: an async callback was lost or ran twice"
    );
    let newest: HashMap<&str, u64> = IDS
        .iter()
        .map(|&id| {
            (
                id,
                version(id, &sandbox.token(id)).expect("sandbox token format"),
            )
        })
        .collect();
    let mut counts: HashMap<(String, i32), usize> = HashMap::new();
    let mut saw_rotation = false;
    for r in &results {
        *counts.entry((r.source.clone(), r.status)).or_default() += 1;
        let newest = *newest
            .get(r.id.as_str())
            .unwrap_or_else(|| panic!("result for an unknown id {:?}", r.id));
        if r.status == 0 && r.source != "invalidate" && r.source != "invalidate_if" {
            // The token text is a secret in general; these are sandbox tokens, shown to debug.
            let v = version(&r.id, &r.token).unwrap_or_else(|| {
                panic!(
                    "{} got {:?} for {}: not a token of that id",
                    r.source, r.token, r.id
                )
            });
            assert!(
                (1..=newest).contains(&v),
                "{} got v{v} for {}; the sandbox issued v1..=v{newest}",
                r.source,
                r.id
            );
            saw_rotation |= v > 1;
            continue;
        }
        let expected = match r.source.as_str() {
            "get" | "client_get" | "async" | "client_async" => r.status == HTTP_STATUS,
            "private_async" => r.status == HTTP_STATUS || r.status == CANCELLED,
            // _alloc has no status: its message must be the outage's.
            "alloc" => r.status == -1 && r.token.contains("503"),
            // No I/O, nothing that can fail for a valid id.
            "invalidate" | "invalidate_if" => r.status == 0,
            _ => false,
        };
        assert!(
            expected,
            "{} for {}: status {} ({})",
            r.source, r.id, r.status, r.token
        );
    }
    let mut summary: Vec<_> = counts.iter().collect();
    summary.sort();
    eprintln!("{name}: results by (source, status): {summary:?}");
    for source in ["get", "client_get", "alloc", "async", "client_async"] {
        assert!(
            counts.get(&(source.to_owned(), 0)).is_some_and(|&n| n > 0),
            "{source} never succeeded"
        );
    }
    assert!(flaps.rotations > 0 && flaps.outages > 0, "{flaps:?}");
    assert!(
        saw_rotation,
        "no rotated token was ever served: the cache TTL did not force refetches"
    );
    stdout
}

/// No `KY_*` or proxy variable from outside reaches the driver: it talks to the sandbox only.
fn clean_env(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("KY_") || key.to_ascii_lowercase().ends_with("_proxy") {
            command.env_remove(&*key);
        }
    }
}

/// `sandbox_<id>_v<n>` → n.
fn version(id: &str, token: &str) -> Option<u64> {
    token
        .strip_prefix("sandbox_")?
        .strip_prefix(id)?
        .strip_prefix("_v")?
        .parse()
        .ok()
}

fn valgrind_available() -> bool {
    let found = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || !in_ci(),
        "valgrind is required when CI=true (apt-get install valgrind)"
    );
    if !found {
        eprintln!("SKIP: valgrind not found; the helgrind/DRD stress runs need it");
    }
    found
}

fn valgrind(tool: &str) -> Vec<String> {
    vec![
        "valgrind".into(),
        format!("--tool={tool}"),
        "--error-exitcode=99".into(),
        format!(
            "--suppressions={}",
            root().join("tests/helgrind.supp").display()
        ),
    ]
}

#[test]
fn stress_native_16_threads() {
    stress("stress-native", &[], 16, 1500);
}

/// About 10 s: helgrind slows the driver some 50x.
#[test]
fn stress_under_helgrind() {
    if valgrind_available() {
        stress("stress-helgrind", &valgrind("helgrind"), 8, 100);
    }
}

/// DRD is slower still with many threads; a smaller run (a few seconds).
#[test]
fn stress_under_drd() {
    if valgrind_available() {
        stress("stress-drd", &valgrind("drd"), 4, 40);
    }
}

/// The suppressions hide only the library's own accesses: a race planted in the driver's C
/// callback (built with -DSTRESS_INJECT_RACE) must still fail the helgrind and DRD runs.
#[test]
fn suppressions_do_not_hide_races_in_c_code() {
    if !valgrind_available() {
        return;
    }
    let racy = compile(
        "gcc",
        &["-std=c11", "-DSTRESS_INJECT_RACE"],
        "tests/c/stress.c",
        "stress_racy",
    );
    let sandbox = Sandbox::start_default().unwrap();
    let base = sandbox.base_url();
    let out_file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stress-racy.txt");
    for tool in ["helgrind", "drd"] {
        let args = valgrind(tool);
        let mut command = Command::new(&args[0]);
        clean_env(&mut command);
        let output = command
            .args(&args[1..])
            .arg(&racy)
            .arg(&out_file)
            .args(["4", "20", &base])
            .env("KY_BASE_URL", &base)
            .env("KY_CACHE_TTL_MS", "0")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(99),
            "{tool} missed the race:\n{stderr}"
        );
        assert!(stderr.contains("on_token (stress.c:"), "{tool}:\n{stderr}");
    }
}
