//! The Rust API against the bundled sandbox on loopback: caching, single-flight, invalidation,
//! retries, deadlines and the mapping of every failure class to its status.

use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use ky_access_token::{Client, Config, Proxy, Status};
use ky_sandbox::{SAMPLE_PROGRAM_ID, SAMPLE_TOKEN, Sandbox};

mod common;
use common::together;

/// Fails unless `err`'s message contains `text` (and shows the message).
#[track_caller]
fn assert_mentions(err: &ky_access_token::Error, text: &str) {
    assert!(
        err.message().contains(text),
        "{:?} should mention {text:?}",
        err.message()
    );
}

fn config(sandbox: &Sandbox) -> Config {
    Config::new()
        .base_url(sandbox.base_url())
        // Generous on purpose: tests/dist.rs runs this file under qemu-aarch64 and wine on a
        // loaded machine, where 5 s was exceeded; no test here expects this deadline to fire.
        .timeout(Duration::from_secs(120))
        .max_retries(0)
}

/// A sandbox and a client of it.
fn started() -> (Sandbox, Client) {
    started_with(|config| config)
}

/// A sandbox and a client of it, with `tune` applied to the test configuration.
fn started_with(tune: impl FnOnce(Config) -> Config) -> (Sandbox, Client) {
    let sandbox = Sandbox::start_default().unwrap();
    let client = Client::new(tune(config(&sandbox))).unwrap();
    (sandbox, client)
}

fn client(sandbox: &Sandbox) -> Client {
    Client::new(config(sandbox)).unwrap()
}

fn fails(client: &Client, id: &str) -> ky_access_token::Error {
    client.get_access_token(id).expect_err(id)
}

#[test]
fn fetches_the_documented_sample_token() {
    let sandbox = Sandbox::start_default().unwrap();
    let token = client(&sandbox)
        .get_access_token(SAMPLE_PROGRAM_ID)
        .unwrap();
    assert_eq!(token.as_str(), SAMPLE_TOKEN);
    assert_eq!(sandbox.requests(SAMPLE_PROGRAM_ID), 1);
    assert_eq!(
        sandbox.last_path().unwrap(),
        format!("/api/config/v1/programs/{SAMPLE_PROGRAM_ID}/accesstoken")
    );
    let agent = sandbox.last_user_agent().unwrap();
    assert!(agent.starts_with("ky-access-token/"), "{agent}");
}

#[test]
fn base_url_path_prefix_is_kept() {
    let sandbox = Sandbox::start_default().unwrap();
    let client =
        Client::new(config(&sandbox).base_url(format!("{}/gateway/v2/", sandbox.base_url())))
            .unwrap();
    client.get_access_token("abc").unwrap();
    assert_eq!(
        sandbox.last_path().unwrap(),
        "/gateway/v2/api/config/v1/programs/abc/accesstoken"
    );
}

#[test]
fn cached_token_is_served_without_a_request() {
    let (sandbox, client) = started();
    let first = client.get_access_token("cached").unwrap();
    for _ in 0..10 {
        assert!(
            client
                .get_access_token("cached")
                .unwrap()
                .same_fetch(&first)
        );
    }
    assert_eq!(sandbox.requests("cached"), 1);
    // Each program has its own entry.
    client.get_access_token("other").unwrap();
    assert_eq!(sandbox.total_requests(), 2);
}

#[test]
fn zero_ttl_disables_the_cache() {
    let (sandbox, client) = started_with(|c| c.cache_ttl(Duration::ZERO));
    for _ in 0..3 {
        client.get_access_token("nocache").unwrap();
    }
    assert_eq!(sandbox.requests("nocache"), 3);
}

#[test]
fn expired_token_is_fetched_again() {
    let (sandbox, client) = started_with(|c| c.cache_ttl(Duration::from_millis(100)));
    let old = client.get_access_token("ttl").unwrap();
    sandbox.rotate("ttl");
    thread::sleep(Duration::from_millis(250));
    let new = client.get_access_token("ttl").unwrap();
    assert_eq!(sandbox.requests("ttl"), 2);
    assert_ne!(old.as_str(), new.as_str());
    assert_eq!(new.as_str(), sandbox.token("ttl"));
}

