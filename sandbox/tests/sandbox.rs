//! The sandbox's own contract, spoken to with raw HTTP/1.1 over loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use ky_sandbox::{SAMPLE_PROGRAM_ID, SAMPLE_TOKEN, Sandbox, SandboxOptions};

/// Sends one request and returns (status line, headers+body) — enough for assertions.
fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (status, rest) = response.split_once("\r\n").unwrap();
    (status.to_owned(), rest.to_owned())
}

fn token_path(id: &str) -> String {
    format!("/api/config/v1/programs/{id}/accesstoken")
}

#[test]
fn serves_the_documented_sample_and_counts() {
    let sandbox = Sandbox::start_default().unwrap();
    let (status, rest) = request(sandbox.addr(), "GET", &token_path(SAMPLE_PROGRAM_ID), "");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(rest.contains(SAMPLE_TOKEN));
    assert!(rest.contains("请求成功"));
    let (_, rest) = request(
        sandbox.addr(),
        "GET",
        &format!("/prefix{}", token_path("x")),
        "",
    );
    assert!(rest.contains("sandbox_x_v1"));
    assert_eq!(sandbox.requests(SAMPLE_PROGRAM_ID), 1);
    assert_eq!(sandbox.total_requests(), 2);
    assert_eq!(
        sandbox.last_path().unwrap(),
        "/prefix/api/config/v1/programs/x/accesstoken"
    );
    let (status, _) = request(sandbox.addr(), "POST", &token_path("x"), "");
    assert!(status.contains("405"), "{status}");
    let (status, _) = request(sandbox.addr(), "GET", "/elsewhere", "");
    assert!(status.contains("404"), "{status}");
}

#[test]
fn control_endpoints() {
    let sandbox = Sandbox::start_default().unwrap();
    request(sandbox.addr(), "GET", &token_path("a"), "");
    let (_, stats) = request(sandbox.addr(), "GET", "/_sandbox/stats", "");
    assert!(stats.contains(r#""total":1"#), "{stats}");
    assert!(stats.contains(r#""a":1"#), "{stats}");
    let (_, rotated) = request(sandbox.addr(), "POST", "/_sandbox/rotate/a", "");
    assert!(rotated.contains("sandbox_a_v2"), "{rotated}");
    request(sandbox.addr(), "PUT", "/_sandbox/token/a", "custom-token");
    assert_eq!(sandbox.token("a"), "custom-token");
    request(sandbox.addr(), "PUT", "/_sandbox/delay/5", "");
    request(sandbox.addr(), "POST", "/_sandbox/reset", "");
    assert_eq!(sandbox.total_requests(), 0);
    assert_eq!(sandbox.token("a"), "sandbox_a_v1");
}

#[test]
fn fault_modes_by_program_id() {
    let sandbox = Sandbox::start_default().unwrap();
    let get = |id: &str| request(sandbox.addr(), "GET", &token_path(id), "");
    assert!(get("fault-api-error").1.contains(r#""err":40013"#));
    assert!(get("fault-5xx-once").0.contains("503"));
    assert!(get("fault-5xx-once").0.contains("200"));
    let (status, rest) = get("fault-http-302");
    assert!(status.contains("302"));
    assert!(rest.to_ascii_lowercase().contains(&format!(
        "location: {}{}",
        sandbox.base_url(),
        token_path(SAMPLE_PROGRAM_ID)
    )));
    assert_eq!(sandbox.token("big-token-4096").len(), 4096);
    assert!(
        get("big-token-4096")
            .1
            .contains(&sandbox.token("big-token-4096"))
    );
    assert!(get("big-token-9999999").0.contains("400"));
    // The 64 MiB answer announces its size; read only the headers, then hang up.
    let mut stream = TcpStream::connect(sandbox.addr()).unwrap();
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: x\r\n\r\n",
        token_path("fault-huge-body")
    )
    .unwrap();
    let mut head = [0u8; 512];
    let n = stream.read(&mut head).unwrap();
    let head = String::from_utf8_lossy(&head[..n]).to_ascii_lowercase();
    assert!(head.contains("content-length: 67108864"), "{head}");
}

#[test]
fn refuses_non_loopback_addresses() {
    let err = Sandbox::start(SandboxOptions {
        addr: Some("0.0.0.0:0".parse().unwrap()),
        ..SandboxOptions::default()
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("loopback"), "{err}");
}

#[test]
fn shutdown_releases_the_port() {
    let sandbox = Sandbox::start_default().unwrap();
    let addr = sandbox.addr();
    sandbox.shutdown();
    let again = Sandbox::start(SandboxOptions {
        addr: Some(addr),
        ..SandboxOptions::default()
    })
    .unwrap();
    assert_eq!(again.addr(), addr);
}

#[test]
fn tls_mode_writes_its_ca() {
    let dir = std::env::temp_dir().join(format!("ky-sandbox-tls-{}", std::process::id()));
    let sandbox = Sandbox::start(SandboxOptions {
        tls_dir: Some(dir.clone()),
        ..SandboxOptions::default()
    })
    .unwrap();
    let ca = std::fs::read_to_string(sandbox.ca_pem_path().unwrap()).unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(sandbox.base_url().starts_with("https://localhost:"));
    // The TLS handshake itself is covered by the library's tests (tests/client.rs, tests/c_abi.rs).
}
