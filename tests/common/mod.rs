//! Helpers shared by the tests that compile C/C++ programs against the library or build it.
// Each test binary uses part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

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
    compile_against(&lib_dir(), compiler, lang, source, name)
}

/// [`compile`] against the library in `lib` (e.g. target/release).
pub fn compile_against(
    lib: &Path,
    compiler: &str,
    lang: &[&str],
    source: &str,
    name: &str,
) -> PathBuf {
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
        .arg(lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        // DT_RPATH, not DT_RUNPATH: the program loads the library it was built against even
        // under cargo test, whose LD_LIBRARY_PATH (target/debug first) would otherwise win.
        .arg("-Wl,--disable-new-dtags")
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
/// cargo build it runs shares its fingerprints with one run from a shell (see `release_build`),
/// and a program it runs loads the library its rpath names, not one from cargo's
/// `LD_LIBRARY_PATH` (target/debug first).
pub fn outside_cargo_test(command: &mut Command) {
    command.env_remove("LD_LIBRARY_PATH");
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

/// An HTTPS sandbox started with `options` and its throwaway CA written to a fresh folder
/// `tls-NAME-PID` under the test temp dir (returned; remove it when done).
pub fn https_sandbox(
    name: &str,
    options: ky_sandbox::SandboxOptions,
) -> (ky_sandbox::Sandbox, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sandbox = ky_sandbox::Sandbox::start(ky_sandbox::SandboxOptions {
        tls_dir: Some(dir.clone()),
        ..options
    })
    .unwrap();
    (sandbox, dir)
}

/// [`https_sandbox`] with the default options, and a configuration for it: `localhost` pinned to
/// 127.0.0.1, no retries.
pub fn tls_sandbox(name: &str) -> (ky_sandbox::Sandbox, PathBuf, ky_access_token::Config) {
    let (sandbox, dir) = https_sandbox(name, ky_sandbox::SandboxOptions::default());
    let config = ky_access_token::Config::new()
        .base_url(sandbox.base_url())
        .max_retries(0)
        .static_hosts([("localhost".to_owned(), [127, 0, 0, 1].into())]);
    (sandbox, dir, config)
}

/// `http://127.0.0.1:PORT` where nothing listens (the port was bound, then released): every
/// connection is refused.
pub fn dead_base_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
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

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

pub fn tool_available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `command` to completion with stdout and stderr captured, but for at most `limit`: a hang
/// is killed and fails the test instead of hanging CI. The limit is a hang detector, never a
/// performance margin: keep it minutes above the slowest run seen under valgrind.
///
/// The command runs in a process group of its own, and the whole group is killed at the limit,
/// and once the command has ended: a forked child left hanging (the very thing a fork test looks
/// for) would otherwise hold the output pipes open and hang this function.
pub fn output_within(command: &mut Command, limit: std::time::Duration) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    let kill_group = |leader: u32| {
        #[cfg(unix)]
        // SAFETY: plain kill(2) of the group this function created (its id is the leader's pid).
        unsafe {
            libc::kill(-(leader as libc::pid_t), libc::SIGKILL)
        };
        #[cfg(not(unix))]
        let _ = leader;
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            kill_group(child.id());
            break status;
        }
        if std::time::Instant::now() >= deadline {
            kill_group(child.id());
            let _ = child.kill(); // the leader, where there are no process groups
            let _ = child.wait();
            panic!(
                "{command:?} did not finish within {limit:?} (a hang): killed\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&stdout.join().unwrap()),
                String::from_utf8_lossy(&stderr.join().unwrap())
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// How a C test program runs: under valgrind's memcheck (required when CI=true) or natively.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Under {
    Valgrind,
    Native,
}

/// Hard limit for one C test program run (see [`output_within`]).
pub const C_RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The environment a C test program runs in: `KY_MAX_RETRIES=1`, a generous `KY_TIMEOUT_MS` (no
/// case may turn into KY_ERR_TIMEOUT by being slow under valgrind or emulation; the one timeout
/// case sets its own short deadline), the proxy variables and `remove` unset, then `env`.
pub fn c_program_env(command: &mut Command, remove: &[&str], env: &[(&str, &str)]) {
    command
        .env("KY_MAX_RETRIES", "1")
        .env("KY_TIMEOUT_MS", "120000")
        // cargo test's LD_LIBRARY_PATH lists target/debug, where an older `cargo build` may have
        // left a stale library: the program must load the one its rpath names (the fresh test
        // build, or the archive under test in tests/dist.rs).
        .env_remove("LD_LIBRARY_PATH");
    without_proxies(command);
    for name in remove {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
}

/// Unsets every proxy variable the library (and curl-style tools) read, so that `command` talks
/// to the loopback sandbox directly whatever this machine's environment says.
pub fn without_proxies(command: &mut Command) {
    for name in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(name);
    }
}

/// Runs a C test program with `env` (proxy variables and `remove` unset), `KY_MAX_RETRIES=1` and
/// a generous `KY_TIMEOUT_MS` (under valgrind on a loaded 2-core machine one TLS handshake takes
/// seconds: no case may turn into KY_ERR_TIMEOUT by being slow). Asserts it passed; returns
/// its output.
pub fn run_c_program(
    program: &Path,
    under: Under,
    args: &[&str],
    env: &[(&str, &str)],
    remove: &[&str],
) -> std::process::Output {
    let use_valgrind = under == Under::Valgrind && tool_available("valgrind");
    assert!(
        use_valgrind || under == Under::Native || !in_ci(),
        "valgrind is required when CI=true (apt-get install valgrind)"
    );
    if under == Under::Valgrind && !use_valgrind {
        eprintln!("WARNING: valgrind not found; running the C tests without memcheck");
    }
    let mut command = if use_valgrind {
        let mut c = Command::new("valgrind");
        c.args([
            "--quiet",
            "--error-exitcode=99",
            "--leak-check=full",
            "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect",
        ])
        .arg(format!(
            "--suppressions={}",
            root().join("tests/valgrind.supp").display()
        ))
        .arg(program);
        c
    } else {
        Command::new(program)
    };
    command.args(args);
    c_program_env(&mut command, remove, env);
    let output = output_within(&mut command, C_RUN_LIMIT);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{} {args:?} failed ({}):\n{stdout}\n{}",
        program.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(", 0 failed"), "{stdout}");
    output
}

/// tests/c/NAME.c, built once per test binary as C++17 and as C11 (both must compile cleanly);
/// the C11 program.
pub fn c_test_program(name: &str) -> &'static Path {
    use std::sync::Mutex;
    static BUILT: Mutex<Vec<(String, &'static Path)>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, path)) = built.iter().find(|(n, _)| n == name) {
        return path;
    }
    let source = format!("tests/c/{name}.c");
    compile(
        "g++",
        &["-x", "c++", "-std=c++17"],
        &source,
        &format!("{name}_cpp"),
    );
    let path: &'static Path =
        Box::leak(compile("gcc", &["-std=c11"], &source, name).into_boxed_path());
    built.push((name.to_owned(), path));
    path
}
