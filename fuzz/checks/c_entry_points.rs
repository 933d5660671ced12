//! The C entry points on any input: never crash, never read an input or write an output past the
//! length they were given, reject invalid ids with KY_ERR_INVALID_ARGUMENT (1) before any I/O, and
//! answer everything else with a documented status.
//!
//! The input is a list of operations; each takes its arguments from the bytes that follow (a
//! string is a mode byte, a length byte and that many bytes). Strings are placed so that their
//! last byte is the last readable byte before a PROT_NONE page (see `guarded.rs`): either
//! NUL-terminated, or unterminated and exactly as long as the library may read (33 bytes for a
//! program id, 4097 for a setting), so one byte more faults. Output buffers are followed by a
//! canary that must survive. The default client points at `http://127.0.0.1:1` (a closed port:
//! connection refused, never a real network) and every client the input builds is forced to it.

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_void};
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ky_access_token::ffi::*;
// The statuses the C functions return are this enum (`ky_status`): its numbers, never copied.
use ky_access_token::{Level, Status};

use super::guarded::Guarded;
use super::program_id::is_valid_id;

/// Where every client in this process sends requests: nothing listens on port 1.
pub const CLOSED_PORT_URL: &str = "http://127.0.0.1:1";
const ID_READ_LIMIT: usize = KY_MAX_PROGRAM_ID_LEN + 1;
/// `MAX_SETTING_LEN + 1` in src/ffi/config.rs: a setter reads at most this many bytes.
const SETTING_READ_LIMIT: usize = 4097;
const MAX_OPS: usize = 24;
const CANARY: u8 = 0xA5;
const CANARY_LEN: usize = 64;

/// Configures the process default client, before its first use (which reads the environment).
pub fn prepare_environment() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // What the library reads from the environment: KY_* and the proxy variables (HTTPS_PROXY,
        // http_proxy, ALL_PROXY, NO_PROXY… in either case).
        let read_by_the_library: Vec<_> = std::env::vars_os()
            .map(|(k, _)| k)
            .filter(|k| {
                let k = k.to_string_lossy();
                k.starts_with("KY_") || k.to_ascii_uppercase().ends_with("_PROXY")
            })
            .collect();
        // SAFETY: called once, before this process uses the library, from the first check; the
        // fuzz target is single-threaded and the replay test calls it before starting threads.
        unsafe {
            for k in read_by_the_library {
                std::env::remove_var(k);
            }
            std::env::set_var("KY_BASE_URL", CLOSED_PORT_URL);
            std::env::set_var("KY_TIMEOUT_MS", "50");
            std::env::set_var("KY_MAX_RETRIES", "0");
        }
    });
}

pub fn check(data: &[u8]) {
    prepare_environment();
    assert_callbacks_settled();
    ARENAS.with(|arenas| {
        let mut run = Run {
            input: Input(data),
            arenas: &mut arenas.borrow_mut(),
            config: std::ptr::null_mut(),
        };
        for _ in 0..MAX_OPS {
            if run.input.0.is_empty() {
                break;
            }
            run.op();
        }
        // SAFETY: NULL or the configuration this run made.
        unsafe { ky_config_free(run.config) };
    });
    assert_callbacks_settled();
}

struct Arenas {
    id: Guarded,
    token: Guarded,
    text: Guarded,
}

thread_local! {
    static ARENAS: RefCell<Arenas> = RefCell::new(Arenas {
        id: Guarded::new(ID_READ_LIMIT + 1),
        token: Guarded::new(1024),
        text: Guarded::new(SETTING_READ_LIMIT + 16),
    });
}

/// The fuzz input, read front to back; missing bytes read as zero.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
    fn byte(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }
    fn piece(&mut self) -> &'a [u8] {
        let n = self.byte().into();
        self.take(n)
    }
    fn le(&mut self, n: usize) -> u64 {
        self.take(n)
            .iter()
            .rev()
            .fold(0, |acc, &b| (acc << 8) | u64::from(b))
    }
    /// Small numbers, boundaries and anything up to u64::MAX, all reachable.
    fn number(&mut self) -> u64 {
        match self.byte() % 4 {
            0 => self.le(1),
            1 => self.le(2),
            2 => self.le(4),
            _ => self.le(8),
        }
    }
}

