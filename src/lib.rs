//! # ky-access-token
//!
//! Fetches the Tianmu (天幕) mini-game access token from
//! `GET {base}/api/config/v1/programs/{programId}/accesstoken`, caches it per program id with
//! single-flight refreshes, and exposes the result to Rust ([`Client`], [`get_access_token`]) and
//! to C (the `ky_*` functions in [`ffi`], header `include/ky_access_token.h`).
//!
//! Layers, one module each: [`ffi`] (C boundary, no logic) → `client` (cache, single-flight,
//! refresh-ahead, stale-if-error, background thread, async pool) → `fetch` (HTTP, retries, error
//! mapping) → `response` (JSON). `config`, `error`, `token`, `program_id`, `clock`, `stats` and
//! `log` are shared vocabulary.
//!
//! ```no_run
//! let client = ky_access_token::Client::new(
//!     ky_access_token::Config::new().base_url("http://127.0.0.1:8080"),
//! )?;
//! let token = client.get_access_token("223fc70098ad11e9a5898928ba7882e6")?;
//! println!("{} bytes", token.len()); // never log the token itself
//! # Ok::<(), ky_access_token::Error>(())
//! ```

mod c_enum;
mod client;
mod clock;
mod config;
mod error;
mod fetch;
pub mod ffi;
mod fork;
mod log;
mod panics;
mod program_id;
mod response;
mod stats;
mod token;

pub use client::{Client, MAX_ASYNC_WORKERS, MAX_QUEUED_ASYNC, default_client};
pub use clock::ManualClock;
pub use config::{
    Config, DEFAULT_BASE_URL, DEFAULT_CACHE_TTL, DEFAULT_MAX_PROGRAMS, DEFAULT_MAX_RETRIES,
    DEFAULT_REFRESH_AHEAD, DEFAULT_TIMEOUT, EnvProxy, MAX_CA_FILE_BYTES, MAX_CACHE_TTL,
    MAX_MAX_PROGRAMS, MAX_PREFETCH, MAX_RETRIES, MAX_STALE_IF_ERROR, MAX_TIMEOUT,
    MAX_USER_AGENT_SUFFIX, Proxy,
};
pub use error::{Error, Status};
pub use fetch::MAX_BODY_BYTES;
pub use log::{Level, LogSink, set_log_sink};
pub use program_id::{MAX_PROGRAM_ID_LEN, validate_program_id};
pub use response::parse_token_response;
pub use stats::{STATUS_SLOTS, Stats};
pub use token::AccessToken;

/// The token for `program_id` from the process-wide [`default_client`] (configured from the
/// environment at first use).
pub fn get_access_token(program_id: &str) -> Result<AccessToken, Error> {
    default_client()?.get_access_token(program_id)
}

/// Drops the default client's cached token for `program_id`.
pub fn invalidate_access_token(program_id: &str) -> Result<(), Error> {
    default_client()?.invalidate(program_id)
}

/// Drops the default client's cached token for `program_id` only if it is still `token`.
pub fn invalidate_access_token_if(program_id: &str, token: &str) -> Result<bool, Error> {
    default_client()?.invalidate_if(program_id, token)
}
