//! The C and C++ examples compile cleanly (-Wall -Wextra -Werror -pedantic) against the committed
//! header and work against the sandbox, so the README's snippets cannot rot.

use std::path::Path;
use std::process::{Command, Output};

use ky_sandbox::{SAMPLE_PROGRAM_ID, SAMPLE_TOKEN, Sandbox};

mod common;
use common::compile;

fn run(program: &Path, base: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("KY_BASE_URL", base)
        .env("KY_MAX_RETRIES", "0")
        .output()
        .unwrap()
}

#[test]
fn c_example_prints_the_token_or_a_clear_error() {
    let sandbox = Sandbox::start_default().unwrap();
    for (compiler, std, name) in [
        ("gcc", &["-std=c11"][..], "get_token"),
        ("g++", &["-x", "c++", "-std=c++17"][..], "get_token_cpp"),
    ] {
        let program = compile(compiler, std, "examples/c/get_token.c", name);
        let ok = run(&program, &sandbox.base_url(), &[]);
        assert!(ok.status.success());
        assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), SAMPLE_TOKEN);

        let big = run(&program, &sandbox.base_url(), &["big-token-3000"]);
        assert!(big.status.success(), "buffer-too-small path");
        assert_eq!(String::from_utf8_lossy(&big.stdout).trim().len(), 3000);

        let api = run(&program, &sandbox.base_url(), &["fault-api-error-40001"]);
        assert_eq!(api.status.code(), Some(7));
        let stderr = String::from_utf8_lossy(&api.stderr);
        assert!(
            stderr.contains("KY_ERR_API") && stderr.contains("err=40001"),
            "{stderr}"
        );
        assert!(stderr.contains("项目不存在"), "{stderr}");
    }
    assert_eq!(sandbox.requests(SAMPLE_PROGRAM_ID), 2, "one process each");
}

#[test]
fn cpp_game_server_invalidates_after_40001_and_gets_a_fresh_token() {
    let sandbox = Sandbox::start_default().unwrap();
    let program = compile(
        "g++",
        &["-std=c++17"],
        "examples/cpp/game_server.cpp",
        "game_server",
    );
    let out = run(&program, &sandbox.base_url(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("errcode 40001"), "{stdout}");
    assert!(stdout.contains("done: 1 refresh(es)"), "{stdout}");
    assert_eq!(
        sandbox.requests("rotating-demo"),
        2,
        "one stale fetch, one refetch"
    );
    assert!(
        !stdout.contains("sandbox_rotating-demo_v"),
        "the token is never printed whole"
    );

    // When the refetched token is still rejected, the loop reports it instead of spinning.
    let stuck = run(&program, &sandbox.base_url(), &["stuck"]);
    assert_eq!(stuck.status.code(), Some(1));
    assert_eq!(sandbox.requests("stuck"), 2);
}

#[test]
fn c_client_handle_example_prints_the_token_or_a_clear_error() {
    let sandbox = Sandbox::start_default().unwrap();
    let program = compile("gcc", &["-std=c11"], "examples/c/client.c", "client");
    let ok = run(&program, &sandbox.base_url(), &[]);
    assert!(ok.status.success(), "{ok:?}");
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), SAMPLE_TOKEN);
    let api = run(&program, &sandbox.base_url(), &["fault-api-error-40001"]);
    assert_eq!(api.status.code(), Some(7), "{api:?}");
    assert!(String::from_utf8_lossy(&api.stderr).contains("KY_ERR_API: "));
}