/// A C string argument and what the library should see in it (None for NULL).
struct CArg {
    ptr: *const c_char,
    seen: Option<Vec<u8>>,
}

fn until_nul(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().take_while(|&&b| b != 0).copied().collect()
}

fn cycle(piece: &[u8], len: usize) -> Vec<u8> {
    let piece = if piece.is_empty() { b"a" } else { piece };
    piece.iter().copied().cycle().take(len).collect()
}

fn c_arg(input: &mut Input, arena: &mut Guarded, read_limit: usize) -> CArg {
    let mode = input.byte() % 4;
    let piece = input.piece();
    let bytes = match mode {
        0 => [piece, b"\0"].concat(),
        1 => {
            return CArg {
                ptr: std::ptr::null(),
                seen: None,
            };
        }
        // Unterminated: exactly as many bytes as the library may read, then the guard page.
        2 => cycle(piece, read_limit),
        // Terminated, around the length limits (32/33, 4096/4097).
        _ => {
            let len = usize::from(input.le(2) as u16) % (read_limit + 8);
            [cycle(piece, len).as_slice(), b"\0"].concat()
        }
    };
    let ptr = arena.place(&bytes).cast();
    CArg {
        ptr,
        seen: Some(until_nul(&bytes)),
    }
}

fn valid_id(arg: &CArg) -> bool {
    arg.seen.as_deref().is_some_and(is_valid_id)
}

/// An output buffer followed by a canary.
struct OutBuf {
    storage: Vec<u8>,
    len: usize,
    null: bool,
}

impl OutBuf {
    fn new(input: &mut Input) -> OutBuf {
        let (len, null) = match input.byte() % 4 {
            0 => (usize::from(input.byte()) % 48, false),
            1 => (usize::from(input.le(2) as u16) % 2048, false),
            2 => (0, true),
            _ => (usize::from(input.byte()), true),
        };
        OutBuf {
            storage: vec![CANARY; len + CANARY_LEN],
            len,
            null,
        }
    }
    fn ptr(&mut self) -> *mut c_char {
        if self.null {
            std::ptr::null_mut()
        } else {
            self.storage.as_mut_ptr().cast()
        }
    }
    /// Written only as the contract allows for `status`, and never past `len`.
    fn verify(&self, status: Status) {
        let (buf, canary) = self.storage.split_at(self.len);
        assert!(
            canary.iter().all(|&b| b == CANARY),
            "wrote past len {}",
            self.len
        );
        match status {
            Status::Ok => {
                let end = buf.iter().position(|&b| b == 0).expect("no NUL within len");
                assert!(end > 0, "empty token");
            }
            Status::BufferTooSmall if self.len > 0 => {
                assert_eq!(buf[0], 0, "BUFFER_TOO_SMALL must set out_buf[0] = 0");
                assert!(
                    buf[1..].iter().all(|&b| b == CANARY),
                    "wrote a partial token"
                );
            }
            _ => assert!(
                buf.iter().all(|&b| b == CANARY),
                "failed call wrote to out_buf"
            ),
        }
    }
}

/// The per-thread error details must describe the call that just returned `status`.
fn check_last_error(status: Status) {
    assert_ne!(
        status,
        Status::Internal,
        "KY_ERR_INTERNAL: {}",
        last_message()
    );
    let msg = last_message();
    if status == Status::Ok {
        assert!(msg.is_empty(), "message after success: {msg:?}");
    } else {
        assert!(
            !msg.is_empty(),
            "{} without a message",
            status_name(status.code())
        );
    }
    if status != Status::Api {
        assert_eq!(ky_last_api_err(), 0);
    }
    if status != Status::BufferTooSmall {
        assert_eq!(ky_last_required_size(), 0);
    }
}

fn last_message() -> String {
    let ptr = ky_last_error_message();
    assert!(!ptr.is_null(), "ky_last_error_message returned NULL");
    // SAFETY: a NUL-terminated per-thread string, valid until this thread's next call.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes)
        .expect("message is not UTF-8")
        .to_owned()
}

