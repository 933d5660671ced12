//! Arbitrary bytes as a sequence of C-ABI calls; the checks are in checks/c_entry_points.rs.
#![no_main]

#[path = "../checks/c_entry_points.rs"]
mod c_entry_points;
#[path = "../checks/guarded.rs"]
mod guarded;
// Only its id rule is needed here; its `check` is the program_id target's.
#[allow(dead_code)]
#[path = "../checks/program_id.rs"]
mod program_id;

libfuzzer_sys::fuzz_target!(|ops: &[u8]| c_entry_points::check(ops));
