//! The fault matrix: every way the network, the server or TLS can fail, each asserting the exact
//! status, a message that says what happened, the time bound and the number of upstream attempts.
//! Faults come from the sandbox (HTTP-level), a raw TCP server (resets, silence, trickling, lying
//! lengths) and TLS servers with broken certificates. Nothing leaves 127.0.0.1: the unresolvable
//! name goes through an injected resolver.
//!
//! The same run checks that no message, log line or `Debug` output contains a token, and writes
//! the observed table into docs/reliability.md (`KY_UPDATE_DOCS=1` to refresh it;
//! otherwise a difference fails the test, like the header drift test).

mod fault_server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fault_server::{Act, RawServer, head};
use ky_access_token::{Client, Config, Level, Proxy, Status, set_log_sink};
use ky_sandbox::{Leaf, Sandbox, SandboxOptions};

/// Every token any fault server hands out: it must never show up in a message or log line.
const SECRET: &str = "27_FAULT_MATRIX_SECRET_TOKEN_e5b1c0ffee";
const TIMEOUT: Duration = Duration::from_millis(1500);
const RETRIES: u32 = 2;
/// Slack over the deadline for a loaded 2-core machine.
const SLACK: Duration = Duration::from_millis(1500);

fn ok_body() -> String {
    format!(r#"{{"err":0,"msg":"ok","data":{{"accessToken":"{SECRET}"}}}}"#)
}

fn config(base: &str) -> Config {
    Config::new()
        .base_url(base)
        .timeout(TIMEOUT)
        .max_retries(RETRIES)
        .static_hosts([("localhost".to_owned(), [127, 0, 0, 1].into())])
}

/// One observed row of the matrix.
struct Row {
    case: &'static str,
    status: Status,
    attempts: String,
    bound: &'static str,
    message: String,
}

struct Matrix {
    rows: Vec<Row>,
    messages: Vec<String>,
}

impl Matrix {
    /// Runs one case: `get` against `client`, asserting status, message, time and attempts.
    #[allow(clippy::too_many_arguments)]
    fn check(
        &mut self,
        case: &'static str,
        client: &Client,
        id: &str,
        want: Status,
        needle: &str,
        attempts: impl Fn() -> usize,
        want_attempts: Option<usize>,
        bound: Bound,
    ) {
        let start = Instant::now();
        let result = client.get_access_token(id);
        let elapsed = start.elapsed();
        let (status, message) = match &result {
            Ok(token) => {
                assert_eq!(token.as_str(), SECRET, "{case}");
                self.messages.push(format!("{token:?}"));
                (Status::Ok, String::new())
            }
            Err(e) => {
                self.messages.push(format!("{e:?}"));
                self.messages.push(e.to_string());
                (e.status(), e.message().to_owned())
            }
        };
        assert_eq!(status, want, "{case}: {message}");
        assert!(
            message.contains(needle),
            "{case}: message {message:?} should mention {needle:?}"
        );
        if want != Status::Ok {
            assert!(message.len() > 15, "{case}: message too short: {message:?}");
        }
        let observed = attempts();
        if let Some(n) = want_attempts {
            assert_eq!(observed, n, "{case}: attempts ({message})");
        }
        let bound_text = match bound {
            Bound::Quick => {
                assert!(elapsed < TIMEOUT, "{case}: took {elapsed:?}");
                "< timeout"
            }
            Bound::Deadline => {
                assert!(
                    elapsed >= TIMEOUT - Duration::from_millis(50),
                    "{case}: {elapsed:?}"
                );
                assert!(elapsed < TIMEOUT + SLACK, "{case}: took {elapsed:?}");
                "= timeout"
            }
        };
        self.rows.push(Row {
            case,
            status,
            attempts: want_attempts.map_or("—".to_owned(), |n| n.to_string()),
            bound: bound_text,
            message: normalise(&message),
        });
    }
}

#[derive(Clone, Copy)]
enum Bound {
    /// Fails (or succeeds) well before the deadline.
    Quick,
    /// Ends at the deadline, not before and not much after.
    Deadline,
}

/// Ports, clock readings and temp paths vary per run; the committed table must not.
fn normalise(message: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    let flush = |out: &mut String, digits: &mut String| {
        if digits.len() >= 6 || out.ends_with("127.0.0.1:") || out.ends_with("localhost:") {
            out.push('N');
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in message.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        flush(&mut out, &mut digits);
        out.push(c);
    }
    flush(&mut out, &mut digits);
    let out = out.replace('|', "\\|");
    match out.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &out[..i]),
        None => out,
    }
}