fn static_text(ptr: *const c_char) -> &'static str {
    assert!(!ptr.is_null());
    // SAFETY: ky_status_name / ky_status_description / ky_version return static C strings.
    let text = unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .expect("static text is not UTF-8");
    assert!(
        !text.is_empty() && text.len() < 80 && text.is_ascii(),
        "{text:?}"
    );
    text
}

fn status_name(status: i32) -> &'static str {
    static_text(ky_status_name(status))
}

fn expect(status: ky_status, allowed: &[Status], what: &str) -> Status {
    assert!(
        allowed.contains(&status),
        "{what}: got {} ({}), expected one of {allowed:?}",
        status_name(status.code()),
        last_message()
    );
    check_last_error(status);
    status
}

/// `KY_OK` for valid arguments, else `KY_ERR_INVALID_ARGUMENT`.
fn ok_if(valid: bool) -> Status {
    if valid {
        Status::Ok
    } else {
        Status::InvalidArgument
    }
}

/// A get against the closed port can only fail to connect (or, rarely, time out).
const UNREACHABLE: &[Status] = &[Status::Network, Status::Timeout];

// ---- asynchronous callbacks --------------------------------------------------------------

static SUBMITTED: AtomicU64 = AtomicU64::new(0);
static COMPLETED: AtomicU64 = AtomicU64::new(0);
/// Userdata tags: which statuses a callback may get.
static DEFAULT_CLIENT: u8 = 0;
static OWN_CLIENT: u8 = 1;

unsafe extern "C" fn on_token(
    status: ky_status,
    token: *const c_char,
    len: usize,
    user: *mut c_void,
) {
    let own = if std::ptr::eq(user.cast_const().cast(), &DEFAULT_CLIENT) {
        false
    } else {
        assert!(
            std::ptr::eq(user.cast_const().cast(), &OWN_CLIENT),
            "userdata not passed back"
        );
        true
    };
    if status == Status::Ok {
        assert!(!token.is_null());
        // SAFETY: on success the token is NUL-terminated and valid during the callback.
        assert_eq!(unsafe { CStr::from_ptr(token) }.to_bytes().len(), len);
    } else {
        assert!(token.is_null() && len == 0, "failure with a token");
        let allowed = status == Status::Network
            || status == Status::Timeout
            || (own && status == Status::Cancelled);
        assert!(
            allowed,
            "callback got {}: {}",
            status_name(status.code()),
            last_message()
        );
        check_last_error(status);
    }
    COMPLETED.fetch_add(1, Ordering::SeqCst);
}

fn assert_callbacks_settled() {
    assert_eq!(
        COMPLETED.load(Ordering::SeqCst),
        SUBMITTED.load(Ordering::SeqCst),
        "a callback ran twice or was lost"
    );
}

fn wait_for_callbacks() {
    let deadline = Instant::now() + Duration::from_secs(10);
    while COMPLETED.load(Ordering::SeqCst) < SUBMITTED.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "async callback never ran");
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_callbacks_settled();
}

unsafe extern "C" fn on_log(level: ky_log_level, line: *const c_char, _user: *mut c_void) {
    assert!(
        Level::from_code(level.code()).is_some(),
        "log level {}",
        level.code()
    );
    assert!(!line.is_null());
    // SAFETY: a NUL-terminated line valid during the callback.
    let line = unsafe { CStr::from_ptr(line) }
        .to_str()
        .expect("log line is not UTF-8");
    assert!(!line.is_empty());
}

// ---- the operations ----------------------------------------------------------------------

/// One entry point on the default client or on an own one: `$global(args…)` when `client` is NULL
/// (the global functions), else `$own(client, args…)`. Unsafe as those functions are.
macro_rules! on_client {
    ($client:expr, $global:path | $own:path, $($arg:expr),* $(,)?) => {
        if $client.is_null() {
            $global($($arg),*)
        } else {
            $own($client, $($arg),*)
        }
    };
}

struct Run<'a, 'b> {
    input: Input<'a>,
    arenas: &'b mut Arenas,
    config: *mut ky_config,
}

