//! The process model, tested the way real hosts use the library (issue: field-proof process
//! model): fork with pooled connections, threads and fetches in flight; a log callback that
//! waits for another thread's fetch while a third removes it; a host that ends a worker inside
//! a callback; SOCKS proxies in the environment; connect timeouts; CA files that are not files.
//!
//! Each case runs tests/c/test_process.c (or test_api.c's one-call mode) against the sandbox
//! under a hard timeout, and asserts the library wrote nothing to stderr. The fork cases run
//! natively (what they test is the child's behaviour, and a child's copy of its parent's heap
//! is no leak); the others under valgrind's memcheck.

#![cfg(unix)]

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ky_sandbox::{Sandbox, SandboxOptions};

mod common;
use common::{Under, c_test_program, https_sandbox, run_c_program};

fn process_program() -> &'static Path {
    c_test_program("test_process")
}

fn api_program() -> &'static Path {
    c_test_program("test_api")
}

/// Runs one mode; asserts it passed and that nothing reached stderr (the library never writes
/// there; valgrind runs with --quiet and reports only errors).
fn run_mode(mode: &str, under: Under, env: &[(&str, &str)]) -> String {
    let output = run_c_program(process_program(), under, &[mode], env, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "{mode}: stderr is not empty:\n{stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Starts a plain-HTTP sandbox, runs `mode` against it, and returns the sandbox for assertions.
fn run_in_sandbox(mode: &str, under: Under, extra: &[(&str, &str)]) -> Sandbox {
    let sandbox = Sandbox::start_default().unwrap();
    let base = sandbox.base_url();
    let mut env = vec![("KY_BASE_URL", base.as_str())];
    env.extend_from_slice(extra);
    run_mode(mode, under, &env);
    sandbox
}

/// `test_api expect STATUS ID SUBSTRING` with `env`: one call, its status and message checked.
fn expect(status: i32, substring: &str, env: &[(&str, &str)]) {
    let status = status.to_string();
    let output = run_c_program(
        api_program(),
        Under::Valgrind,
        &["expect", &status, "abc", substring],
        env,
        &["KY_CA_FILE", "SSL_CERT_FILE", "SSL_CERT_DIR"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "stderr is not empty:\n{stderr}");
}

/// Every process fetched each of its own ids exactly once and got its own token (the C program
/// checks the token; this checks nobody answered from a response meant for another process).
fn assert_each_id_fetched_once(sandbox: &Sandbox) {
    for proc in 0..4 {
        for thread in 0..4 {
            for i in 0..10 {
                let id = format!("p{proc}_{thread}_{i}");
                assert_eq!(sandbox.requests(&id), 1, "{id}");
            }
        }
    }
    assert_eq!(
        sandbox.requests("p_parent"),
        1,
        "the children used the cached token"
    );
}

#[test]
fn fork_with_a_pooled_connection_plain_http() {
    let sandbox = run_in_sandbox("fork-pool", Under::Native, &[]);
    assert_each_id_fetched_once(&sandbox);
}

#[test]
fn fork_with_a_pooled_connection_tls() {
    let (sandbox, dir) = https_sandbox("fork-tls", SandboxOptions::default());
    let base = sandbox.base_url();
    let ca = sandbox.ca_pem_path().unwrap().display().to_string();
    run_mode(
        "fork-pool",
        Under::Native,
        &[("KY_BASE_URL", &base), ("KY_CA_FILE", &ca)],
    );
    assert_each_id_fetched_once(&sandbox);
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs `mode` natively against a fresh sandbox with `env`; each of `ids` reached it once.
fn run_fetching_each_once(mode: &str, env: &[(&str, &str)], ids: &[&str]) {
    let sandbox = run_in_sandbox(mode, Under::Native, env);
    for id in ids {
        assert_eq!(sandbox.requests(id), 1, "{mode}: {id}");
    }
}

#[test]
fn fork_while_another_thread_leads_a_fetch() {
    let sandbox = run_in_sandbox("fork-inflight", Under::Native, &[]);
    assert_eq!(
        sandbox.requests("slow-1500"),
        2,
        "the parent's leader and the child's own fetch"
    );
}

#[test]
fn fork_while_another_thread_makes_the_default_client() {
    // The making takes 2 s here; the fork comes 300 ms into it. A child that inherited the
    // half-made client would wait for it forever (the harness timeout would fail the test).
    run_fetching_each_once(
        "fork-first-call",
        &[("KY_TEST_DEFAULT_CLIENT_DELAY_MS", "2000")],
        &["first-call", "first-call-child", "first-call-parent"],
    );
}

#[test]
fn fork_with_live_worker_refresh_and_prefetch_threads() {
    run_fetching_each_once(
        "fork-threads",
        &[("KY_CACHE_TTL_MS", "60000")],
        &["threads-c", "threads-d", "threads-e"],
    );
}

#[test]
fn log_callback_waiting_on_a_fetch_while_another_thread_removes_it() {
    let sandbox = run_in_sandbox("log-deadlock", Under::Valgrind, &[]);
    assert_eq!(sandbox.requests("slow-1500"), 1, "A joined B's fetch");
}

#[test]
fn a_callback_that_ends_its_thread_does_not_kill_the_process() {
    let sandbox = run_in_sandbox("pthread-exit", Under::Valgrind, &[]);
    assert_eq!(sandbox.requests("exit-after"), 1);
}

#[test]
fn string_free_does_not_depend_on_the_contents() {
    run_in_sandbox("string-free", Under::Valgrind, &[]);
}

#[test]
fn socks_proxy_in_the_environment_is_an_invalid_argument_naming_it() {
    let sandbox = Sandbox::start_default().unwrap();
    let base = sandbox.base_url();
    // NO_PROXY set but empty: loopback is not exempt, so the proxy applies to the sandbox.
    for (name, value) in [
        ("ALL_PROXY", "socks5://127.0.0.1:1080"),
        ("all_proxy", "socks5h://user:pw@127.0.0.1:1080"),
    ] {
        expect(
            1,
            &format!("{name}="),
            &[("KY_BASE_URL", &base), (name, value), ("NO_PROXY", "")],
        );
    }
    expect(
        1,
        "is not supported",
        &[
            ("KY_BASE_URL", &base),
            ("ALL_PROXY", "socks4://127.0.0.1:1080"),
            ("NO_PROXY", ""),
        ],
    );
    assert_eq!(sandbox.total_requests(), 0);
}

/// A loopback listener that accepts no more connections: its backlog is full, so the kernel
/// drops further SYNs and a connect hangs until the client's connect timeout.
struct Saturated {
    addr: SocketAddr,
    _fd: std::os::fd::OwnedFd,
    _held: Vec<TcpStream>,
}

fn saturated_listener() -> Saturated {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a descriptor we own.
    let fd = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        assert_eq!(libc::bind(fd, (&raw const addr).cast(), len), 0);
        assert_eq!(libc::listen(fd, 0), 0);
        std::os::fd::OwnedFd::from_raw_fd(fd)
    };
    let addr = {
        use std::os::fd::AsRawFd;
        // SAFETY: reading back the bound address of our own socket.
        unsafe {
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            libc::getsockname(fd.as_raw_fd(), (&raw mut addr).cast(), &mut len);
            SocketAddr::from(([127, 0, 0, 1], u16::from_be(addr.sin_port)))
        }
    };
    let mut held = Vec::new();
    // Fill the backlog until a connect no longer completes.
    for _ in 0..64 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(stream) => held.push(stream),
            Err(_) => break,
        }
    }
    Saturated {
        addr,
        _fd: fd,
        _held: held,
    }
}

#[test]
fn a_connect_timeout_is_named_and_retried() {
    let listener = saturated_listener();
    let base = format!("http://{}", listener.addr);
    // KY_MAX_RETRIES=1 (the harness's): two attempts, each cut by the connect timeout.
    expect(
        4,
        "could not connect to",
        &[("KY_BASE_URL", &base), ("KY_CONNECT_TIMEOUT_MS", "300")],
    );
    expect(
        4,
        "(after 2 attempts)",
        &[("KY_BASE_URL", &base), ("KY_CONNECT_TIMEOUT_MS", "300")],
    );
    expect(
        4,
        "KY_CONNECT_TIMEOUT_MS",
        &[("KY_BASE_URL", &base), ("KY_CONNECT_TIMEOUT_MS", "300")],
    );
}

#[test]
fn ca_files_that_are_not_small_regular_files_are_refused_without_blocking() {
    let sandbox = Sandbox::start_default().unwrap();
    let base = sandbox.base_url();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ca-files");
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("ca.fifo");
    let _ = std::fs::remove_file(&fifo);
    let path = std::ffi::CString::new(fifo.display().to_string()).unwrap();
    // SAFETY: creating a FIFO at a path we own.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let big = dir.join("big.pem");
    std::fs::write(&big, vec![b'A'; 5 * 1024 * 1024]).unwrap();
    let fifo = fifo.display().to_string();
    let big = big.display().to_string();
    for (ca, why) in [
        (fifo.as_str(), "not a regular file"),
        ("/dev/zero", "not a regular file"),
        (big.as_str(), "at most 4194304 are accepted"),
    ] {
        expect(1, why, &[("KY_BASE_URL", &base), ("KY_CA_FILE", ca)]);
    }
    assert_eq!(sandbox.total_requests(), 0);
}

#[test]
fn exit_with_calls_in_flight_and_threads_alive_ends_cleanly() {
    // Natively: what is tested is that exit() does not wait for, or trip over, library threads.
    run_in_sandbox("exit-outstanding", Under::Native, &[]);
}

#[test]
fn each_setter_checks_its_own_value_only() {
    let sandbox = run_in_sandbox("setters-alone", Under::Valgrind, &[("KY_TIMEOUT_MS", "0")]);
    assert_eq!(sandbox.total_requests(), 0);
}
