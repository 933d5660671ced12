//! `ky_client`: an opaque client handle with its own configuration, cache, background thread and
//! worker pool. The process default client behind the global `ky_*` functions is one of these,
//! configured from the environment.

use std::ffi::{c_char, c_void};

use super::boundary::{
    self, Failure, alloc_token, check_out_buf, handle, hot_status_call, infallible_call,
    pointer_call, status_call,
};
use super::config::ky_config;
use super::last_error;
use super::stats::{ky_stats, write_stats};
use super::status::ky_status;
use crate::client::{Client, default_client};
use crate::error::Error;

/// An opaque client: made by `ky_client_new`, released by `ky_client_free`.
///
/// Thread-safety: every `ky_client_*` function may be called on the same client from any number
/// of threads at once, except `ky_client_free`, which must be the last call on it (no call may
/// run concurrently with it).
pub struct ky_client {
    client: Client,
}

/// Called exactly once with the result of `ky_client_get_access_token_async`: on a worker thread
/// of the client (never on the thread that made the call), or, for a call cancelled by
/// `ky_client_free`, possibly on the thread freeing the client.
///
/// - `status`: `KY_OK`, or the failure (and `ky_last_error_message()` on this thread, during the
///   callback, has the details), or `KY_ERR_CANCELLED` if the client was freed first.
/// - `token`, `token_len`: the token, NUL-terminated, valid only until the callback returns (copy
///   it to keep it; it is zeroed afterwards); NULL and 0 on failure.
/// - `userdata`: the pointer given to the async call.
///
/// The callback must not unwind (throw a C++ exception or longjmp) out of itself. It may call any
/// `ky_*` function, including `ky_client_free` on its own client (see `ky_client_free`). A
/// runtime that ends the thread inside it (`pthread_exit`, as CPython does at shutdown) is
/// survived: the worker is replaced on demand.
pub type ky_token_callback = Option<
    unsafe extern "C" fn(
        status: ky_status,
        token: *const c_char,
        token_len: usize,
        userdata: *mut c_void,
    ),
>;

/// Called exactly once with the result of `ky_client_get_access_token_async_detail`: as
/// `ky_token_callback` (same threads, same rules), plus the failure's details as arguments, for
/// callers whose code runs on another thread than the worker's (Node.js, where the callback is
/// forwarded to the event-loop thread and `ky_last_error_message()` there is not this call's).
///
/// - `message`: `""` on success, else the failure's message (as `ky_last_error_message()` would
///   give it), NUL-terminated and valid only until the callback returns.
/// - `api_err`: the API's `err` for `KY_ERR_API` (as `ky_last_api_err()`), else 0.
pub type ky_token_detail_callback = Option<
    unsafe extern "C" fn(
        status: ky_status,
        token: *const c_char,
        token_len: usize,
        message: *const c_char,
        api_err: i64,
        userdata: *mut c_void,
    ),
>;

/// Creates a client from `config` (copied: free or reuse the configuration afterwards). All
/// settings are checked here, including reading the CA file, and no network I/O is done, except
/// that a prefetch list starts the background fetches at once.
///
/// Ownership: on `KY_OK`, `*out` is a new client owned by the caller; release it with
/// `ky_client_free`. `*out` is untouched on failure.
///
/// # Safety
/// `config` is NULL or a live configuration; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_client_new(
    config: *const ky_config,
    out: *mut *mut ky_client,
) -> ky_status {
    status_call(|| {
        // SAFETY: the caller guarantees `config` is NULL or live.
        let config = unsafe { handle(config, "config") }?;
        if out.is_null() {
            return Err(Error::invalid("out is NULL").into());
        }
        let client = Client::new(config.config.clone())?;
        let raw = Box::into_raw(Box::new(ky_client { client }));
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { out.write(raw) };
        Ok(())
    })
}

/// Releases a client. `ky_client_free(NULL)` does nothing.
///
/// Asynchronous calls not yet started are cancelled (their callbacks run with
/// `KY_ERR_CANCELLED`), calls already running finish (each within the client's timeout, plus the
/// time its callback takes), and the background thread stops after its current refresh; this
/// waits for all of that, so when it returns no callback of this client is running or will run,
/// and userdata may be freed. Called from inside one of the client's own callbacks it cannot wait
/// for itself: the other callbacks then finish (or are cancelled) after it returns.
///
/// Like `fclose`, this must be the last call on the client: calling any other `ky_client_*`
/// function on it concurrently with, or after, `ky_client_free` is undefined behaviour. (Its own
/// callbacks are the exception above.)
///
/// # Safety
/// `client` is NULL or a client from `ky_client_new` not yet freed, and no other thread uses it
/// during or after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_client_free(client: *mut ky_client) {
    infallible_call((), || {
        if !client.is_null() {
            // SAFETY: per the contract, `client` came from `Box::into_raw` and is freed once.
            drop(unsafe { Box::from_raw(client) });
        }
    })
}

