//! The token lifecycle against the sandbox: refresh-ahead, stale-if-error (to the exact edge of
//! the window, on a manual clock), compare-and-invalidate, prefetch, asynchronous gets racing a
//! drop, counters that match the sandbox's own, and new configuration options.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ky_access_token::{Client, Config, Level, ManualClock, Status, set_log_sink};
use ky_sandbox::{SAMPLE_PROGRAM_ID, SAMPLE_TOKEN, Sandbox};

mod common;
use common::together;

fn config(sandbox: &Sandbox) -> Config {
    Config::new()
        .base_url(sandbox.base_url())
        .timeout(Duration::from_secs(5))
        .max_retries(0)
}

/// `config(sandbox)` with a 10 s TTL on a manual clock, and the clock.
fn ttl_10s_on_manual_clock(sandbox: &Sandbox) -> (Config, ManualClock) {
    let clock = ManualClock::new();
    let config = config(sandbox)
        .cache_ttl(Duration::from_secs(10))
        .clock(clock.clone());
    (config, clock)
}

/// Polls `condition` until it holds or `limit` passes (then fails with `what`).
fn wait_until(what: &str, limit: Duration, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn refresh_ahead_answers_from_cache_and_refreshes_once_in_the_background() {
    let sandbox = Sandbox::start_default().unwrap();
    let (base, clock) = ttl_10s_on_manual_clock(&sandbox);
    let client = Arc::new(Client::new(base.refresh_ahead(0.8)).unwrap());
    let id = "refresh-ahead";
    let old = client.get_access_token(id).unwrap();
    // Before the refresh point: plain hits, nothing queued.
    clock.advance(Duration::from_millis(7_999));
    assert!(client.get_access_token(id).unwrap().same_fetch(&old));
    assert_eq!(client.stats().refresh_ahead_runs, 0);

    // Past it, with a slow upstream that now issues a new token: every caller still gets the
    // cached token at once (a caller that waited for the refresh would see the new one).
    let new = sandbox.rotate(id);
    sandbox.set_delay(Duration::from_millis(300));
    clock.advance(Duration::from_millis(1));
    let shared = Arc::clone(&client);
    let callers = together(8, move || {
        (0..50)
            .map(|_| shared.get_access_token(id).unwrap())
            .collect::<Vec<_>>()
    });
    for caller in callers {
        for token in caller {
            assert!(token.same_fetch(&old), "a caller waited for the refresh");
        }
    }
    wait_until("the background refresh", Duration::from_secs(10), || {
        client.get_access_token(id).unwrap().as_str() == new
    });
    assert_eq!(sandbox.requests(id), 2, "one refresh for 400 callers");
    let stats = client.stats();
    assert_eq!(stats.refresh_ahead_runs, 1);
    assert_eq!(stats.cache_misses, 1, "only the very first call missed");
    assert_eq!(stats.upstream_requests, 2);
}

#[test]
fn refresh_ahead_off_refetches_only_at_expiry() {
    let sandbox = Sandbox::start_default().unwrap();
    let (base, clock) = ttl_10s_on_manual_clock(&sandbox);
    let client = Client::new(base.refresh_ahead(0.0)).unwrap();
    client.get_access_token("no-ahead").unwrap();
    clock.advance(Duration::from_millis(9_999));
    client.get_access_token("no-ahead").unwrap();
    thread::sleep(Duration::from_millis(100));
    assert_eq!(sandbox.requests("no-ahead"), 1);
    clock.advance(Duration::from_millis(1));
    client.get_access_token("no-ahead").unwrap();
    assert_eq!(sandbox.requests("no-ahead"), 2);
    assert_eq!(client.stats().refresh_ahead_runs, 0);
}

#[test]
fn stale_if_error_serves_the_last_token_up_to_the_exact_edge_of_the_window() {
    let sandbox = Sandbox::start_default().unwrap();
    let (base, clock) = ttl_10s_on_manual_clock(&sandbox);
    let client = Client::new(
        base.refresh_ahead(0.0)
            .stale_if_error(Duration::from_secs(60)),
    )
    .unwrap();
    let id = "stale";
    let good = client.get_access_token(id).unwrap();
    sandbox.set_outage(Some(503));

    // Expired, upstream failing: the last good token, and one request to find that out.
    clock.advance(Duration::from_secs(10));
    assert!(client.get_access_token(id).unwrap().same_fetch(&good));
    assert_eq!(sandbox.requests(id), 2);
    // Within the retry pause: still stale, and no new request (an outage is not hammered).
    clock.advance(Duration::from_millis(500));
    assert!(client.get_access_token(id).unwrap().same_fetch(&good));
    assert_eq!(sandbox.requests(id), 2);

    // One nanosecond before the window closes: a new attempt fails, the token is still served.
    clock
        .advance(Duration::from_secs(60) - Duration::from_millis(10_500) - Duration::from_nanos(1));
    assert!(client.get_access_token(id).unwrap().same_fetch(&good));
    assert_eq!(sandbox.requests(id), 3);
    // At the window: never again, even inside the retry pause.
    clock.advance(Duration::from_nanos(1));
    let e = client.get_access_token(id).unwrap_err();
    assert_eq!(e.status(), Status::HttpStatus, "{e}");
    assert!(e.message().contains("503"), "{e}");
    let stats = client.stats();
    assert_eq!(stats.stale_served, 3);
    assert_eq!(stats.upstream_failures, 3);
    assert_eq!(
        stats.upstream_failures_by_status[Status::HttpStatus.code() as usize],
        3
    );

    // Recovery: the next attempt after the pause fetches a fresh token.
    sandbox.set_outage(None);
    clock.advance(Duration::from_secs(2));
    let fresh = client.get_access_token(id).unwrap();
    assert!(!fresh.same_fetch(&good));
}

#[test]
fn stale_if_error_zero_and_invalidate_never_serve_a_stale_token() {
    let sandbox = Sandbox::start_default().unwrap();
    let (base, clock) = ttl_10s_on_manual_clock(&sandbox);
    let base = base.refresh_ahead(0.0);
    let off = Client::new(base.clone().stale_if_error(Duration::ZERO)).unwrap();
    let on = Client::new(base).unwrap();
    on.get_access_token("stale-off").unwrap();
    off.get_access_token("stale-off").unwrap();
    sandbox.set_outage(Some(500));
    clock.advance(Duration::from_secs(11));
    assert_eq!(
        off.get_access_token("stale-off").unwrap_err().status(),
        Status::HttpStatus
    );
    // An invalidated token (WeChat rejected it) is gone, stale copy included.
    on.invalidate("stale-off").unwrap();
    assert_eq!(
        on.get_access_token("stale-off").unwrap_err().status(),
        Status::HttpStatus
    );
    assert_eq!(on.stats().stale_served, 0);
}

#[test]
fn compare_and_invalidate_drops_an_old_token_once_and_keeps_a_fresh_one() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = Arc::new(Client::new(config(&sandbox)).unwrap());
    let id = "cas";
    let old = client.get_access_token(id).unwrap().as_str().to_owned();
    let new = sandbox.rotate(id);

    // A burst of 40001 answers for the old token, from 16 threads at once.
    let (shared, rejected) = (Arc::clone(&client), old.clone());
    let dropped: usize = together(16, move || {
        let dropped = shared.invalidate_if(id, &rejected).unwrap();
        let token = shared.get_access_token(id).unwrap();
        (dropped, token.as_str().to_owned())
    })
    .into_iter()
    .map(|(dropped, token)| {
        assert_eq!(token, new);
        usize::from(dropped)
    })
    .sum();
    assert_eq!(dropped, 1, "exactly one caller drops the old token");
    assert_eq!(sandbox.requests(id), 2, "one refetch, no storm");

    // A late rejection of the old token leaves the fresh one alone.
    assert!(!client.invalidate_if(id, &old).unwrap());
    assert!(!client.invalidate_if(id, "").unwrap());
    assert_eq!(client.get_access_token(id).unwrap().as_str(), new);
    assert_eq!(sandbox.requests(id), 2);
    assert!(client.invalidate_if(id, &new).unwrap());
    assert_eq!(
        client.invalidate_if("bad id", &new).unwrap_err().status(),
        Status::InvalidArgument
    );
}

