//! Compiles tests/c/test_api.c and tests/c/test_client.c against the committed header and the
//! freshly built shared library (as C11 and as C++17, with -Wall -Wextra -Werror -pedantic) and
//! runs them against the sandbox, under valgrind memcheck when available (required when CI=true).

use std::path::Path;

use ky_sandbox::{SAMPLE_PROGRAM_ID, Sandbox, SandboxOptions};

mod common;
use common::{Under, c_test_program, dead_base_url, https_sandbox, run_c_program};

fn test_program() -> &'static Path {
    c_test_program("test_api")
}

fn client_program() -> &'static Path {
    c_test_program("test_client")
}

/// Runs the test program with `env`, under valgrind when possible; returns its stdout.
fn run(args: &[&str], env: &[(&str, &str)], remove: &[&str]) -> String {
    run_program(test_program(), args, env, remove)
}

fn run_program(program: &Path, args: &[&str], env: &[(&str, &str)], remove: &[&str]) -> String {
    let output = run_c_program(program, Under::Valgrind, args, env, remove);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn c_test_program_against_the_sandbox() {
    let sandbox = Sandbox::start_default().unwrap();
    let base = sandbox.base_url();
    let out = run(&["main"], &[("KY_BASE_URL", &base)], &[]);
    eprintln!("{out}");
    assert_eq!(
        sandbox.requests("c-inv"),
        2,
        "invalidate must cause exactly one refetch"
    );
    assert_eq!(
        sandbox.requests("slow-1000"),
        1,
        "16 threads, one upstream request"
    );
    assert_eq!(
        sandbox.requests(SAMPLE_PROGRAM_ID),
        1,
        "sample token is cached"
    );
    assert_eq!(
        sandbox.requests("fault-http-500"),
        2,
        "KY_MAX_RETRIES=1: two attempts"
    );
    assert_eq!(sandbox.requests("big-token-4096"), 1);
}

#[test]
fn c_client_handles_async_stats_and_log_under_valgrind() {
    let sandbox = Sandbox::start_default().unwrap();
    let base = sandbox.base_url();
    let out = run_program(client_program(), &[&base], &[("KY_BASE_URL", &base)], &[]);
    eprintln!("{out}");
    assert_eq!(
        sandbox.requests("c-async"),
        1,
        "200 async calls from 4 threads, one upstream request"
    );
    assert_eq!(sandbox.requests("c-cas"), 2, "one refetch after the drop");
    assert_eq!(
        sandbox.requests(SAMPLE_PROGRAM_ID),
        4,
        "three clients and the default client each fetched the sample once"
    );
}

#[test]
fn c_network_and_configuration_failures() {
    let dead = dead_base_url();
    run(
        &["expect", "3", "abc", "refused"],
        &[("KY_BASE_URL", &dead)],
        &[],
    );
    run(
        &["expect", "1", "abc", "KY_TIMEOUT_MS=soon"],
        &[("KY_BASE_URL", &dead), ("KY_TIMEOUT_MS", "soon")],
        &[],
    );
    run(
        &["expect", "1", "abc", "only https://"],
        &[("KY_BASE_URL", "http://api.kuaiyugo.com")],
        &[],
    );
}

#[test]
fn c_tls_trust_via_ky_ca_file_and_ssl_cert_file() {
    let (sandbox, dir) = https_sandbox("c-tls", SandboxOptions::default());
    let base = sandbox.base_url();
    let ca = sandbox.ca_pem_path().unwrap();
    let ca = ca.to_str().unwrap();
    // Extra root on top of the system store.
    run(
        &["expect", "0", SAMPLE_PROGRAM_ID],
        &[("KY_BASE_URL", &base), ("KY_CA_FILE", ca)],
        &[],
    );
    // The system store itself, pointed elsewhere the OpenSSL way.
    run(
        &["expect", "0", SAMPLE_PROGRAM_ID],
        &[("KY_BASE_URL", &base), ("SSL_CERT_FILE", ca)],
        &["SSL_CERT_DIR", "KY_CA_FILE"],
    );
    // Not trusted: refused as TLS.
    run(
        &["expect", "5", SAMPLE_PROGRAM_ID, "certificate"],
        &[("KY_BASE_URL", &base)],
        &["SSL_CERT_FILE", "SSL_CERT_DIR", "KY_CA_FILE"],
    );
    assert_eq!(
        sandbox.requests(SAMPLE_PROGRAM_ID),
        2,
        "no request over the refused handshake"
    );
    let _ = std::fs::remove_dir_all(dir);
}
