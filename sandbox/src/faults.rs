//! Routing: the access-token endpoint with its fault modes (chosen by program id), and the
//! `/_sandbox/…` control endpoints.

use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, LOCATION, USER_AGENT};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::body::Body;
use crate::{SAMPLE_PROGRAM_ID, SAMPLE_TOKEN, Shared, lock, rotate};

const TOKEN_PATH_SUFFIX: &str = "/accesstoken";
const TOKEN_PATH_MARKER: &str = "/api/config/v1/programs/";
const MAX_BIG_TOKEN: usize = 1024 * 1024;
const HUGE_BODY: u64 = 64 * 1024 * 1024;

/// The token the sandbox issues for `id` at `version` (0 = never rotated).
pub(crate) fn default_token(id: &str, version: u64) -> String {
    if let Some(len) = id
        .strip_prefix("big-token-")
        .and_then(|n| n.parse::<usize>().ok())
    {
        return big_token(len.min(MAX_BIG_TOKEN), version);
    }
    match (id, version) {
        (SAMPLE_PROGRAM_ID, 0) => SAMPLE_TOKEN.to_owned(),
        (SAMPLE_PROGRAM_ID, v) => format!("27_sandbox_rotated_v{v}"),
        (_, v) => format!("sandbox_{id}_v{}", v + 1),
    }
}

fn big_token(len: usize, version: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut token = String::from("27_");
    let offset = version as usize;
    token.extend(
        (0..len.saturating_sub(3)).map(|i| ALPHABET[(i * 7 + offset) % ALPHABET.len()] as char),
    );
    token.truncate(len);
    token
}

pub(crate) async fn respond(
    state: &Shared,
    base_url: &str,
    log: bool,
    request: Request<Incoming>,
) -> Response<Body> {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = route(state, base_url, request).await;
    if log {
        eprintln!(
            "{method} {path} -> {} ({} ms)",
            response.status().as_u16(),
            start.elapsed().as_millis()
        );
    }
    response
}

async fn route(state: &Shared, base_url: &str, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_owned();
    if let Some(control) = path.strip_prefix("/_sandbox/") {
        return control_endpoint(state, request, control).await;
    }
    let id = path
        .strip_suffix(TOKEN_PATH_SUFFIX)
        .and_then(|p| {
            p.rfind(TOKEN_PATH_MARKER)
                .map(|i| &p[i + TOKEN_PATH_MARKER.len()..])
        })
        .filter(|id| !id.contains('/'));
    let Some(id) = id else {
        return json_response(
            StatusCode::NOT_FOUND,
            &json!({"err": 404, "msg": "not found", "data": null}),
        );
    };
    if request.method() != Method::GET {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"err": 405, "msg": "method not allowed", "data": null}),
        );
    }
    let (count, delay, token, outage) = {
        let mut s = lock(state);
        s.total += 1;
        let count = {
            let c = s.requests.entry(id.to_owned()).or_insert(0);
            *c += 1;
            *c
        };
        s.last_path = Some(path.clone());
        s.last_user_agent = request
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if id.starts_with("rotating-") {
            // Simulates Tianmu refreshing between every two fetches.
            s.overrides.remove(id);
            *s.versions.entry(id.to_owned()).or_insert(0) = count - 1;
        }
        (count, s.delay, s.token(id), s.outage)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(code) = outage {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return json_response(
            status,
            &json!({"err": code, "msg": "sandbox outage", "data": null}),
        );
    }
    token_endpoint(id, count, token, base_url).await
}