/// `ky_get_access_token` on this client: writes the token, NUL-terminated, into `out_buf`.
/// Same buffer contract, statuses and blocking (at most the client's timeout).
///
/// # Safety
/// `client` is NULL or live; `program_id` is NULL or NUL-terminated; `out_buf` is NULL or
/// writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_client_get_access_token(
    client: *const ky_client,
    program_id: *const c_char,
    out_buf: *mut c_char,
    len: usize,
) -> ky_status {
    hot_status_call(|| {
        // SAFETY: the caller guarantees `client` is NULL or live.
        let client = unsafe { handle(client, "client") }?;
        // SAFETY: forwarded contract.
        unsafe { get_into(&client.client, program_id, out_buf, len) }
    })
}

/// The body of both `ky_get_access_token` and `ky_client_get_access_token`.
///
/// # Safety
/// As `ky_get_access_token`.
pub(crate) unsafe fn get_into(
    client: &Client,
    program_id: *const c_char,
    out_buf: *mut c_char,
    len: usize,
) -> Result<(), Failure> {
    check_out_buf(out_buf, len)?;
    // SAFETY: the caller guarantees `program_id` is NULL or NUL-terminated.
    let id = unsafe { boundary::program_id_bytes(program_id) }?;
    // SAFETY: the caller guarantees `out_buf` is writable for `len` bytes.
    client.with_token(id, |token| unsafe {
        boundary::write_token(token, out_buf, len)
    })?
}

/// `ky_get_access_token_alloc` on this client. Free the result with `ky_string_free`.
///
/// # Safety
/// `client` is NULL or live; `program_id` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_client_get_access_token_alloc(
    client: *const ky_client,
    program_id: *const c_char,
) -> *mut c_char {
    pointer_call(|| {
        // SAFETY: the caller guarantees both pointers are NULL or valid.
        let client = unsafe { handle(client, "client") }?;
        unsafe { alloc_from(&client.client, program_id) }
    })
}

/// The body of both `_alloc` functions: the same hot path as `get_into`.
///
/// # Safety
/// As `ky_get_access_token_alloc`.
pub(crate) unsafe fn alloc_from(
    client: &Client,
    program_id: *const c_char,
) -> Result<*mut c_char, Error> {
    // SAFETY: the caller guarantees `program_id` is NULL or NUL-terminated.
    let id = unsafe { boundary::program_id_bytes(program_id) }?;
    client.with_token(id, alloc_token)?
}

/// `ky_invalidate_access_token` on this client. Does no I/O.
///
/// # Safety
/// `client` is NULL or live; `program_id` is NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_client_invalidate_access_token(
    client: *const ky_client,
    program_id: *const c_char,
) -> ky_status {
    status_call(|| {
        // SAFETY: the caller guarantees both pointers are NULL or valid.
        let client = unsafe { handle(client, "client") }?;
        let id = unsafe { boundary::program_id(program_id) }?;
        client.client.invalidate_validated(id);
        Ok(())
    })
}

/// Compare-and-invalidate: drops the cached token for `program_id` only if it is still `token`
/// (`token_len` bytes, compared in constant time). Call it with the token WeChat just rejected
/// (errcode 40001/42001): when many requests fail with the same old token, the first call drops
/// it and the rest leave the fresh token fetched meanwhile alone, so there is no refresh storm.
///
/// `out_invalidated` (may be NULL) receives whether the token was dropped. Does no I/O.
///
/// # Safety
/// `client` is NULL or live; `program_id` is NULL or NUL-terminated; `token` is NULL or readable
/// for `token_len` bytes; `out_invalidated` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_client_invalidate_access_token_if(
    client: *const ky_client,
    program_id: *const c_char,
    token: *const c_char,
    token_len: usize,
    out_invalidated: *mut bool,
) -> ky_status {
    status_call(|| {
        // SAFETY: the caller guarantees the pointers as documented.
        let client = unsafe { handle(client, "client") }?;
        unsafe {
            invalidate_if(
                &client.client,
                program_id,
                token,
                token_len,
                out_invalidated,
            )
        }
    })
}

