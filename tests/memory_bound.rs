//! Memory is bounded however many distinct program ids go through the cache (they often come
//! from requests): tests/c/memory.c fetches 1,000,000 distinct ids from 4 threads through the
//! release library, once with every fetch succeeding and once with every fetch failing, and
//! checks RSS growth (≤ 32 MB), the cap on cached tokens and the return to the starting point
//! once they expired.
//!
//! The upstream is a minimal keep-alive HTTP server in this process (the sandbox would spend
//! more time than the library), answering `GET …/programs/{id}/accesstoken` with a token for
//! that id, or with an API error.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

mod common;
use common::{compile_against, output_within, release_build, root, without_proxies};

const IDS: &str = "1000000";

fn serve(listener: TcpListener, ok: bool) {
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || answer(stream, ok));
    }
}

/// Answers requests on one connection until the client closes it.
fn answer(stream: TcpStream, ok: bool) {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let id = line
            .split('/')
            .skip_while(|part| *part != "programs")
            .nth(1)
            .unwrap_or("")
            .to_owned();
        // Skip the headers.
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
        }
        let body = if ok {
            format!(r#"{{"err":0,"msg":"ok","data":{{"accessToken":"tok_{id}"}}}}"#)
        } else {
            r#"{"err":40013,"msg":"invalid appid"}"#.to_owned()
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// The release library built and the driver compiled, once for both tests (they run in
/// parallel: a second compile would replace the program while the first test runs it).
fn program() -> &'static std::path::Path {
    static PROGRAM: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PROGRAM.get_or_init(|| {
        let status = release_build().status().unwrap();
        assert!(status.success(), "cargo build --release failed");
        let lib = root().join("target/release");
        compile_against(&lib, "gcc", &["-std=c11"], "tests/c/memory.c", "memory")
    })
}

fn run(mode: &str) {
    let program = program();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let ok = mode == "ok";
    std::thread::spawn(move || serve(listener, ok));
    let mut command = std::process::Command::new(program);
    command
        .args([mode, IDS])
        .env("KY_BASE_URL", &base)
        .env("KY_CACHE_TTL_MS", "2000")
        .env("KY_STALE_IF_ERROR_MS", "0")
        .env("KY_REFRESH_AHEAD", "0")
        .env("KY_MAX_PROGRAMS", "10000")
        .env("KY_MAX_RETRIES", "0")
        .env("KY_TIMEOUT_MS", "60000");
    without_proxies(&mut command);
    let output = output_within(&mut command, Duration::from_secs(1200));
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(", 0 failed"), "{stdout}");
}

#[test]
fn a_million_succeeding_ids_stay_within_the_bound() {
    run("ok");
}

#[test]
fn a_million_failing_ids_leave_nothing_behind() {
    run("fail");
}