impl Run<'_, '_> {
    fn id(&mut self) -> CArg {
        c_arg(&mut self.input, &mut self.arenas.id, ID_READ_LIMIT)
    }
    fn text(&mut self) -> CArg {
        c_arg(&mut self.input, &mut self.arenas.text, SETTING_READ_LIMIT)
    }
    /// Bytes with an exact length, ending at the guard page; or NULL with some length.
    fn bytes(&mut self, arena_is_token: bool) -> (*const u8, usize) {
        let null = self.input.byte() % 5 == 0;
        let piece = self.input.piece();
        if null {
            return (std::ptr::null(), piece.len());
        }
        let arena = if arena_is_token {
            &mut self.arenas.token
        } else {
            &mut self.arenas.text
        };
        (arena.place(piece), piece.len())
    }

    fn op(&mut self) {
        match self.input.byte() % 12 {
            0 => self.get(std::ptr::null()),
            1 => self.get_alloc(std::ptr::null()),
            2 => self.invalidate(std::ptr::null()),
            3 => self.invalidate_if(std::ptr::null()),
            4 => self.get_async(std::ptr::null()),
            5 => self.status_texts(),
            6 => self.new_config(),
            7 => self.setter(),
            8 => self.client(),
            9 => self.stats(std::ptr::null()),
            10 => self.log_callback(),
            _ => {
                assert_eq!(
                    static_text(ky_version()),
                    format!("{KY_VERSION_MAJOR}.{KY_VERSION_MINOR}.{KY_VERSION_PATCH}")
                );
            }
        }
    }

    /// `client` NULL means the default client (the global functions).
    fn get(&mut self, client: *const ky_client) {
        let id = self.id();
        let mut out = OutBuf::new(&mut self.input);
        let ptr = out.ptr();
        // SAFETY: id is NULL or readable up to its NUL / 33 bytes; out is NULL or has len bytes.
        let status = unsafe {
            on_client!(
                client,
                ky_get_access_token | ky_client_get_access_token,
                id.ptr,
                ptr,
                out.len
            )
        };
        let bad_args = !valid_id(&id) || (out.null && out.len > 0);
        let allowed = if bad_args {
            &[Status::InvalidArgument][..]
        } else {
            UNREACHABLE
        };
        let status = expect(status, allowed, "get");
        out.verify(status);
    }

    /// An id from the input, and what the entry point taking only an id answered for it.
    fn id_call<T>(
        &mut self,
        client: *const ky_client,
        global: unsafe extern "C" fn(*const c_char) -> T,
        own: unsafe extern "C" fn(*const ky_client, *const c_char) -> T,
    ) -> (CArg, T) {
        let id = self.id();
        // SAFETY: as in `get`.
        let answer = unsafe { on_client!(client, global | own, id.ptr) };
        (id, answer)
    }

    fn get_alloc(&mut self, client: *const ky_client) {
        let (id, token) = self.id_call(
            client,
            ky_get_access_token_alloc,
            ky_client_get_access_token_alloc,
        );
        assert!(token.is_null(), "a token from a closed port");
        let msg = last_message();
        assert!(!msg.is_empty());
        if !valid_id(&id) {
            assert!(msg.contains("program"), "invalid id, message {msg:?}");
        }
        // SAFETY: NULL is a no-op.
        unsafe { ky_string_free(token) };
    }

    fn invalidate(&mut self, client: *const ky_client) {
        let (id, status) = self.id_call(
            client,
            ky_invalidate_access_token,
            ky_client_invalidate_access_token,
        );
        expect(status, &[ok_if(valid_id(&id))], "invalidate");
    }

    fn invalidate_if(&mut self, client: *const ky_client) {
        let id = self.id();
        let (token, token_len) = self.bytes(true);
        let null_out = self.input.byte() % 4 == 0;
        let mut out = [0x5Au8; 1 + CANARY_LEN];
        let out_ptr = if null_out {
            std::ptr::null_mut()
        } else {
            out.as_mut_ptr().cast::<bool>()
        };
        // SAFETY: token is NULL or readable for token_len bytes; out_ptr NULL or one writable byte.
        let status = unsafe {
            on_client!(
                client,
                ky_invalidate_access_token_if | ky_client_invalidate_access_token_if,
                id.ptr,
                token.cast(),
                token_len,
                out_ptr
            )
        };
        let want = ok_if(valid_id(&id) && !token.is_null());
        let status = expect(status, &[want], "invalidate_if");
        assert!(out[1..].iter().all(|&b| b == 0x5A), "wrote past the bool");
        if !null_out {
            // Nothing is ever cached (no fetch can succeed), so nothing can be dropped.
            let want = if status == Status::Ok { 0 } else { 0x5A };
            assert_eq!(out[0], want, "out_invalidated");
        }
    }