/// The body of both compare-and-invalidate functions.
///
/// # Safety
/// As `ky_client_invalidate_access_token_if`.
pub(crate) unsafe fn invalidate_if(
    client: &Client,
    program_id: *const c_char,
    token: *const c_char,
    token_len: usize,
    out_invalidated: *mut bool,
) -> Result<(), Failure> {
    // SAFETY: the caller guarantees the pointers as documented.
    let id = unsafe { boundary::program_id(program_id) }?;
    if token.is_null() {
        return Err(Error::invalid("token is NULL").into());
    }
    let token = unsafe { boundary::bytes(token.cast::<u8>(), token_len, "token") }?;
    let dropped = client.invalidate_if_validated(id, token);
    if !out_invalidated.is_null() {
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out_invalidated.write(dropped) };
    }
    Ok(())
}

/// Fetches the token without blocking the caller: queues the call on the client's worker pool
/// (at most 4 threads per client, shared by all its async calls) and returns at once. `callback`
/// is then called exactly once, on a worker thread, with the result (see `ky_token_callback`).
///
/// Returns `KY_OK` when queued. Otherwise the callback is NOT called: `KY_ERR_INVALID_ARGUMENT`
/// (NULL client or callback, invalid id: checked before queuing), `KY_ERR_CANCELLED` (the client
/// is being freed), `KY_ERR_BUSY` (more than `KY_MAX_QUEUED_ASYNC` calls already queued).
///
/// # Safety
/// `client` is NULL or live; `program_id` is NULL or NUL-terminated; `userdata` must stay valid
/// until the callback has run (it is only passed back, never dereferenced by the library).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_client_get_access_token_async(
    client: *const ky_client,
    program_id: *const c_char,
    callback: ky_token_callback,
    userdata: *mut c_void,
) -> ky_status {
    // SAFETY: forwarded contract.
    status_call(|| unsafe { submit(Some(client), program_id, Deliver::plain(callback), userdata) })
}

/// `ky_client_get_access_token_async` with a callback that also receives the failure's message
/// and API `err` (see `ky_token_detail_callback`). Same queuing, returns and callback threads.
///
/// # Safety
/// As `ky_client_get_access_token_async`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_client_get_access_token_async_detail(
    client: *const ky_client,
    program_id: *const c_char,
    callback: ky_token_detail_callback,
    userdata: *mut c_void,
) -> ky_status {
    // SAFETY: forwarded contract.
    status_call(|| unsafe {
        submit(
            Some(client),
            program_id,
            Deliver::detail(callback),
            userdata,
        )
    })
}

/// `userdata` crosses to a worker thread: the C caller promised it may (see the async functions).
struct UserData(*mut c_void);
// SAFETY: the library never dereferences it; the caller's contract makes sending it sound.
unsafe impl Send for UserData {}

/// The callbacks as they are called: `C-unwind`, so that a host runtime ending the thread inside
/// one (`pthread_exit` from CPython at shutdown, Mono unloading a domain) unwinds through our
/// frames instead of aborting the process. Same calling conventions as `ky_token_callback` and
/// `ky_token_detail_callback`.
type TokenCallbackUnwind =
    unsafe extern "C-unwind" fn(ky_status, *const c_char, usize, *mut c_void);
type DetailCallbackUnwind =
    unsafe extern "C-unwind" fn(ky_status, *const c_char, usize, *const c_char, i64, *mut c_void);

/// Which of the two async callbacks a call delivers its result to.
#[derive(Clone, Copy)]
enum Deliver {
    Plain(TokenCallbackUnwind),
    Detail(DetailCallbackUnwind),
}

impl Deliver {
    fn plain(callback: ky_token_callback) -> Result<Self, Failure> {
        let callback = callback.ok_or_else(|| Error::invalid("callback is NULL"))?;
        // SAFETY: only the unwind annotation differs; the ABI is the same.
        Ok(Self::Plain(unsafe {
            std::mem::transmute::<
                unsafe extern "C" fn(ky_status, *const c_char, usize, *mut c_void),
                TokenCallbackUnwind,
            >(callback)
        }))
    }

    fn detail(callback: ky_token_detail_callback) -> Result<Self, Failure> {
        let callback = callback.ok_or_else(|| Error::invalid("callback is NULL"))?;
        // SAFETY: only the unwind annotation differs; the ABI is the same.
        Ok(Self::Detail(unsafe {
            std::mem::transmute::<
                unsafe extern "C" fn(
                    ky_status,
                    *const c_char,
                    usize,
                    *const c_char,
                    i64,
                    *mut c_void,
                ),
                DetailCallbackUnwind,
            >(callback)
        }))
    }

    /// Calls the caller's function (once, as documented); `token` is NULL on failure.
    ///
    /// # Safety
    /// `token` is NULL or NUL-terminated with `len` bytes, alive until this returns.
    unsafe fn call(
        self,
        status: ky_status,
        token: *const c_char,
        len: usize,
        failure: Option<&Error>,
        userdata: *mut c_void,
    ) {
        match self {
            // SAFETY: the caller's function, with the arguments it documents.
            Self::Plain(callback) => unsafe { callback(status, token, len, userdata) },
            Self::Detail(callback) => {
                let message = failure.map(last_error::c_message).unwrap_or_default();
                let api_err = failure.map_or(0, Error::api_err);
                // SAFETY: as above; `message` lives until the callback returns.
                unsafe { callback(status, token, len, message.as_ptr(), api_err, userdata) }
            }
        }
    }
}

