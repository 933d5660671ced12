//! `ky-token` end to end: the built binary against an in-process sandbox (never the production
//! API: every run gets KY_BASE_URL or --base-url pointing at loopback), and the shell example.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ky_sandbox::{SAMPLE_PROGRAM_ID, SAMPLE_TOKEN, Sandbox};

const BIN: &str = env!("CARGO_BIN_EXE_ky-token");

/// A clean KY_* environment for `command`: KY_BASE_URL = `base`, no retries.
fn sandbox_env(command: &mut Command, base: &str) {
    for (name, _) in std::env::vars() {
        if name.starts_with("KY_") {
            command.env_remove(name);
        }
    }
    command.env("KY_BASE_URL", base).env("KY_MAX_RETRIES", "0");
}

/// `ky-token ARGS` against `base`.
fn command(base: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args);
    sandbox_env(&mut command, base);
    command
}

fn ky_token(base: &str, args: &[&str]) -> Output {
    command(base, args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn prints_exactly_the_token_and_nothing_else() {
    let sandbox = Sandbox::start_default().unwrap();
    let out = ky_token(&sandbox.base_url(), &[SAMPLE_PROGRAM_ID]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{SAMPLE_TOKEN}\n"));
    assert_eq!(stderr(&out), "");
    assert_eq!(sandbox.requests(SAMPLE_PROGRAM_ID), 1);
    assert!(
        sandbox
            .last_user_agent()
            .is_some_and(|ua| ua.starts_with("ky-access-token/")),
        "the library's request"
    );

    // --invalidate on a fresh process still fetches once; --base-url beats KY_BASE_URL.
    let out = ky_token(
        "http://127.0.0.1:1",
        &["--invalidate", "--base-url", &sandbox.base_url(), "abc"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "sandbox_abc_v1\n");
    assert_eq!(sandbox.requests("abc"), 1);
}

#[test]
fn json_output_on_success_and_failure() {
    let sandbox = Sandbox::start_default().unwrap();
    let out = ky_token(&sandbox.base_url(), &["--json", "abc"]);
    assert_eq!(out.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"program_id": "abc", "access_token": "sandbox_abc_v1"})
    );

    let out = ky_token(&sandbox.base_url(), &["--json", "fault-api-error"]);
    assert_eq!(out.status.code(), Some(17));
    assert_eq!(
        stderr(&out),
        "",
        "with --json the failure is the JSON object"
    );
    let value: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(value["status"], "KY_ERR_API");
    assert_eq!(value["code"], 7);
    assert_eq!(value["api_err"], 40013);
    assert_eq!(value["program_id"], "fault-api-error");
    assert!(
        value["message"].as_str().unwrap().contains("项目不存在"),
        "{value}"
    );
}

#[test]
fn api_error_goes_to_stderr_with_its_exit_code() {
    let sandbox = Sandbox::start_default().unwrap();
    let out = ky_token(&sandbox.base_url(), &["fault-api-error"]);
    assert_eq!(out.status.code(), Some(17), "10 + KY_ERR_API");
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.starts_with("KY_ERR_API: "), "{err}");
    assert!(err.contains("项目不存在") && err.contains("40013"), "{err}");

    let out = ky_token(&sandbox.base_url(), &["fault-http-404"]);
    assert_eq!(out.status.code(), Some(16), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("KY_ERR_HTTP_STATUS: "));

    let out = ky_token("http://127.0.0.1:1", &["abc"]);
    assert_eq!(out.status.code(), Some(13), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("KY_ERR_NETWORK: "));
}

#[test]
fn invalid_ids_and_configuration_exit_11_without_a_request() {
    let sandbox = Sandbox::start_default().unwrap();
    for id in [
        "bad/id",
        "../x",
        "0123456789abcdef0123456789abcdef0",
        "项目",
    ] {
        let out = ky_token(&sandbox.base_url(), &[id]);
        assert_eq!(out.status.code(), Some(11), "{id}");
        assert!(
            stderr(&out).starts_with("KY_ERR_INVALID_ARGUMENT: "),
            "{}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), "");
    }
    let out = command(&sandbox.base_url(), &["abc"])
        .env("KY_TIMEOUT_MS", "soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(11));
    assert!(stderr(&out).contains("KY_TIMEOUT_MS"), "{}", stderr(&out));
    // http:// to a non-loopback host is refused by the library before any I/O.
    let out = ky_token(
        &sandbox.base_url(),
        &["--base-url", "http://example.com", "abc"],
    );
    assert_eq!(out.status.code(), Some(11), "{}", stderr(&out));
    assert_eq!(sandbox.total_requests(), 0);
}

#[test]
fn timeout_option_bounds_the_call() {
    let sandbox = Sandbox::start_default().unwrap();
    for timeout in ["0.3", "300ms", "0.3s"] {
        let start = Instant::now();
        let out = ky_token(
            &sandbox.base_url(),
            &["--timeout", timeout, "fault-slow-headers"],
        );
        let elapsed = start.elapsed();
        assert_eq!(out.status.code(), Some(14), "{timeout}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("KY_ERR_TIMEOUT: "),
            "{}",
            stderr(&out)
        );
        assert!(
            elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
            "{timeout}: {elapsed:?}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["--bogus", "abc"],
        &["a", "b"],
        &["--timeout", "soon", "abc"],
    ] {
        let out = ky_token("http://127.0.0.1:1", args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains("usage: ky-token"), "{args:?}");
        assert_eq!(stdout(&out), "");
    }
    let help = ky_token("http://127.0.0.1:1", &["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("exit status"));
    let version = ky_token("http://127.0.0.1:1", &["--version"]);
    assert_eq!(
        stdout(&version),
        format!("ky-token {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// A spawned `ky-token sandbox`, killed when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ky-token sandbox ARGS`; returns it and its first `n` stdout lines.
fn start_sandbox(args: &[&str], n: usize) -> (Running, Vec<String>) {
    let mut child = Running(
        Command::new(BIN)
            .arg("sandbox")
            // Any free port: tests run in parallel (the fixed default 8787 is for people).
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut reader = BufReader::new(child.0.stdout.take().unwrap());
    let lines = (0..n)
        .map(|_| {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            line.trim_end().to_owned()
        })
        .collect();
    (child, lines)
}

#[test]
fn sandbox_subcommand_prints_a_base_url_and_serves_it() {
    let (_sandbox, lines) = start_sandbox(&["--quiet"], 1);
    let base = lines[0]
        .strip_prefix("KY_BASE_URL=http://127.0.0.1:")
        .map(|port| format!("http://127.0.0.1:{port}"))
        .unwrap_or_else(|| panic!("first line: {:?}", lines[0]));
    let out = ky_token(&base, &[SAMPLE_PROGRAM_ID]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{SAMPLE_TOKEN}\n"));

    // HTTPS with a throwaway CA, trusted through --ca-file.
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-tls-{}", std::process::id()));
    let (_tls, lines) = start_sandbox(&["--tls-dir", dir.to_str().unwrap()], 2);
    let base = lines[0].strip_prefix("KY_BASE_URL=").unwrap();
    let ca = lines[1].strip_prefix("KY_CA_FILE=").unwrap();
    assert!(base.starts_with("https://localhost:"), "{base}");
    let untrusted = ky_token(base, &["abc"]);
    assert_eq!(untrusted.status.code(), Some(15), "{}", stderr(&untrusted));
    let trusted = ky_token(base, &["--ca-file", ca, "abc"]);
    assert_eq!(trusted.status.code(), Some(0), "{}", stderr(&trusted));
    assert_eq!(stdout(&trusted), "sandbox_abc_v1\n");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn shell_example_uses_the_token_and_reports_failures() {
    let sandbox = Sandbox::start_default().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shell/get-token.sh");
    let run = |args: &[&str]| {
        let mut bash = Command::new("bash");
        bash.arg(&script).args(args).env("KY_TOKEN", BIN);
        sandbox_env(&mut bash, &sandbox.base_url());
        bash.output().unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "got the access token for {SAMPLE_PROGRAM_ID} ({} characters, starts 27_...)\n",
            SAMPLE_TOKEN.len()
        )
    );
    assert!(
        !stdout(&out).contains(SAMPLE_TOKEN),
        "the example never prints the token"
    );

    let out = run(&["fault-api-error"]);
    assert_eq!(out.status.code(), Some(17));
    let err = stderr(&out);
    assert!(
        err.contains("KY_ERR_API: ") && err.contains("项目不存在"),
        "{err}"
    );
    assert!(
        err.contains("the API refused program fault-api-error"),
        "{err}"
    );

    let out = run(&["fault-slow-headers"]);
    assert_eq!(out.status.code(), Some(14), "{}", stderr(&out));
    assert!(stderr(&out).contains("retry later"));
    assert_eq!(sandbox.requests(SAMPLE_PROGRAM_ID), 1);
}
