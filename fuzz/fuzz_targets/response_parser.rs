//! Arbitrary bytes as an API answer body; the checks are in checks/response.rs.
#![no_main]

#[path = "../checks/response.rs"]
mod response;

libfuzzer_sys::fuzz_target!(|body: &[u8]| response::check(body));
