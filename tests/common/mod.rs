//! Helpers shared by the tests that compile C/C++ programs against the library or build it.
// Each test binary uses part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the `libky_access_token.so` that *this* `cargo test` run built:
/// target/<profile>/deps, next to the test executable (never a stale copy from an older build).
pub fn lib_dir() -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(
        deps.join("libky_access_token.so").exists(),
        "{} has no libky_access_token.so; run through `cargo test`",
        deps.display()
    );
    deps
}

/// Compiles `source` with `-Wall -Wextra -Werror -pedantic` against the committed header and the
/// freshly built shared library; panics with the compiler's output on failure.
pub fn compile(compiler: &str, lang: &[&str], source: &str, name: &str) -> PathBuf {
    let lib = lib_dir();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-programs");
    std::fs::create_dir_all(&out).unwrap();
    let program = out.join(name);
    let result = Command::new(compiler)
        .args(lang)
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-g", "-pthread"])
        .arg("-I")
        .arg(root().join("include"))
        .arg(root().join(source))
        .arg("-o")
        .arg(&program)
        .arg("-L")
        .arg(&lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lky_access_token")
        .output()
        .unwrap_or_else(|e| panic!("{compiler} is required for this test: {e}"));
    assert!(
        result.status.success(),
        "{compiler} {source} failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    program
}

/// `cargo build --release -p ky-access-token -p ky-sandbox`, exactly as examples/quickstart.sh
/// runs it, so the two share one release build. The variables cargo sets for this test process
/// are removed first: build scripts (ring's) track CARGO_MANIFEST_DIR, and a value the
/// quickstart's build does not see would make each build recompile what the other built.
pub fn release_build() -> Command {
    let mut build = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    outside_cargo_test(&mut build);
    build
        .current_dir(root())
        .args(["build", "--release", "--quiet", "-p", "ky-access-token"])
        .args(["-p", "ky-sandbox"]);
    if std::env::var("KY_OFFLINE").is_ok_and(|v| v == "1") {
        build.arg("--offline");
    }
    build
}

/// Removes the variables `cargo test` set for this process from `command`'s environment, so a
/// cargo build it runs shares its fingerprints with one run from a shell (see `release_build`).
pub fn outside_cargo_test(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo_test = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&&*name);
        if set_by_cargo_test {
            command.env_remove(&*name);
        }
    }
}

/// Runs `command` to completion with a hard limit (killed and failed past it); stdout and
/// stderr go through files, so a chatty child can never block on a full pipe.
pub fn output_within(command: &mut Command, limit: std::time::Duration, name: &str) -> Output {
    use std::time::Instant;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("outputs");
    std::fs::create_dir_all(&dir).unwrap();
    let tag = format!("{name}-{}", std::process::id());
    let (out_path, err_path) = (
        dir.join(format!("{tag}.out")),
        dir.join(format!("{tag}.err")),
    );
    let mut child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{name} did not finish within {limit:?}; its stderr:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

/// An HTTPS sandbox with a throwaway CA written to a fresh folder under the test temp dir (remove
/// it when done), and a configuration for it: `localhost` pinned to 127.0.0.1, no retries.
pub fn tls_sandbox(name: &str) -> (ky_sandbox::Sandbox, PathBuf, ky_access_token::Config) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sandbox = ky_sandbox::Sandbox::start(ky_sandbox::SandboxOptions {
        tls_dir: Some(dir.clone()),
        ..ky_sandbox::SandboxOptions::default()
    })
    .unwrap();
    let config = ky_access_token::Config::new()
        .base_url(sandbox.base_url())
        .max_retries(0)
        .static_hosts([("localhost".to_owned(), [127, 0, 0, 1].into())]);
    (sandbox, dir, config)
}

/// Runs `call` on `threads` threads released together by a barrier; their results, in order.
pub fn together<T: Send + 'static>(
    threads: usize,
    call: impl Fn() -> T + Send + Sync + 'static,
) -> Vec<T> {
    use std::sync::{Arc, Barrier};
    let barrier = Arc::new(Barrier::new(threads));
    let call = Arc::new(call);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (barrier, call) = (Arc::clone(&barrier), Arc::clone(&call));
            std::thread::spawn(move || {
                barrier.wait();
                call()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}
