//! The C names of the two C enums. Each is the Rust enum itself (`#[repr(i32)]`, declared by one
//! `c_enum!` table: `Status` in `src/error.rs`, `Level` in `src/log.rs`), so there is no second
//! list to keep in step; `tests/header.rs` writes their C declarations from those tables.

/// Status code returned by every fallible `ky_*` function: [`crate::Status`] under its C name.
pub type ky_status = crate::error::Status;

/// Log levels for `ky_set_log_callback`: [`crate::Level`] under its C name.
pub type ky_log_level = crate::log::Level;