fn raw(act: Act) -> (RawServer, Client) {
    let server = RawServer::start(act);
    let client = Client::new(config(&server.base_url())).unwrap();
    (server, client)
}

fn tls_sandbox(leaf: Leaf, name: &str) -> Sandbox {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fault-tls-{name}-{}", std::process::id()));
    Sandbox::start(SandboxOptions {
        tls_dir: Some(dir),
        tls_leaf: leaf,
        ..SandboxOptions::default()
    })
    .unwrap()
}

#[test]
fn fault_matrix() {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&lines);
    set_log_sink(
        Some(Box::new(move |_, line: &str| {
            sink.lock().unwrap().push(line.to_owned())
        })),
        Level::Debug,
    )
    .unwrap();
    let mut m = Matrix {
        rows: Vec::new(),
        messages: Vec::new(),
    };
    let all = 1 + RETRIES as usize;
    use Bound::{Deadline, Quick};
    use Status::*;

    // ---- connection level (raw TCP server) ----
    {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let client = Client::new(config(&base)).unwrap();
        m.check(
            "connection refused",
            &client,
            "abc",
            Network,
            "refused",
            || 0,
            None,
            Quick,
        );
    }
    let (s, c) = raw(Act::Close);
    m.check(
        "accept, then close",
        &c,
        "abc",
        Network,
        "closed the connection",
        || s.connections(),
        Some(all),
        Quick,
    );
    let (s, c) = raw(Act::SendThenReset(
        b"HTTP/1.1 200 OK\r\nContent-Ty".to_vec(),
    ));
    m.check(
        "reset mid-headers",
        &c,
        "abc",
        Network,
        "127.0.0.1",
        || s.connections(),
        Some(all),
        Quick,
    );
    let mut partial = head("200 OK", 200);
    partial.extend_from_slice(br#"{"err":0,"data":{"acc"#);
    let (s, c) = raw(Act::SendThenReset(partial));
    m.check(
        "reset mid-body",
        &c,
        "abc",
        Network,
        "127.0.0.1",
        || s.connections(),
        Some(all),
        Quick,
    );
    let (s, c) = raw(Act::SendThenHang(Vec::new()));
    m.check(
        "no response at all",
        &c,
        "abc",
        Timeout,
        "within 1500 ms",
        || s.connections(),
        Some(1),
        Deadline,
    );
    let (s, c) = raw(Act::Trickle {
        head: Vec::new(),
        body: [head("200 OK", ok_body().len()), ok_body().into_bytes()].concat(),
        every: Duration::from_millis(100),
    });
    m.check(
        "headers trickled (10 B/s)",
        &c,
        "abc",
        Timeout,
        "within 1500 ms",
        || s.connections(),
        Some(1),
        Deadline,
    );
    let (s, c) = raw(Act::Trickle {
        head: head("200 OK", ok_body().len()),
        body: ok_body().into_bytes(),
        every: Duration::from_secs(1),
    });
    m.check(
        "body trickled (1 B/s)",
        &c,
        "abc",
        Timeout,
        "within 1500 ms",
        || s.connections(),
        Some(1),
        Deadline,
    );
    let (s, c) = raw(Act::SendThenClose(
        [head("200 OK", 10), ok_body().into_bytes()].concat(),
    ));
    m.check(
        "Content-Length shorter than the body",
        &c,
        "abc",
        BadResponse,
        "not the expected JSON",
        || s.connections(),
        Some(1),
        Quick,
    );
    let (s, c) = raw(Act::SendThenClose(
        [head("200 OK", 5000), ok_body().into_bytes()].concat(),
    ));
    m.check(
        "Content-Length longer than the body",
        &c,
        "abc",
        Network,
        "closed the connection",
        || s.connections(),
        Some(all),
        Quick,
    );
    let mut bad_utf8 = br#"{"err":0,"msg":"ok","data":{"accessToken":"27_"#.to_vec();
    bad_utf8.extend_from_slice(b"\xff\xfe\"}}");
    let (s, c) = raw(Act::SendThenClose(
        [head("200 OK", bad_utf8.len()), bad_utf8].concat(),
    ));
    m.check(
        "invalid UTF-8 in the body",
        &c,
        "abc",
        BadResponse,
        "",
        || s.connections(),
        Some(1),
        Quick,
    );
    let gzip = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x01\x02\x00\xfd\xffok";
    let mut gz = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gzip.len()
    )
    .into_bytes();
    gz.extend_from_slice(gzip);
    let (s, c) = raw(Act::SendThenClose(gz));
    m.check(
        "gzip body (compression is never enabled, so no bomb)",
        &c,
        "abc",
        BadResponse,
        "not the expected JSON",
        || s.connections(),
        Some(1),
        Quick,
    );
    let (s, c) = raw(Act::SendThenClose(b"SSH-2.0-OpenSSH_9.2\r\n".to_vec()));
    m.check(
        "not HTTP at all",
        &c,
        "abc",
        BadResponse,
        "valid HTTP",
        || s.connections(),
        Some(1),
        Quick,
    );

    // ---- HTTP and JSON level (sandbox) ----
    let sandbox = Sandbox::start_default().unwrap();
    let client = Client::new(config(&sandbox.base_url())).unwrap();
    for id in ["fault-5xx-once", "ok-token"] {
        sandbox.set_token(id, SECRET);
    }
    let attempts = |id: &'static str| {
        let sandbox = &sandbox;
        move || sandbox.requests(id) as usize
    };
    m.check(
        "503, then success (retry recovers)",
        &client,
        "fault-5xx-once",
        Ok,
        "",
        attempts("fault-5xx-once"),
        Some(2),
        Quick,
    );
    m.check(
        "500 forever (retries bounded)",
        &client,
        "fault-http-500",
        HttpStatus,
        "after 3 attempts",
        attempts("fault-http-500"),
        Some(all),
        Quick,
    );
    m.check(
        "429 Too Many Requests",
        &client,
        "fault-http-429",
        HttpStatus,
        "429",
        attempts("fault-http-429"),
        Some(1),
        Quick,
    );
    m.check(
        "302 redirect (not followed)",
        &client,
        "fault-http-302",
        HttpStatus,
        "redirects are not followed",
        attempts("fault-http-302"),
        Some(1),
        Quick,
    );
    m.check(
        "404 with a JSON body",
        &client,
        "fault-http-404",
        HttpStatus,
        "sandbox fault",
        attempts("fault-http-404"),
        Some(1),
        Quick,
    );
    m.check(
        "err ≠ 0",
        &client,
        "fault-api-error",
        Api,
        "项目不存在",
        attempts("fault-api-error"),
        Some(1),
        Quick,
    );
    m.check(
        "err as a string",
        &client,
        "fault-err-string",
        BadResponse,
        "err",
        attempts("fault-err-string"),
        Some(1),
        Quick,
    );
    m.check(
        "err as a float",
        &client,
        "fault-err-float",
        BadResponse,
        "err",
        attempts("fault-err-float"),
        Some(1),
        Quick,
    );
    m.check(
        "data null",
        &client,
        "fault-null-data",
        BadResponse,
        "",
        attempts("fault-null-data"),
        Some(1),
        Quick,
    );
    m.check(
        "token missing",
        &client,
        "fault-no-token",
        BadResponse,
        "accessToken",
        attempts("fault-no-token"),
        Some(1),
        Quick,
    );
    m.check(
        "token empty",
        &client,
        "fault-empty-token",
        BadResponse,
        "accessToken",
        attempts("fault-empty-token"),
        Some(1),
        Quick,
    );
    m.check(
        "token not a string",
        &client,
        "fault-number-token",
        BadResponse,
        "accessToken",
        attempts("fault-number-token"),
        Some(1),
        Quick,
    );
    m.check(
        "token with control bytes",
        &client,
        "fault-control-token",
        BadResponse,
        "accessToken",
        attempts("fault-control-token"),
        Some(1),
        Quick,
    );
    m.check(
        "truncated JSON",
        &client,
        "fault-malformed",
        BadResponse,
        "not the expected JSON",
        attempts("fault-malformed"),
        Some(1),
        Quick,
    );
    m.check(
        "HTML instead of JSON",
        &client,
        "fault-not-json",
        BadResponse,
        "not the expected JSON",
        attempts("fault-not-json"),
        Some(1),
        Quick,
    );
    m.check(
        "64 MiB body with Content-Length",
        &client,
        "fault-huge-body",
        BadResponse,
        "exceeds",
        attempts("fault-huge-body"),
        Some(1),
        Quick,
    );
    m.check(
        "64 MiB chunked body",
        &client,
        "fault-huge-chunked",
        BadResponse,
        "exceeds",
        attempts("fault-huge-chunked"),
        Some(1),
        Quick,
    );
    m.check(
        "a normal answer",
        &client,
        "ok-token",
        Ok,
        "",
        attempts("ok-token"),
        Some(1),
        Quick,
    );

    // ---- TLS ----
    let valid = tls_sandbox(Leaf::Valid, "valid");
    let untrusted = Client::new(config(&valid.base_url())).unwrap();
    m.check(
        "TLS: certificate not trusted",
        &untrusted,
        "abc",
        Tls,
        "UnknownIssuer",
        || valid.total_requests() as usize,
        Some(0),
        Quick,
    );
    let expired = tls_sandbox(Leaf::Expired, "expired");
    let ca = std::fs::read(expired.ca_pem_path().unwrap()).unwrap();
    let client = Client::new(config(&expired.base_url()).ca_pem(ca)).unwrap();
    m.check(
        "TLS: certificate expired",
        &client,
        "abc",
        Tls,
        "expired",
        || expired.total_requests() as usize,
        Some(0),
        Quick,
    );
    let wrong = tls_sandbox(Leaf::WrongName, "wrong");
    let ca = std::fs::read(wrong.ca_pem_path().unwrap()).unwrap();
    let client = Client::new(config(&wrong.base_url()).ca_pem(ca)).unwrap();
    m.check(
        "TLS: wrong host name",
        &client,
        "abc",
        Tls,
        "not valid for name",
        || wrong.total_requests() as usize,
        Some(0),
        Quick,
    );
    let plain = Sandbox::start_default().unwrap();
    let client = Client::new(config(&format!(
        "https://localhost:{}",
        plain.addr().port()
    )))
    .unwrap();
    m.check(
        "TLS: plain HTTP spoken on the port",
        &client,
        "abc",
        Tls,
        "TLS",
        || plain.total_requests() as usize,
        Some(0),
        Quick,
    );

    // ---- proxy, DNS, scheme ----
    let (proxy, _) = raw(Act::SendThenClose(
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec(),
    ));
    let client = Client::new(
        config("https://api.example.test")
            .static_hosts([("api.example.test".to_owned(), [127, 0, 0, 1].into())])
            .proxy(Proxy::Url(format!(
                "http://gamer:hunter2-secret@{}",
                proxy.addr()
            ))),
    )
    .unwrap();
    m.check(
        "proxy refuses CONNECT (credentials in its URL)",
        &client,
        "abc",
        Network,
        "refused to connect",
        || proxy.connections(),
        Some(1),
        Quick,
    );
    let client = Client::new(config("https://api.kuaiyugo.invalid").static_hosts([])).unwrap();
    m.check(
        "host name does not resolve (injected resolver)",
        &client,
        "abc",
        Network,
        "could not resolve",
        || 0,
        None,
        Quick,
    );
    let e = Client::new(config("http://api.kuaiyugo.com")).unwrap_err();
    assert_eq!(e.status(), InvalidArgument);
    m.messages.push(e.to_string());
    m.rows.push(Row {
        case: "scheme downgrade: http:// to a non-loopback host",
        status: e.status(),
        attempts: "0".to_owned(),
        bound: "no I/O",
        message: normalise(e.message()),
    });

    set_log_sink(None, Level::Debug).unwrap();
    assert!(m.rows.len() >= 20, "{} cases", m.rows.len());

    // ---- security: no token, no proxy password, anywhere ----
    let lines = lines.lock().unwrap();
    assert!(
        lines.iter().any(|l| l.contains("fault-5xx-once")),
        "the log saw the run"
    );
    for text in m.messages.iter().chain(lines.iter()) {
        assert!(!text.contains(SECRET), "token leaked: {text}");
        assert!(!text.contains("hunter2"), "proxy password leaked: {text}");
    }

    check_doc(&m.rows);
}

