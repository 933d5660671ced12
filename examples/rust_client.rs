//! The Rust API under the C ABI, used directly (docs/rust-api.md shows `run`'s body).
//!
//!   KY_BASE_URL=http://127.0.0.1:8787 cargo run --example rust_client
//!
//! tests/readme.rs calls `run` against the sandbox.
use std::sync::mpsc;

use ky_access_token::{Client, Config, Error};

fn main() -> Result<(), Error> {
    run(Config::from_env()?)
}

/// Prints the token, invalidates it as after WeChat's errcode 40001, fetches it again without
/// blocking, and prints the client's counters.
pub fn run(config: Config) -> Result<(), Error> {
    // snippet:begin rust
    let id = "223fc70098ad11e9a5898928ba7882e6";
    let client = Client::new(config)?; // checks every setting; no I/O yet
    let token = client.get_access_token(id)?; // AccessToken: redacted Debug, zeroed when dropped
    println!("{}", token.as_str());
    client.invalidate_if(id, token.as_str())?; // WeChat answered 40001 for this token

    let (done, result) = mpsc::channel();
    client.get_access_token_async(id, move |token| {
        // on one of the client's worker threads
        let _ = done.send(token.map(|t| t.as_str().len()));
    })?;
    println!("refetched: {} bytes", result.recv().expect("one callback")?);
    println!("{:?}", client.stats());
    // snippet:end rust
    Ok(())
}