    fn get_async(&mut self, client: *const ky_client) {
        let id = self.id();
        let with_callback = self.input.byte() % 8 != 0;
        let callback: ky_token_callback = if with_callback { Some(on_token) } else { None };
        let tag: *const u8 = if client.is_null() {
            &DEFAULT_CLIENT
        } else {
            &OWN_CLIENT
        };
        SUBMITTED.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the tag is static, so it outlives the callback.
        let status = unsafe {
            on_client!(
                client,
                ky_get_access_token_async | ky_client_get_access_token_async,
                id.ptr,
                callback,
                tag.cast_mut().cast()
            )
        };
        let want = ok_if(valid_id(&id) && with_callback);
        if expect(status, &[want], "async get") != Status::Ok {
            // Not queued: the callback must never run (an extra run shows up as a mismatch).
            SUBMITTED.fetch_sub(1, Ordering::SeqCst);
        }
        if client.is_null() {
            wait_for_callbacks();
        }
        // A client's callbacks are awaited by ky_client_free (checked in `client`).
    }

    fn status_texts(&mut self) {
        let status = self.input.le(4) as u32 as i32;
        let name = status_name(status);
        let description = static_text(ky_status_description(status));
        // Known: a number of the library's status enum (the one list of them).
        if let Some(known) = Status::from_code(status) {
            assert!(
                name.starts_with("KY_") && name != "KY_ERR_UNKNOWN",
                "{status}: {name}"
            );
            assert_ne!(description, "unknown status code");
            assert_eq!((name, description), (known.name(), known.description()));
        } else {
            assert_eq!(name, "KY_ERR_UNKNOWN");
            assert_eq!(description, "unknown status code");
        }
    }

    fn new_config(&mut self) {
        // SAFETY: NULL or the configuration this run made.
        unsafe { ky_config_free(self.config) };
        self.config = std::ptr::null_mut();
        let mut out: *mut ky_config = std::ptr::null_mut();
        let mode = self.input.byte() % 4;
        // SAFETY: `out` is writable, or NULL (which must be refused).
        let status = unsafe {
            match mode {
                0 => ky_config_new(&mut out),
                1 => ky_config_from_env(&mut out),
                2 => ky_config_new(std::ptr::null_mut()),
                _ => ky_config_from_env(std::ptr::null_mut()),
            }
        };
        expect(status, &[ok_if(mode < 2)], "config_new");
        assert_eq!(out.is_null(), mode >= 2);
        self.config = out;
    }