#[test]
fn ttl_is_capped_at_five_minutes() {
    let (_sandbox, client) = started_with(|c| c.cache_ttl(Duration::from_secs(3600)));
    assert_eq!(client.cache_ttl(), Duration::from_secs(300));
}

#[test]
fn concurrent_cold_callers_share_one_request() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = Arc::new(client(&sandbox));
    let shared = Arc::clone(&client);
    let tokens = together(64, move || shared.get_access_token("slow-300").unwrap());
    assert_eq!(sandbox.requests("slow-300"), 1);
    assert!(tokens.iter().all(|t| t.same_fetch(&tokens[0])));
    assert_eq!(tokens[0].as_str(), sandbox.token("slow-300"));
}

#[test]
fn concurrent_callers_share_an_error_and_errors_are_not_cached() {
    let sandbox = Sandbox::start_default().unwrap();
    sandbox.set_delay(Duration::from_millis(300));
    let client = Arc::new(client(&sandbox));
    let shared = Arc::clone(&client);
    for err in together(16, move || {
        shared.get_access_token("fault-api-error").unwrap_err()
    }) {
        assert_eq!((err.status(), err.api_err()), (Status::Api, 40013));
    }
    assert_eq!(sandbox.requests("fault-api-error"), 1);
    sandbox.set_delay(Duration::ZERO);
    fails(&client, "fault-api-error");
    assert_eq!(
        sandbox.requests("fault-api-error"),
        2,
        "errors are not cached"
    );
}

#[test]
fn invalidate_makes_the_next_get_fetch_afresh() {
    let (sandbox, client) = started();
    let old = client.get_access_token("inv").unwrap();
    let new_upstream = sandbox.rotate("inv");
    assert_eq!(
        client.get_access_token("inv").unwrap().as_str(),
        old.as_str()
    );
    client.invalidate("inv").unwrap();
    assert_eq!(
        client.get_access_token("inv").unwrap().as_str(),
        new_upstream
    );
    assert_eq!(sandbox.requests("inv"), 2);
    client.invalidate("never-fetched").unwrap();
    assert_eq!(
        client.invalidate("bad/id").unwrap_err().status(),
        Status::InvalidArgument
    );
}

#[test]
fn invalidate_during_a_fetch_keeps_its_stale_result_out_of_the_cache() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = Arc::new(client(&sandbox));
    let id = "slow-500";
    let old_upstream = sandbox.token(id);
    let in_flight = {
        let client = Arc::clone(&client);
        thread::spawn(move || client.get_access_token(id).unwrap())
    };
    let start = Instant::now();
    while sandbox.requests(id) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "fetch never arrived"
        );
        thread::sleep(Duration::from_millis(5));
    }
    // The first fetch is now in flight with the old token. Rotate upstream and invalidate.
    let new_upstream = sandbox.rotate(id);
    client.invalidate(id).unwrap();
    // A caller arriving after the invalidation must not join the old fetch.
    assert_eq!(client.get_access_token(id).unwrap().as_str(), new_upstream);
    // The old fetch still answers its own caller...
    assert_eq!(in_flight.join().unwrap().as_str(), old_upstream);
    // ...but did not overwrite the cache: the new token is served, with no further request.
    assert_eq!(client.get_access_token(id).unwrap().as_str(), new_upstream);
    assert_eq!(sandbox.requests(id), 2);
}

#[test]
fn api_error_carries_err_and_chinese_msg() {
    let (_sandbox, client) = started();
    let err = fails(&client, "fault-api-error");
    assert_eq!(err.status(), Status::Api);
    assert_eq!(err.api_err(), 40013);
    assert_mentions(&err, "项目不存在");
    assert_eq!(fails(&client, "fault-api-error-40001").api_err(), 40001);
    assert_eq!(fails(&client, "fault-api-error--1").api_err(), -1);
}