/// docs/reliability.md holds the table between two markers; it must equal what this run observed.
fn check_doc(rows: &[Row]) {
    let mut table = String::from(
        "| # | fault | status | upstream attempts | time | message (ports elided) |\n|---|---|---|---|---|---|\n",
    );
    for (i, row) in rows.iter().enumerate() {
        table.push_str(&format!(
            "| {} | {} | `{}` | {} | {} | {} |\n",
            i + 1,
            row.case,
            row.status.name(),
            row.attempts,
            row.bound,
            if row.message.is_empty() {
                "—"
            } else {
                &row.message
            }
        ));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reliability.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- fault-matrix:begin -->\n", "<!-- fault-matrix:end -->");
    let start = readme
        .find(begin)
        .expect("docs/reliability.md has no fault-matrix:begin marker")
        + begin.len();
    let stop = readme
        .find(end)
        .expect("docs/reliability.md has no fault-matrix:end marker");
    if readme[start..stop] == table {
        return;
    }
    if std::env::var_os("KY_UPDATE_DOCS").is_some() {
        let updated = format!("{}{table}{}", &readme[..start], &readme[stop..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "docs/reliability.md's fault matrix differs from this run; regenerate with \
         `KY_UPDATE_DOCS=1 cargo test --test fault_matrix`.\nObserved:\n{table}"
    );
}