#[test]
fn prefetch_keeps_programs_warm_and_stops_with_the_client() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = Client::new(
        config(&sandbox)
            .cache_ttl(Duration::from_millis(600))
            .refresh_ahead(0.5)
            .prefetch(["warm-a", "warm-b"]),
    )
    .unwrap();
    wait_until("the first prefetch", Duration::from_secs(10), || {
        client.stats().cached_programs == 2
    });
    // Kept warm across several TTLs: every call is a hit.
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        client.get_access_token("warm-a").unwrap();
        client.get_access_token("warm-b").unwrap();
        thread::sleep(Duration::from_millis(20));
    }
    let stats = client.stats();
    assert_eq!(stats.cache_misses, 0, "{stats:?}");
    assert!(sandbox.requests("warm-a") >= 3, "refreshed ahead of expiry");
    assert!(stats.refresh_ahead_runs >= 4, "{stats:?}");

    drop(client);
    let after = sandbox.total_requests();
    thread::sleep(Duration::from_millis(800));
    assert_eq!(
        sandbox.total_requests(),
        after,
        "the thread stopped with the client"
    );
}

#[test]
fn prefetch_rejects_invalid_ids_and_a_disabled_cache() {
    let e = Client::new(Config::new().prefetch(["ok", "not ok"])).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert!(e.message().contains("prefetch"), "{e}");
    let e = Client::new(Config::new().cache_ttl(Duration::ZERO).prefetch(["ok"])).unwrap_err();
    assert!(e.message().contains("prefetch needs the cache"), "{e}");
}