#[test]
fn non_2xx_is_http_status_and_only_5xx_is_retried() {
    let (sandbox, client) = started_with(|c| c.max_retries(2));
    let err = fails(&client, "fault-http-404");
    assert_eq!(err.status(), Status::HttpStatus);
    assert_mentions(&err, "HTTP 404");
    assert!(
        err.message().contains("sandbox fault"),
        "quotes msg: {}",
        err.message()
    );
    assert_eq!(sandbox.requests("fault-http-404"), 1, "4xx is not retried");

    let err = fails(&client, "fault-http-500");
    assert_eq!(err.status(), Status::HttpStatus);
    assert_mentions(&err, "HTTP 500");
    assert_mentions(&err, "after 3 attempts");
    assert_eq!(
        sandbox.requests("fault-http-500"),
        3,
        "1 attempt + 2 retries"
    );

    let err = fails(&client, "fault-http-429");
    assert_eq!(err.status(), Status::HttpStatus);
    assert_eq!(sandbox.requests("fault-http-429"), 1);

    assert!(client.get_access_token("fault-5xx-once").is_ok());
    assert_eq!(sandbox.requests("fault-5xx-once"), 2, "retry recovered");

    let no_retry = Client::new(config(&sandbox).max_retries(0)).unwrap();
    fails(&no_retry, "fault-5xx-twice");
    assert_eq!(sandbox.requests("fault-5xx-twice"), 1);
}

#[test]
fn redirects_are_not_followed() {
    let (sandbox, client) = started();
    for code in ["301", "302", "307"] {
        let err = fails(&client, &format!("fault-http-{code}"));
        assert_eq!(err.status(), Status::HttpStatus);
        assert_mentions(&err, &format!("HTTP {code}"));
        assert!(err.message().contains("redirects are not followed"));
    }
    assert_eq!(sandbox.requests(SAMPLE_PROGRAM_ID), 0);
}

#[test]
fn malformed_answers_are_bad_response() {
    let (_sandbox, client) = started();
    for id in [
        "fault-malformed",
        "fault-not-json",
        "fault-no-token",
        "fault-empty-token",
        "fault-number-token",
        "fault-null-data",
        "fault-control-token",
        "fault-err-string",
        "fault-err-float",
    ] {
        let err = fails(&client, id);
        assert_eq!(err.status(), Status::BadResponse, "{id}: {err}");
        assert!(!err.message().is_empty());
    }
}

#[test]
fn oversized_bodies_are_refused_without_reading_them() {
    let (_sandbox, client) = started();
    for id in ["fault-huge-body", "fault-huge-chunked"] {
        let start = Instant::now();
        let err = fails(&client, id);
        assert_eq!(err.status(), Status::BadResponse, "{id}: {err}");
        assert_mentions(&err, "limit");
        // Reading 64 MiB would take far longer than stopping at 1 MiB; a loose bound only.
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "{id}: {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn long_tokens_work() {
    let (sandbox, client) = started();
    for n in [3000, 4096, 65536] {
        let token = client.get_access_token(&format!("big-token-{n}")).unwrap();
        assert_eq!(token.len(), n);
        assert_eq!(token.as_str(), sandbox.token(&format!("big-token-{n}")));
    }
}

#[test]
fn deadline_covers_slow_headers_and_trickled_bodies() {
    let (sandbox, client) = started_with(|c| c.timeout(Duration::from_millis(800)).max_retries(2));
    for id in ["fault-slow-headers", "fault-slow-body"] {
        let start = Instant::now();
        let err = fails(&client, id);
        let elapsed = start.elapsed();
        assert_eq!(err.status(), Status::Timeout, "{id}: {err}");
        assert_mentions(&err, "800 ms");
        assert!(elapsed >= Duration::from_millis(700), "{id}: {elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{id}: {elapsed:?}");
        assert_eq!(sandbox.requests(id), 1, "a timeout is not retried");
    }
}

#[test]
fn connection_refused_is_network_and_retried_within_bounds() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::new(
        Config::new()
            .base_url(format!("http://127.0.0.1:{port}"))
            .max_retries(2),
    )
    .unwrap();
    let err = fails(&client, "abc");
    assert_eq!(err.status(), Status::Network);
    assert_mentions(&err, "refused");
    assert_mentions(&err, "after 3 attempts");
}