async fn token_endpoint(id: &str, count: u64, token: String, base_url: &str) -> Response<Body> {
    let ok = || {
        json_response(
            StatusCode::OK,
            &json!({"err": 0, "msg": "请求成功", "data": {"accessToken": token}}),
        )
    };
    let fault = |err: i64| json!({"err": err, "msg": "sandbox fault", "data": null});
    if let Some(ms) = id.strip_prefix("slow-").and_then(|n| n.parse::<u64>().ok()) {
        tokio::time::sleep(Duration::from_millis(ms.min(60_000))).await;
        return ok();
    }
    if let Some(err) = id
        .strip_prefix("fault-api-error-")
        .and_then(|n| n.parse::<i64>().ok())
    {
        return json_response(
            StatusCode::OK,
            &json!({"err": err, "msg": "项目不存在", "data": null}),
        );
    }
    if let Some(code) = id
        .strip_prefix("fault-http-")
        .and_then(|n| n.parse::<u16>().ok())
    {
        if matches!(code, 301 | 302 | 303 | 307 | 308) {
            let mut response = json_response(
                StatusCode::from_u16(code).unwrap_or(StatusCode::FOUND),
                &fault(code.into()),
            );
            let target =
                format!("{base_url}/api/config/v1/programs/{SAMPLE_PROGRAM_ID}/accesstoken");
            if let Ok(v) = HeaderValue::from_str(&target) {
                response.headers_mut().insert(LOCATION, v);
            }
            return response;
        }
        return match StatusCode::from_u16(code) {
            Ok(status) if (400..600).contains(&code) => json_response(status, &fault(code.into())),
            _ => json_response(StatusCode::NOT_FOUND, &fault(404)),
        };
    }
    if let Some(len) = id.strip_prefix("big-token-") {
        let valid = len.parse::<usize>().is_ok_and(|n| n <= MAX_BIG_TOKEN);
        return if valid {
            ok()
        } else {
            json_response(StatusCode::BAD_REQUEST, &fault(400))
        };
    }
    let raw = |content_type: &'static str, body: &'static str| {
        let mut response = Response::new(Body::whole(body));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    let data = |value: Value| {
        json_response(
            StatusCode::OK,
            &json!({"err": 0, "msg": "ok", "data": value}),
        )
    };
    match id {
        "fault-api-error" => json_response(
            StatusCode::OK,
            &json!({"err": 40013, "msg": "项目不存在", "data": null}),
        ),
        "fault-5xx-once" | "fault-5xx-twice" => {
            let failures = if id == "fault-5xx-once" { 1 } else { 2 };
            if count <= failures {
                json_response(StatusCode::SERVICE_UNAVAILABLE, &fault(503))
            } else {
                ok()
            }
        }
        "fault-malformed" => raw("application/json", r#"{"err":0,"data":{"accessToken":"#),
        "fault-not-json" => raw("text/html", "<html>gateway</html>"),
        "fault-no-token" => data(json!({})),
        "fault-empty-token" => data(json!({"accessToken": ""})),
        "fault-number-token" => data(json!({"accessToken": 12345})),
        "fault-null-data" => data(Value::Null),
        "fault-control-token" => data(json!({"accessToken": "abc\u{1}def"})),
        "fault-err-string" => json_response(
            StatusCode::OK,
            &json!({"err": "0", "data": {"accessToken": token}}),
        ),
        "fault-err-float" => json_response(
            StatusCode::OK,
            &json!({"err": 0.5, "data": {"accessToken": token}}),
        ),
        "fault-slow-headers" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            ok()
        }
        "fault-slow-body" => with_json_type(Response::new(Body::trickle(1000))),
        "fault-huge-body" => with_json_type(Response::new(Body::Stream {
            remaining: HUGE_BODY,
            exact: true,
        })),
        "fault-huge-chunked" => with_json_type(Response::new(Body::Stream {
            remaining: HUGE_BODY,
            exact: false,
        })),
        _ => ok(),
    }
}

async fn control_endpoint(
    state: &Shared,
    request: Request<Incoming>,
    path: &str,
) -> Response<Body> {
    let method = request.method().clone();
    let ok = || json_response(StatusCode::OK, &json!({"ok": true}));
    match (method, path.split_once('/').unwrap_or((path, ""))) {
        (Method::GET, ("stats", "")) => {
            let s = lock(state);
            json_response(
                StatusCode::OK,
                &json!({"total": s.total, "programs": s.requests, "last_path": s.last_path}),
            )
        }
        (Method::POST, ("reset", "")) => {
            *lock(state) = Default::default();
            ok()
        }
        (Method::POST, ("rotate", id)) if !id.is_empty() => {
            json_response(StatusCode::OK, &json!({"token": rotate(state, id)}))
        }
        (Method::PUT, ("token", id)) if !id.is_empty() => {
            let id = id.to_owned();
            match request.into_body().collect().await {
                Ok(body) => {
                    let token = String::from_utf8_lossy(&body.to_bytes()).into_owned();
                    lock(state).overrides.insert(id, token);
                    ok()
                }
                Err(_) => json_response(StatusCode::BAD_REQUEST, &json!({"ok": false})),
            }
        }
        (Method::PUT, ("delay", ms)) => match ms.parse::<u64>() {
            Ok(ms) => {
                lock(state).delay = Duration::from_millis(ms);
                ok()
            }
            Err(_) => json_response(
                StatusCode::BAD_REQUEST,
                &json!({"ok": false, "msg": "delay in ms"}),
            ),
        },
        (Method::PUT, ("outage", code)) => match code.parse::<u16>() {
            Ok(code) => {
                lock(state).outage = (code != 0).then_some(code);
                ok()
            }
            Err(_) => json_response(
                StatusCode::BAD_REQUEST,
                &json!({"ok": false, "msg": "HTTP status, or 0 to end the outage"}),
            ),
        },
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({"ok": false, "msg": "unknown control endpoint"}),
        ),
    }
}

fn with_json_type(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let mut response = with_json_type(Response::new(Body::whole(value.to_string())));
    *response.status_mut() = status;
    response
}