#[test]
fn async_gets_share_one_request_and_call_back_once_each() {
    let sandbox = Sandbox::start_default().unwrap();
    sandbox.set_delay(Duration::from_millis(200));
    let client = Client::new(config(&sandbox)).unwrap();
    let (tx, rx) = mpsc::channel();
    let caller = thread::current().id();
    for _ in 0..200 {
        let tx = tx.clone();
        client
            .get_access_token_async(SAMPLE_PROGRAM_ID, move |result| {
                let _ = tx.send((thread::current().id(), result));
            })
            .unwrap();
    }
    drop(tx);
    let results: Vec<_> = rx.iter().collect();
    assert_eq!(results.len(), 200);
    let workers: std::collections::HashSet<_> = results.iter().map(|(t, _)| *t).collect();
    assert!(
        !workers.contains(&caller),
        "callbacks run on worker threads"
    );
    assert!(workers.len() <= ky_access_token::MAX_ASYNC_WORKERS);
    for (_, result) in results {
        assert_eq!(result.unwrap().as_str(), SAMPLE_TOKEN);
    }
    assert_eq!(sandbox.requests(SAMPLE_PROGRAM_ID), 1);
    assert_eq!(
        client
            .get_access_token_async("a b", |_| panic!("never called"))
            .unwrap_err()
            .status(),
        Status::InvalidArgument
    );
}

#[test]
fn dropping_a_client_cancels_queued_calls_and_waits_for_running_ones() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = Client::new(config(&sandbox)).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    for i in 0..300 {
        let (calls, outcomes) = (Arc::clone(&calls), Arc::clone(&outcomes));
        // Distinct slow programs keep the 4 workers busy so most calls are still queued.
        let id = format!("slow-{}", 100 + i % 7);
        client
            .get_access_token_async(&id, move |result| {
                calls.fetch_add(1, Ordering::SeqCst);
                outcomes
                    .lock()
                    .unwrap()
                    .push(result.map_err(|e| e.status()).map(|_| ()));
            })
            .unwrap();
    }
    // At least one call is running (the sandbox saw it) when the client goes away.
    wait_until("a running call", Duration::from_secs(10), || {
        sandbox.total_requests() >= 1
    });
    drop(client);
    // Drop returned: every callback has already run, exactly once.
    assert_eq!(calls.load(Ordering::SeqCst), 300);
    let outcomes = outcomes.lock().unwrap();
    let cancelled = outcomes
        .iter()
        .filter(|o| **o == Err(Status::Cancelled))
        .count();
    let ok = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(cancelled + ok, 300, "only successes and cancellations");
    assert!(cancelled > 0 && ok > 0, "{ok} ok, {cancelled} cancelled");
}