#[test]
fn unresolvable_host_is_network_without_any_dns_query() {
    // The static host table replaces DNS entirely: the name fails without a packet leaving.
    let client = Client::new(
        Config::new()
            .base_url("https://api.kuaiyugo.invalid")
            .static_hosts([])
            .max_retries(0),
    )
    .unwrap();
    let err = fails(&client, "abc");
    assert_eq!(err.status(), Status::Network);
    assert!(
        err.message()
            .contains("could not resolve host api.kuaiyugo.invalid"),
        "{}",
        err.message()
    );
}

#[test]
fn plain_http_to_a_remote_host_is_refused_before_any_io() {
    for base in ["http://api.kuaiyugo.com", "http://192.168.1.1:8080"] {
        let err = Client::new(Config::new().base_url(base)).err().unwrap();
        assert_eq!(err.status(), Status::InvalidArgument);
        assert_mentions(&err, "only https://");
    }
}

#[test]
fn invalid_program_ids_never_reach_the_server() {
    let (sandbox, client) = started();
    let long = "x".repeat(33);
    for id in [
        "",
        long.as_str(),
        "a/b",
        "..",
        "a%2F",
        "a?b",
        "a#b",
        "a b",
        "a\u{1}",
        "项目",
    ] {
        assert_eq!(
            fails(&client, id).status(),
            Status::InvalidArgument,
            "{id:?}"
        );
    }
    assert_eq!(sandbox.total_requests(), 0);
}

#[test]
fn tls_with_a_throwaway_ca() {
    let (sandbox, dir, base) = common::tls_sandbox("tls");
    assert!(sandbox.base_url().starts_with("https://localhost:"));

    let trusted = Client::new(base.clone().ca_file(sandbox.ca_pem_path().unwrap())).unwrap();
    assert_eq!(
        trusted
            .get_access_token(SAMPLE_PROGRAM_ID)
            .unwrap()
            .as_str(),
        SAMPLE_TOKEN
    );

    let untrusted = Client::new(base.clone()).unwrap();
    let err = fails(&untrusted, SAMPLE_PROGRAM_ID);
    assert_eq!(err.status(), Status::Tls, "{err}");
    assert_mentions(&err, "KY_CA_FILE");
    assert_eq!(
        sandbox.requests(SAMPLE_PROGRAM_ID),
        1,
        "no request over a failed handshake"
    );

    let missing = Client::new(base.ca_file(dir.join("nope.pem")))
        .err()
        .unwrap();
    assert_eq!(missing.status(), Status::InvalidArgument);
    assert_mentions(&missing, "nope.pem");
}

#[test]
fn proxy_settings_route_requests() {
    let sandbox = Sandbox::start_default().unwrap();
    let dead_port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dead_proxy = format!("http://user:hunter2@127.0.0.1:{dead_port}");
    // An explicit proxy is used even for loopback: the dead proxy makes the call fail.
    let via_proxy = Client::new(config(&sandbox).proxy(Proxy::Url(dead_proxy.clone()))).unwrap();
    let err = fails(&via_proxy, "p");
    assert_eq!(err.status(), Status::Network);
    assert_mentions(&err, "proxy");
    assert!(!err.message().contains("hunter2"), "{}", err.message());

    // From the environment, loopback bases bypass the proxy unless NO_PROXY is set explicitly.
    let env = |no_proxy: Option<&str>| {
        let dead_proxy = dead_proxy.clone();
        let no_proxy = no_proxy.map(str::to_owned);
        Config::from_lookup(move |name| match name {
            "HTTP_PROXY" => Some(dead_proxy.clone()),
            "NO_PROXY" => no_proxy.clone(),
            _ => None,
        })
        .unwrap()
        .base_url(sandbox.base_url())
        .max_retries(0)
    };
    Client::new(env(None))
        .unwrap()
        .get_access_token("p")
        .unwrap();
    let err = fails(&Client::new(env(Some(""))).unwrap(), "p");
    assert_eq!(err.status(), Status::Network);
    assert_mentions(&err, "HTTP_PROXY");
    Client::new(env(Some("127.0.0.1")))
        .unwrap()
        .get_access_token("p")
        .unwrap();
    assert_eq!(sandbox.requests("p"), 2);
}
