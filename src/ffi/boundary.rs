//! The panic boundary every `extern "C"` function body runs inside, and the checked readers and
//! writers of C arguments. No business logic: that lives in `client`.
//!
//! A panic must never unwind into C (Rust ≥ 1.81 would abort the host process): it is caught here
//! and reported as `KY_ERR_INTERNAL` with the panic's message.

use std::ffi::c_char;

use super::last_error;
use super::status::ky_status;
use crate::error::{Error, Status};
use crate::panics;
use crate::program_id::{MAX_PROGRAM_ID_LEN, validate_program_id};

/// A failed FFI call: the error, plus the buffer size the caller needs for `BufferTooSmall`.
pub(crate) struct Failure {
    pub error: Error,
    pub required_size: usize,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            error,
            required_size: 0,
        }
    }
}

/// Runs a status-returning body: success clears this thread's last error, failure records it.
pub(crate) fn status_call(body: impl FnOnce() -> Result<(), Failure>) -> ky_status {
    finish(panics::guarded(body))
}

/// [`status_call`] for the token getters, whose cache hit must stay as cheap as a function
/// call: their slow path marks itself quiet instead (see `panics::caught`).
pub(crate) fn hot_status_call(body: impl FnOnce() -> Result<(), Failure>) -> ky_status {
    finish(panics::caught(body))
}

// Inlined: on the hit path a call here costs as much as the rest of the boundary.
#[inline(always)]
fn finish(result: Result<Result<(), Failure>, String>) -> ky_status {
    match result {
        Ok(Ok(())) => {
            last_error::clear();
            ky_status::KY_OK
        }
        Ok(Err(failure)) => {
            last_error::set(&failure.error, failure.required_size);
            failure.error.status()
        }
        Err(message) => {
            last_error::set(&panic_error(&message), 0);
            ky_status::KY_ERR_INTERNAL
        }
    }
}

/// Runs a pointer-returning body: NULL on failure (recorded like `hot_status_call`: only the
/// `_alloc` getters return pointers).
pub(crate) fn pointer_call<T>(body: impl FnOnce() -> Result<*mut T, Error>) -> *mut T {
    let mut out = std::ptr::null_mut();
    let status = hot_status_call(|| {
        out = body()?;
        Ok(())
    });
    if status == ky_status::KY_OK {
        out
    } else {
        std::ptr::null_mut()
    }
}

/// Runs a body that cannot fail and does not touch the last error; `fallback` if it panics.
pub(crate) fn infallible_call<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    panics::guarded(body).unwrap_or(fallback)
}

fn panic_error(message: &str) -> Error {
    Error::internal(format!(
        "internal error (caught panic: {message}); please report this bug"
    ))
}

/// Reads and validates a C program id, looking at no more than `MAX_PROGRAM_ID_LEN + 1` bytes,
/// so an unterminated or huge string is rejected without scanning it.
///
/// # Safety
/// `ptr` is NULL or points to memory readable up to its NUL or `MAX_PROGRAM_ID_LEN + 1` bytes.
pub(crate) unsafe fn program_id<'a>(ptr: *const c_char) -> Result<&'a str, Error> {
    // SAFETY: forwarded contract.
    validate_program_id(unsafe { program_id_bytes(ptr) }?)
}

/// The bytes of a C program id, not yet validated: at most `MAX_PROGRAM_ID_LEN + 1` of them (one
/// more than valid, so the validator can say "too long"). For the hot path, where a per-thread
/// cache hit on these exact bytes proves them valid without a second pass.
///
/// # Safety
/// As [`program_id`].
pub(crate) unsafe fn program_id_bytes<'a>(ptr: *const c_char) -> Result<&'a [u8], Error> {
    if ptr.is_null() {
        return Err(Error::invalid("program_id is NULL"));
    }
    // SAFETY: per the contract, every byte up to the NUL (or the limit) is readable.
    let len = unsafe { bounded_strlen(ptr, MAX_PROGRAM_ID_LEN + 1) };
    // SAFETY: the `len` bytes just read are initialised and live for the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// `strnlen`: the C library's vectorised scan, on the hot path of every call.
///
/// # Safety
/// `ptr` is readable up to its NUL or `max` bytes.
#[cfg(unix)]
unsafe fn bounded_strlen(ptr: *const c_char, max: usize) -> usize {
    // SAFETY: forwarded contract; strnlen reads no further than `max` bytes.
    unsafe { libc::strnlen(ptr, max) }
}

/// A plain bounded scan where `strnlen` is not at hand.
///
/// # Safety
/// `ptr` is readable up to its NUL or `max` bytes.
#[cfg(not(unix))]
unsafe fn bounded_strlen(ptr: *const c_char, max: usize) -> usize {
    let mut len = 0;
    // SAFETY: forwarded contract.
    while len < max && unsafe { *ptr.add(len) } != 0 {
        len += 1;
    }
    len
}

/// Borrows the object behind a handle argument, or fails naming the argument.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` for the duration of the call.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Error> {
    // SAFETY: per the contract, a non-NULL pointer is a live handle.
    unsafe { ptr.as_ref() }.ok_or_else(|| Error::invalid(format!("{name} is NULL")))
}