#[test]
fn a_callback_may_drop_its_own_client() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = Arc::new(Mutex::new(Some(Client::new(config(&sandbox)).unwrap())));
    let (tx, rx) = mpsc::channel();
    let slot = Arc::clone(&client);
    client
        .lock()
        .unwrap()
        .as_ref()
        .unwrap()
        .get_access_token_async("self-drop", move |result| {
            let own = slot.lock().unwrap().take();
            drop(own); // runs the client's drop on its own worker thread
            let _ = tx.send(result.is_ok());
        })
        .unwrap();
    assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
    assert!(client.lock().unwrap().is_none());
}

#[test]
fn stats_match_the_sandbox_request_count() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = Client::new(config(&sandbox).max_retries(1)).unwrap();
    for id in ["s1", "s2", "s1", "s1", "s2"] {
        client.get_access_token(id).unwrap();
    }
    client.get_access_token("fault-5xx-once").unwrap(); // 503 then 200
    client.get_access_token("fault-api-error").unwrap_err();
    client.get_access_token("fault-http-404").unwrap_err();
    let stats = client.stats();
    assert_eq!(stats.upstream_requests, sandbox.total_requests());
    assert_eq!(stats.upstream_requests, 6);
    assert_eq!(stats.cache_hits, 3);
    assert_eq!(stats.cache_misses, 5);
    assert_eq!(stats.upstream_failures, 3);
    let by = |s: Status| stats.upstream_failures_by_status[s.code() as usize];
    assert_eq!((by(Status::HttpStatus), by(Status::Api)), (2, 1));
    assert_eq!(stats.cached_programs, 3);
    assert_eq!(stats.stale_served, 0);
}

#[test]
fn log_lines_name_the_program_and_timing_but_never_the_token() {
    let sandbox = Sandbox::start_default().unwrap();
    let lines = Arc::new(Mutex::new(Vec::<(Level, String)>::new()));
    let sink = Arc::clone(&lines);
    set_log_sink(
        Some(Box::new(move |level, line: &str| {
            sink.lock().unwrap().push((level, line.to_owned()));
        })),
        Level::Debug,
    )
    .unwrap();
    let (base, clock) = ttl_10s_on_manual_clock(&sandbox);
    let client = Client::new(base.max_retries(1)).unwrap();
    let token = client.get_access_token("log-me").unwrap();
    client.get_access_token("fault-5xx-twice").unwrap_err();
    sandbox.set_outage(Some(502));
    clock.advance(Duration::from_secs(11));
    assert!(
        client
            .get_access_token("log-me")
            .unwrap()
            .same_fetch(&token)
    );
    set_log_sink(None, Level::Debug).unwrap();
    let lines = lines.lock().unwrap();
    let ours: Vec<_> = lines
        .iter()
        .filter(|(_, l)| l.contains("log-me") || l.contains("fault-5xx-twice"))
        .collect();
    let has = |level: Level, text: &str| ours.iter().any(|(l, s)| *l == level && s.contains(text));
    assert!(
        has(Level::Info, "program log-me: token fetched in"),
        "{ours:?}"
    );
    assert!(has(Level::Warn, "attempt 1 failed after"), "{ours:?}");
    assert!(
        has(Level::Error, "program fault-5xx-twice: fetch failed"),
        "{ours:?}"
    );
    assert!(has(Level::Warn, "serving the last good token"), "{ours:?}");
    for (_, line) in lines.iter() {
        assert!(
            !line.contains(token.as_str()),
            "token in a log line: {line}"
        );
        assert!(!line.contains(SAMPLE_TOKEN));
    }
}