    fn setter(&mut self) {
        let target = if self.input.byte() % 8 == 0 {
            std::ptr::null_mut()
        } else {
            self.config
        };
        let which = self.input.byte() % 12;
        // Each setter's own documented rule; the rest of a configuration is always valid here,
        // so the answer depends on this value alone. None: any of OK / INVALID_ARGUMENT.
        let (status, rule): (ky_status, Option<bool>) = unsafe {
            // SAFETY (whole block): `target` is NULL or this run's live configuration; strings
            // and bytes are NULL or readable as c_arg / bytes promise.
            match which {
                0 => {
                    let url = self.text();
                    // NULL is refused; a URL's validity is the library's own parser.
                    (
                        ky_config_set_base_url(target, url.ptr),
                        url.seen.is_none().then_some(false),
                    )
                }
                1 => {
                    let ms = self.input.number();
                    (
                        ky_config_set_timeout_ms(target, ms),
                        Some((1..=600_000).contains(&ms)),
                    )
                }
                2 => {
                    let ms = self.input.number();
                    (
                        ky_config_set_connect_timeout_ms(target, ms),
                        Some((1..=600_000).contains(&ms)),
                    )
                }
                3 => {
                    let n = self.input.number() as u32;
                    (ky_config_set_max_retries(target, n), Some(n <= 10))
                }
                4 => (
                    ky_config_set_cache_ttl_ms(target, self.input.number()),
                    Some(true),
                ),
                5 => {
                    let path = self.text();
                    // NULL clears it; a path must name a regular file of at most 4 MiB.
                    let ok = path.seen.as_deref().is_none_or(|p| {
                        p.len() < SETTING_READ_LIMIT
                            && std::str::from_utf8(p).is_ok_and(|p| {
                                std::fs::metadata(p)
                                    .is_ok_and(|m| m.is_file() && m.len() <= 4 * 1024 * 1024)
                            })
                    });
                    (ky_config_set_ca_file(target, path.ptr), Some(ok))
                }
                6 => {
                    let (pem, len) = self.bytes(false);
                    (
                        ky_config_set_ca_pem(target, pem, len),
                        Some(!pem.is_null() || len == 0),
                    )
                }
                7 => {
                    let proxy = self.text();
                    let rule = match proxy.seen.as_deref() {
                        None | Some(b"" | b"none" | b"env") => Some(true),
                        // The scheme is case-insensitive (RFC 3986); whether the rest is a
                        // valid proxy URL is ureq's call.
                        Some(p)
                            if p.to_ascii_lowercase().starts_with(b"http://")
                                || p.to_ascii_lowercase().starts_with(b"https://") =>
                        {
                            None
                        }
                        Some(_) => Some(false),
                    };
                    (ky_config_set_proxy(target, proxy.ptr), rule)
                }
                8 => {
                    let suffix = self.text();
                    let ok = suffix.seen.as_deref().is_none_or(|s| {
                        s.len() <= 64 && s.iter().all(|b| (0x20..0x7f).contains(b))
                    });
                    (
                        ky_config_set_user_agent_suffix(target, suffix.ptr),
                        Some(ok),
                    )
                }
                9 => {
                    let fraction = f64::from_bits(self.input.le(8));
                    (
                        ky_config_set_refresh_ahead(target, fraction),
                        Some((0.0..=1.0).contains(&fraction)),
                    )
                }
                10 => {
                    let ms = self.input.number();
                    (
                        ky_config_set_stale_if_error_ms(target, ms),
                        Some(ms <= 300_000),
                    )
                }
                _ => {
                    let id = self.id();
                    let ok = valid_id(&id);
                    (ky_config_add_prefetch(target, id.ptr), Some(ok))
                }
            }
        };
        let allowed: &[Status] = match (target.is_null(), rule) {
            (true, _) => &[Status::InvalidArgument],
            (false, Some(true)) => &[Status::Ok],
            (false, Some(false)) => &[Status::InvalidArgument],
            (false, None) => &[Status::Ok, Status::InvalidArgument],
        };
        expect(status, allowed, &format!("setter {which}"));
    }

    /// Builds a client from this run's configuration, forced to the closed port, and uses it.
    fn client(&mut self) {
        let cfg = self.config;
        let mut client: *mut ky_client = std::ptr::null_mut();
        if cfg.is_null() || self.input.byte() % 8 == 0 {
            // SAFETY: NULL arguments must be refused without touching anything.
            unsafe {
                expect(
                    ky_client_new(cfg, std::ptr::null_mut()),
                    &[Status::InvalidArgument],
                    "client_new(out NULL)",
                );
                expect(
                    ky_client_new(std::ptr::null(), &mut client),
                    &[Status::InvalidArgument],
                    "client_new(NULL)",
                );
            }
            assert!(client.is_null());
            return self.null_client_calls();
        }
        // SAFETY: `cfg` is this run's live configuration; the strings are literals.
        unsafe {
            // Never a real network and never a fuzzed file: whatever the input set before.
            let url = std::ffi::CString::new(CLOSED_PORT_URL).unwrap();
            expect(
                ky_config_set_base_url(cfg, url.as_ptr()),
                &[Status::Ok],
                "force base url",
            );
            expect(
                ky_config_set_proxy(cfg, c"none".as_ptr()),
                &[Status::Ok],
                "force proxy",
            );
            expect(
                ky_config_set_ca_file(cfg, std::ptr::null()),
                &[Status::Ok],
                "force ca file",
            );
            expect(
                ky_config_set_timeout_ms(cfg, 50),
                &[Status::Ok],
                "force timeout",
            );
            expect(
                ky_config_set_max_retries(cfg, 0),
                &[Status::Ok],
                "force retries",
            );
            // An in-memory CA that is not PEM is refused here; anything else is a client.
            if expect(
                ky_client_new(cfg, &mut client),
                &[Status::Ok, Status::InvalidArgument],
                "client_new",
            ) != Status::Ok
            {
                assert!(client.is_null(), "*out written on failure");
                return;
            }
        }
        for _ in 0..self.input.byte() % 6 {
            match self.input.byte() % 6 {
                0 => self.get(client),
                1 => self.get_alloc(client),
                2 => self.invalidate(client),
                3 => self.invalidate_if(client),
                4 => self.get_async(client),
                _ => self.stats(client),
            }
        }
        // SAFETY: the client made above; no other call on it runs now.
        unsafe { ky_client_free(client) };
        // ky_client_free returns only when every callback of the client has run.
        assert_callbacks_settled();
    }