/// Mutable [`handle`].
///
/// # Safety
/// `ptr` is NULL or points to a live `T` that no other thread uses during the call.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Error> {
    // SAFETY: per the contract, a non-NULL pointer is a live, unshared handle.
    unsafe { ptr.as_mut() }.ok_or_else(|| Error::invalid(format!("{name} is NULL")))
}

/// Reads an optional NUL-terminated UTF-8 string argument (NULL → `None`), at most `max` bytes.
///
/// # Safety
/// `ptr` is NULL or a readable NUL-terminated string.
pub(crate) unsafe fn opt_str<'a>(
    ptr: *const c_char,
    name: &str,
    max: usize,
) -> Result<Option<&'a str>, Error> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: per the contract, every byte up to the NUL is readable; we stop at `max + 1`.
    let len = unsafe { bounded_strlen(ptr, max.saturating_add(1)) };
    if len > max {
        return Err(Error::invalid(format!("{name} is longer than {max} bytes")));
    }
    // SAFETY: the `len` bytes just read are initialised and live for the call.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    std::str::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Error::invalid(format!("{name} is not valid UTF-8")))
}

/// A required [`opt_str`].
///
/// # Safety
/// As [`opt_str`].
pub(crate) unsafe fn req_str<'a>(
    ptr: *const c_char,
    name: &str,
    max: usize,
) -> Result<&'a str, Error> {
    // SAFETY: forwarded contract.
    unsafe { opt_str(ptr, name, max) }?.ok_or_else(|| Error::invalid(format!("{name} is NULL")))
}

/// A byte buffer argument; NULL is allowed only with `len == 0`.
///
/// # Safety
/// `ptr` is NULL or readable for `len` bytes.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8], Error> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Error::invalid(format!(
                "{name} is NULL but its length is {len}"
            )))
        };
    }
    // SAFETY: per the contract, `len` bytes are readable.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Checks an output buffer before any I/O: NULL is allowed only with `len == 0` (a size query).
pub(crate) fn check_out_buf(out_buf: *mut c_char, len: usize) -> Result<(), Error> {
    if out_buf.is_null() && len > 0 {
        return Err(Error::invalid(format!("out_buf is NULL but len is {len}")));
    }
    Ok(())
}

/// Copies `token` and a NUL into `out_buf`; on `BufferTooSmall` writes only `out_buf[0] = 0`
/// (when `len > 0`) and reports the size needed.
///
/// # Safety
/// `out_buf` is NULL (then `len == 0`) or writable for `len` bytes.
pub(crate) unsafe fn write_token(
    token: &[u8],
    out_buf: *mut c_char,
    len: usize,
) -> Result<(), Failure> {
    let needed = token.len() + 1;
    if len < needed {
        if len > 0 {
            // SAFETY: `len > 0`, so the first byte is writable.
            unsafe { *out_buf = 0 };
        }
        return Err(Failure {
            error: Error::new(
                Status::BufferTooSmall,
                format!(
                    "the token needs a buffer of {needed} bytes (including the NUL) but len is {len}; \
                     ky_last_required_size() returns the size needed"
                ),
            ),
            required_size: needed,
        });
    }
    // SAFETY: `out_buf` is writable for `len >= needed` bytes and cannot overlap the token,
    // which Rust owns.
    unsafe {
        std::ptr::copy_nonoverlapping(token.as_ptr(), out_buf.cast::<u8>(), token.len());
        *out_buf.add(token.len()) = 0;
    }
    Ok(())
}

/// Bytes in front of every string from [`alloc_token`]: its allocation size, so that
/// [`free_token`] never depends on the contents (a caller may zero or cut the secret first).
const HEADER: usize = std::mem::size_of::<usize>();

fn token_layout(size: usize) -> Option<std::alloc::Layout> {
    std::alloc::Layout::from_size_align(size, std::mem::align_of::<usize>()).ok()
}

/// A heap copy of `token` with a NUL, for `ky_string_free`.
pub(crate) fn alloc_token(token: &[u8]) -> Result<*mut c_char, Error> {
    if token.contains(&0) {
        return Err(Error::internal("token contains a NUL byte"));
    }
    let size = HEADER + token.len() + 1;
    let layout = token_layout(size).ok_or_else(|| Error::internal("token too large"))?;
    // SAFETY: `layout` has a non-zero size.
    let base = unsafe { std::alloc::alloc(layout) };
    if base.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    // SAFETY: `base` is a fresh allocation of `size` bytes aligned for `usize`; the header,
    // the token and the NUL fit exactly.
    unsafe {
        base.cast::<usize>().write(size);
        let text = base.add(HEADER);
        std::ptr::copy_nonoverlapping(token.as_ptr(), text, token.len());
        *text.add(token.len()) = 0;
        Ok(text.cast::<c_char>())
    }
}