/// A token string handed to a callback; zeroed and freed however the callback ends.
struct LentToken(*mut c_char);

impl Drop for LentToken {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `alloc_token` and is freed only here.
        unsafe { boundary::free_token(self.0) };
    }
}

/// The body of the async functions: `client` is `None` for the process default client. The
/// checks run in the documented order (client, id, callback), all before anything is queued.
///
/// # Safety
/// As `ky_client_get_access_token_async`.
unsafe fn submit(
    client: Option<*const ky_client>,
    program_id: *const c_char,
    deliver: Result<Deliver, Failure>,
    userdata: *mut c_void,
) -> Result<(), Failure> {
    let client = match client {
        // SAFETY: the caller guarantees the pointer is NULL or live.
        Some(client) => &unsafe { handle(client, "client") }?.client,
        None => default_client()?,
    };
    // SAFETY: the caller guarantees `program_id` is NULL or NUL-terminated.
    let id = unsafe { boundary::program_id(program_id) }?;
    let deliver = deliver?;
    let userdata = UserData(userdata);
    client.submit_async(id, move |result| {
        let userdata = userdata;
        let lent =
            result.and_then(|token| Ok((LentToken(alloc_token(token.as_bytes())?), token.len())));
        match lent {
            Ok((token, len)) => {
                last_error::clear();
                // SAFETY: called once; the string lives until it returns.
                unsafe { deliver.call(ky_status::KY_OK, token.0, len, None, userdata.0) };
            }
            Err(e) => {
                last_error::set(&e, 0);
                // SAFETY: called once as documented.
                unsafe { deliver.call(e.status(), std::ptr::null(), 0, Some(&e), userdata.0) };
            }
        }
    })?;
    Ok(())
}

/// Fills `out` with this client's counters (see `ky_stats`). Pass `sizeof(ky_stats)` as
/// `out_size`: the library writes `min(out_size, its own sizeof(ky_stats))` bytes and sets
/// `out->version` and `out->size` to what it wrote, so programs built against an older or newer
/// header keep working. `out_size` must be at least 8.
///
/// # Safety
/// `client` is NULL or live; `out` is NULL or writable for `out_size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_client_stats(
    client: *const ky_client,
    out: *mut ky_stats,
    out_size: usize,
) -> ky_status {
    status_call(|| {
        // SAFETY: the caller guarantees the pointers as documented.
        let client = unsafe { handle(client, "client") }?;
        unsafe { write_stats(&client.client.stats(), out, out_size) }?;
        Ok(())
    })
}

/// `ky_client_get_access_token_async` on the process default client (configured from the
/// environment), which is never freed.
///
/// # Safety
/// As `ky_client_get_access_token_async`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_get_access_token_async(
    program_id: *const c_char,
    callback: ky_token_callback,
    userdata: *mut c_void,
) -> ky_status {
    // SAFETY: forwarded contract.
    status_call(|| unsafe { submit(None, program_id, Deliver::plain(callback), userdata) })
}

/// `ky_client_get_access_token_async_detail` on the process default client.
///
/// # Safety
/// As `ky_client_get_access_token_async`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_get_access_token_async_detail(
    program_id: *const c_char,
    callback: ky_token_detail_callback,
    userdata: *mut c_void,
) -> ky_status {
    // SAFETY: forwarded contract.
    status_call(|| unsafe { submit(None, program_id, Deliver::detail(callback), userdata) })
}

/// `ky_client_invalidate_access_token_if` on the process default client.
///
/// # Safety
/// As `ky_client_invalidate_access_token_if`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_invalidate_access_token_if(
    program_id: *const c_char,
    token: *const c_char,
    token_len: usize,
    out_invalidated: *mut bool,
) -> ky_status {
    status_call(|| {
        // SAFETY: forwarded contract.
        unsafe {
            invalidate_if(
                default_client()?,
                program_id,
                token,
                token_len,
                out_invalidated,
            )
        }
    })
}

/// `ky_client_stats` for the process default client.
///
/// # Safety
/// `out` is NULL or writable for `out_size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ky_get_stats(out: *mut ky_stats, out_size: usize) -> ky_status {
    status_call(|| {
        // SAFETY: forwarded contract.
        unsafe { write_stats(&default_client()?.stats(), out, out_size) }?;
        Ok(())
    })
}
