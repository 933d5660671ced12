//! Arbitrary bytes as a program id; the checks are in checks/program_id.rs.
#![no_main]

#[path = "../checks/program_id.rs"]
mod program_id;

libfuzzer_sys::fuzz_target!(|id: &[u8]| program_id::check(id));