/// Zeroes and frees a string from [`alloc_token`], whatever the caller wrote into it.
///
/// # Safety
/// `s` came from [`alloc_token`] and is freed once.
pub(crate) unsafe fn free_token(s: *mut c_char) {
    // SAFETY: per the contract, the header sits `HEADER` bytes before `s` and holds the size
    // of the allocation, which starts there.
    unsafe {
        let base = s.cast::<u8>().sub(HEADER);
        let size = base.cast::<usize>().read();
        let text = std::slice::from_raw_parts_mut(base.add(HEADER), size - HEADER);
        crate::token::zero(text);
        if let Some(layout) = token_layout(size) {
            std::alloc::dealloc(base, layout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unit-test binary's allocator: the system one, remembering per thread the size of the
    /// last deallocation, so a test can check a free used the allocation's own layout.
    struct Recording;

    thread_local! {
        static LAST_DEALLOC: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    // SAFETY: forwards to the system allocator unchanged.
    unsafe impl std::alloc::GlobalAlloc for Recording {
        unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
            // SAFETY: forwarded.
            unsafe { std::alloc::System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
            let _ = LAST_DEALLOC.try_with(|last| last.set(layout.size()));
            // SAFETY: forwarded.
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Recording = Recording;

    #[test]
    fn a_token_string_is_freed_with_its_own_layout_whatever_it_holds() {
        for cut_at in [0usize, 3, 12] {
            let s = alloc_token(b"27_secret_tk").unwrap();
            // SAFETY: `s` holds 12 bytes and a NUL; the caller may write into it.
            unsafe { *s.add(cut_at) = 0 };
            // SAFETY: from `alloc_token`, freed once.
            unsafe { free_token(s) };
            assert_eq!(
                LAST_DEALLOC.with(std::cell::Cell::get),
                HEADER + 13,
                "cut at {cut_at}"
            );
        }
    }
    use std::ffi::CStr;

    #[test]
    fn a_panic_becomes_internal_with_its_message() {
        let status = status_call(|| panic!("boom {}", 42));
        assert_eq!(status, ky_status::KY_ERR_INTERNAL);
        // SAFETY: message_ptr never returns NULL and the string lives until the next call.
        let msg = unsafe { CStr::from_ptr(last_error::message_ptr()) }
            .to_str()
            .unwrap();
        assert!(msg.contains("caught panic: boom 42"), "{msg}");
        let p: *mut u8 = pointer_call(|| panic!("static str"));
        assert!(p.is_null());
        assert_eq!(infallible_call(7, || panic!("x")), 7);
    }

    #[test]
    fn success_clears_the_last_error() {
        status_call(|| Err(Error::api(40001, "API error 40001: invalid credential").into()));
        assert_eq!(last_error::api_err(), 40001);
        assert_eq!(status_call(|| Ok(())), ky_status::KY_OK);
        assert_eq!(last_error::api_err(), 0);
        // SAFETY: as above.
        assert_eq!(
            unsafe { CStr::from_ptr(last_error::message_ptr()) }.to_bytes(),
            b""
        );
    }

    #[test]
    fn program_id_reads_at_most_33_bytes() {
        // No NUL within the first 33 bytes: must stop at 33 and reject, not run off the end.
        let unterminated = [b'a'; 33];
        let e = unsafe { program_id(unterminated.as_ptr().cast()) }.unwrap_err();
        assert!(e.message().contains("longer than 32"));
        let ok = c"223fc70098ad11e9a5898928ba7882e6";
        assert_eq!(
            unsafe { program_id(ok.as_ptr()) }.unwrap(),
            ok.to_str().unwrap()
        );
        assert!(unsafe { program_id(std::ptr::null()) }.is_err());
    }

    #[test]
    fn write_token_never_writes_past_len() {
        let mut buf = [0x55u8; 8];
        let f = unsafe { write_token(b"abcdef", buf.as_mut_ptr().cast(), 4) }.unwrap_err();
        assert_eq!(f.required_size, 7);
        assert_eq!(f.error.status(), Status::BufferTooSmall);
        assert_eq!(buf, [0, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55]);
        unsafe { write_token(b"abcdef", buf.as_mut_ptr().cast(), 7) }
            .ok()
            .unwrap();
        assert_eq!(&buf, b"abcdef\0\x55");
        let f = unsafe { write_token(b"abc", std::ptr::null_mut(), 0) }.unwrap_err();
        assert_eq!(f.required_size, 4);
    }
}
