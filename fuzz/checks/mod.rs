//! The checks the fuzz targets run, in plain Rust so that `tests/fuzz_smoke.rs` can replay the
//! seed corpus through exactly the same code (it includes this module with `#[path]`). Each check
//! panics when an invariant breaks; under libFuzzer a panic is a crash.

pub mod c_entry_points;
pub mod guarded;
pub mod program_id;
pub mod response;