#[test]
fn new_options_are_validated_and_applied() {
    let bad = |c: Config| Client::new(c).unwrap_err();
    for fraction in [-0.1, 1.5, f64::NAN] {
        assert!(
            bad(Config::new().refresh_ahead(fraction))
                .message()
                .contains("refresh-ahead")
        );
    }
    assert!(
        bad(Config::new().stale_if_error(Duration::from_secs(301)))
            .message()
            .contains("5 minutes")
    );
    assert!(
        bad(Config::new().connect_timeout(Duration::ZERO))
            .message()
            .contains("connect timeout")
    );
    assert!(
        bad(Config::new().user_agent_suffix("bad\nsuffix"))
            .message()
            .contains("user-agent")
    );
    assert!(
        bad(Config::new().ca_pem("not a pem"))
            .message()
            .contains("PEM")
    );
    let env = Config::from_lookup(|name| match name {
        "KY_REFRESH_AHEAD" => Some("half".into()),
        _ => None,
    })
    .unwrap_err();
    assert!(env.message().contains("KY_REFRESH_AHEAD"), "{env}");

    let sandbox = Sandbox::start_default().unwrap();
    let client = Client::new(config(&sandbox).user_agent_suffix("MyGame/1.2")).unwrap();
    client.get_access_token("ua").unwrap();
    let agent = sandbox.last_user_agent().unwrap();
    assert!(
        agent.starts_with("ky-access-token/") && agent.ends_with(" MyGame/1.2"),
        "{agent}"
    );
}

#[test]
fn ca_pem_in_memory_is_trusted_for_tls() {
    let (sandbox, dir, base) = common::tls_sandbox("ca-pem");
    let pem = std::fs::read(sandbox.ca_pem_path().unwrap()).unwrap();
    let base = base.connect_timeout(Duration::from_secs(2));
    let untrusted = Client::new(base.clone()).unwrap();
    assert_eq!(
        untrusted.get_access_token("tls").unwrap_err().status(),
        Status::Tls
    );
    let trusted = Client::new(base.ca_pem(pem)).unwrap();
    assert!(trusted.get_access_token("tls").is_ok());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn another_threads_snapshot_never_outlives_an_invalidation() {
    // Each thread keeps its own snapshot of a hit; a change made on another thread must
    // retire it before that thread's next call returns.
    let sandbox = Sandbox::start_default().unwrap();
    let client = Arc::new(Client::new(config(&sandbox)).unwrap());
    let id = "snapshot";
    let (ask, asked) = mpsc::channel::<()>();
    let (answer, answers) = mpsc::channel::<String>();
    let worker = {
        let client = Arc::clone(&client);
        thread::spawn(move || {
            for () in asked {
                let token = client.get_access_token(id).unwrap();
                answer.send(token.as_str().to_owned()).unwrap();
            }
        })
    };
    let get_on_worker = || {
        ask.send(()).unwrap();
        answers.recv().unwrap()
    };
    let first = get_on_worker();
    assert_eq!(get_on_worker(), first, "a hit");
    let second = sandbox.rotate(id);
    client.invalidate(id).unwrap();
    assert_eq!(get_on_worker(), second);
    let third = sandbox.rotate(id);
    assert!(client.invalidate_if(id, &second).unwrap());
    assert_eq!(get_on_worker(), third);
    assert_eq!(sandbox.requests(id), 3);
    assert_eq!(client.stats().cache_hits, 1);
    drop(ask);
    worker.join().unwrap();
}

#[test]
fn the_background_thread_ends_when_idle_and_returns_for_the_next_refresh() {
    let sandbox = Sandbox::start_default().unwrap();
    let (base, clock) = ttl_10s_on_manual_clock(&sandbox);
    let client = Client::new(base).unwrap();
    let id = "idle-refresher";
    client.get_access_token(id).unwrap();
    for round in 2..=3 {
        clock.advance(Duration::from_secs(8));
        client.get_access_token(id).unwrap(); // past 0.8 × TTL: queues a refresh
        wait_until("the refresh", Duration::from_secs(10), || {
            sandbox.requests(id) == round
        });
        if round == 2 {
            // Longer than the thread's idle limit: the next refresh needs a new thread.
            thread::sleep(Duration::from_millis(5_500));
        }
    }
    assert_eq!(client.stats().refresh_ahead_runs, 2);
}
