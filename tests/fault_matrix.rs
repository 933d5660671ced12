//! The fault matrix: every way the network, the server or TLS can fail, each asserting the exact
//! status, a message that says what happened, the time bound and the number of upstream attempts.
//! Faults come from the sandbox (HTTP-level), a raw TCP server (resets, silence, trickling, lying
//! lengths) and TLS servers with broken certificates. Nothing leaves 127.0.0.1: the unresolvable
//! name goes through an injected resolver.
//!
//! The same run checks that no message, log line or `Debug` output contains a token, and writes
//! the observed table into docs/reliability.md (`KY_UPDATE_DOCS=1` to refresh it;
//! otherwise a difference fails the test, like the header drift test).

mod common;
mod fault_server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::https_sandbox;
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
    let ok = ok_body();
    let mut partial = head("200 OK", 200);
    partial.extend_from_slice(br#"{"err":0,"data":{"acc"#);
    let mut bad_utf8 = br#"{"err":0,"msg":"ok","data":{"accessToken":"27_"#.to_vec();
    bad_utf8.extend_from_slice(b"\xff\xfe\"}}");
    let gzip = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x01\x02\x00\xfd\xffok";
    let mut gz = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gzip.len()
    )
    .into_bytes();
    gz.extend_from_slice(gzip);
    let ms = Duration::from_millis;
    // (case, what the raw server does, status, a word of the message, connections, time bound)
    #[rustfmt::skip]
    let raw_cases = [
        ("accept, then close", Act::Close, Network, "closed the connection", all, Quick),
        ("reset mid-headers", Act::SendThenReset(b"HTTP/1.1 200 OK\r\nContent-Ty".to_vec()), Network, "127.0.0.1", all, Quick),
        ("reset mid-body", Act::SendThenReset(partial), Network, "127.0.0.1", all, Quick),
        ("no response at all", Act::SendThenHang(Vec::new()), Timeout, "within 1500 ms", 1, Deadline),
        ("headers trickled (10 B/s)", Act::Trickle { head: Vec::new(), body: [head("200 OK", ok.len()), ok.clone().into_bytes()].concat(), every: ms(100) }, Timeout, "within 1500 ms", 1, Deadline),
        ("body trickled (1 B/s)", Act::Trickle { head: head("200 OK", ok.len()), body: ok.clone().into_bytes(), every: ms(1000) }, Timeout, "within 1500 ms", 1, Deadline),
        ("Content-Length shorter than the body", Act::SendThenClose([head("200 OK", 10), ok.clone().into_bytes()].concat()), BadResponse, "not the expected JSON", 1, Quick),
        ("Content-Length longer than the body", Act::SendThenClose([head("200 OK", 5000), ok.clone().into_bytes()].concat()), Network, "closed the connection", all, Quick),
        ("invalid UTF-8 in the body", Act::SendThenClose([head("200 OK", bad_utf8.len()), bad_utf8].concat()), BadResponse, "", 1, Quick),
        ("gzip body (compression is never enabled, so no bomb)", Act::SendThenClose(gz), BadResponse, "not the expected JSON", 1, Quick),
        ("not HTTP at all", Act::SendThenClose(b"SSH-2.0-OpenSSH_9.2\r\n".to_vec()), BadResponse, "valid HTTP", 1, Quick),
    ];
    // Every server stays up until the end of the run, as the clients' pools may still hold
    // connections to it.
    let mut servers = Vec::new();
    for (case, act, status, needle, connections, bound) in raw_cases {
        let (s, c) = raw(act);
        m.check(
            case,
            &c,
            "abc",
            status,
            needle,
            || s.connections(),
            Some(connections),
            bound,
        );
        servers.push(s);
    }

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
    // (case, the program id that makes the sandbox answer with the fault, status, a word of
    // the message, upstream requests)
    #[rustfmt::skip]
    let http_cases = [
        ("503, then success (retry recovers)", "fault-5xx-once", Ok, "", 2),
        ("500 forever (retries bounded)", "fault-http-500", HttpStatus, "after 3 attempts", all),
        ("429 Too Many Requests", "fault-http-429", HttpStatus, "429", 1),
        ("302 redirect (not followed)", "fault-http-302", HttpStatus, "redirects are not followed", 1),
        ("404 with a JSON body", "fault-http-404", HttpStatus, "sandbox fault", 1),
        ("err ≠ 0", "fault-api-error", Api, "项目不存在", 1),
        ("err as a string", "fault-err-string", BadResponse, "err", 1),
        ("err as a float", "fault-err-float", BadResponse, "err", 1),
        ("data null", "fault-null-data", BadResponse, "", 1),
        ("token missing", "fault-no-token", BadResponse, "accessToken", 1),
        ("token empty", "fault-empty-token", BadResponse, "accessToken", 1),
        ("token not a string", "fault-number-token", BadResponse, "accessToken", 1),
        ("token with control bytes", "fault-control-token", BadResponse, "accessToken", 1),
        ("truncated JSON", "fault-malformed", BadResponse, "not the expected JSON", 1),
        ("HTML instead of JSON", "fault-not-json", BadResponse, "not the expected JSON", 1),
        ("64 MiB body with Content-Length", "fault-huge-body", BadResponse, "exceeds", 1),
        ("64 MiB chunked body", "fault-huge-chunked", BadResponse, "exceeds", 1),
        ("a normal answer", "ok-token", Ok, "", 1),
    ];
    for (case, id, status, needle, requests) in http_cases {
        m.check(
            case,
            &client,
            id,
            status,
            needle,
            attempts(id),
            Some(requests),
            Quick,
        );
    }

    // ---- TLS ----
    // (case, the certificate the server presents, is its CA trusted, a word of the message)
    let tls_cases = [
        (
            "TLS: certificate not trusted",
            Leaf::Valid,
            false,
            "UnknownIssuer",
        ),
        ("TLS: certificate expired", Leaf::Expired, true, "expired"),
        (
            "TLS: wrong host name",
            Leaf::WrongName,
            true,
            "not valid for name",
        ),
    ];
    for (i, (case, leaf, trusted, needle)) in tls_cases.into_iter().enumerate() {
        let (server, _) = https_sandbox(
            &format!("fault-leaf{i}"),
            SandboxOptions {
                tls_leaf: leaf,
                ..SandboxOptions::default()
            },
        );
        let mut tls_config = config(&server.base_url());
        if trusted {
            tls_config = tls_config.ca_pem(std::fs::read(server.ca_pem_path().unwrap()).unwrap());
        }
        let client = Client::new(tls_config).unwrap();
        let requests = || server.total_requests() as usize;
        m.check(case, &client, "abc", Tls, needle, requests, Some(0), Quick);
    }
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