    fn null_client_calls(&mut self) {
        let id = self.id();
        let mut buf = [CANARY; 8];
        let mut stats = [CANARY; 256];
        // SAFETY: a NULL client must be refused before anything is read or written.
        unsafe {
            let null = std::ptr::null();
            expect(
                ky_client_get_access_token(null, id.ptr, buf.as_mut_ptr().cast(), 8),
                &[Status::InvalidArgument],
                "NULL client get",
            );
            assert!(ky_client_get_access_token_alloc(null, id.ptr).is_null());
            expect(
                ky_client_invalidate_access_token(null, id.ptr),
                &[Status::InvalidArgument],
                "NULL client invalidate",
            );
            expect(
                ky_client_invalidate_access_token_if(
                    null,
                    id.ptr,
                    c"x".as_ptr(),
                    1,
                    std::ptr::null_mut(),
                ),
                &[Status::InvalidArgument],
                "NULL client invalidate_if",
            );
            expect(
                ky_client_get_access_token_async(
                    null,
                    id.ptr,
                    Some(on_token),
                    std::ptr::null_mut(),
                ),
                &[Status::InvalidArgument],
                "NULL client async",
            );
            expect(
                ky_client_stats(null, stats.as_mut_ptr().cast(), stats.len()),
                &[Status::InvalidArgument],
                "NULL client stats",
            );
            ky_client_free(std::ptr::null_mut());
        }
        assert!(buf.iter().chain(&stats).all(|&b| b == CANARY));
        assert_callbacks_settled();
    }

    fn stats(&mut self, client: *const ky_client) {
        let null = self.input.byte() % 8 == 0;
        let size = usize::from(self.input.byte()) + usize::from(self.input.byte() % 2) * 256;
        let mut storage = vec![CANARY; size + CANARY_LEN];
        let out = if null {
            std::ptr::null_mut()
        } else {
            storage.as_mut_ptr().cast::<ky_stats>()
        };
        // SAFETY: `out` is NULL or writable for `size` bytes (unaligned is allowed: byte copy).
        let status = unsafe { on_client!(client, ky_get_stats | ky_client_stats, out, size) };
        let want = ok_if(!null && size >= 8);
        expect(status, &[want], "stats");
        let written = if want == Status::Ok {
            size.min(size_of::<ky_stats>())
        } else {
            0
        };
        assert!(
            storage[written..].iter().all(|&b| b == CANARY),
            "stats wrote past {written}"
        );
        if want == Status::Ok {
            assert_eq!(
                u32::from_le_bytes(storage[0..4].try_into().unwrap()),
                KY_STATS_VERSION
            );
            assert_eq!(
                u32::from_le_bytes(storage[4..8].try_into().unwrap()) as usize,
                written
            );
        }
    }

    fn log_callback(&mut self) {
        let level = self.input.le(4) as u32 as i32;
        let remove = self.input.byte() % 4 == 0;
        let callback: ky_log_callback = if remove { None } else { Some(on_log) };
        // SAFETY: a valid callback (or NULL) with unused userdata.
        let status = unsafe { ky_set_log_callback(callback, std::ptr::null_mut(), level) };
        let allowed: &[Status] = match (remove, Level::from_code(level).is_some()) {
            (_, true) => &[Status::Ok],
            (false, false) => &[Status::InvalidArgument],
            (true, false) => &[Status::Ok, Status::InvalidArgument],
        };
        expect(status, allowed, "set_log_callback");
    }
}
