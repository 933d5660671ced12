//! Input buffers that end exactly where an inaccessible page begins, so a read even one byte past
//! the length the library was promised faults at once, without needing a sanitizer (the fuzz
//! targets are built with `-s none` on stable). Unix: libc's `mmap` and `mprotect`.

use libc::{_SC_PAGESIZE, MAP_ANONYMOUS, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE};
use libc::{mmap, mprotect, sysconf};

/// A mapping of `capacity` usable bytes followed by one PROT_NONE page. Never unmapped: each
/// thread keeps a few for the life of the process.
pub struct Guarded {
    base: *mut u8,
    capacity: usize,
}

impl Guarded {
    /// At least `min_capacity` usable bytes.
    pub fn new(min_capacity: usize) -> Guarded {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { sysconf(_SC_PAGESIZE) }).expect("page size");
        let capacity = min_capacity.div_ceil(page).max(1) * page;
        // SAFETY: a fresh anonymous private mapping; the result is checked.
        let base = unsafe {
            mmap(
                std::ptr::null_mut(),
                capacity + page,
                PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert!(base != libc::MAP_FAILED, "mmap failed");
        let base = base.cast::<u8>();
        // SAFETY: the last page lies inside the mapping just made.
        let rc = unsafe { mprotect(base.add(capacity).cast(), page, PROT_NONE) };
        assert_eq!(rc, 0, "mprotect failed");
        Guarded { base, capacity }
    }

    /// Copies `bytes` so that its last byte is the last readable one, and returns its start.
    pub fn place(&mut self, bytes: &[u8]) -> *const u8 {
        assert!(
            bytes.len() <= self.capacity,
            "{} bytes do not fit",
            bytes.len()
        );
        // SAFETY: `capacity - len .. capacity` lies inside the writable part of the mapping.
        unsafe {
            let start = self.base.add(self.capacity - bytes.len());
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), start, bytes.len());
            start
        }
    }
}
