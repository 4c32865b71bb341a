//! SQLite's allocations through mimalloc, the allocator of the rest of the process.
//!
//! SQLite calls the system `malloc` for its page cache, statements and every value sqlx copies
//! out of a row. With one worker thread per pooled connection, glibc's allocator showed up at
//! ~10 % of the feed benchmark's CPU (`malloc_consolidate`, arena locks); mimalloc's
//! thread-local heaps do the same work at a fraction of that. SQLite supports this through
//! `sqlite3_config(SQLITE_CONFIG_MALLOC, …)`, which must run before SQLite initializes, that
//! is before the first connection opens: [`install`] runs once, from [`crate::db::connect`].

use std::{
    ffi::{c_int, c_void},
    sync::Once,
};

use libsqlite3_sys as ffi;

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    // SQLite never asks for a negative size; treat one as a failed allocation.
    match usize::try_from(n) {
        // SAFETY: mimalloc's malloc accepts any size and returns null on failure.
        Ok(n) => unsafe { libmimalloc_sys::mi_malloc(n) },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    // SAFETY: `p` came from x_malloc / x_realloc (or is null, which mi_free accepts).
    unsafe { libmimalloc_sys::mi_free(p) }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    match usize::try_from(n) {
        // SAFETY: `p` came from this allocator; SQLite keeps its old value on a null answer.
        Ok(n) => unsafe { libmimalloc_sys::mi_realloc(p, n) },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    // SAFETY: `p` is a live allocation of this allocator (SQLite's contract for xSize).
    let size = unsafe { libmimalloc_sys::mi_usable_size(p) };
    c_int::try_from(size).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    // SQLite's own default: a multiple of 8.
    n.saturating_add(7) & !7
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Point SQLite at mimalloc, once per process. If SQLite was already initialized (something
/// opened a connection another way first), it keeps the system allocator — slower, not wrong.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: SQLITE_CONFIG_MALLOC takes a pointer to a sqlite3_mem_methods, which SQLite
        // copies before returning; the functions above honour its contract (8-byte aligned
        // blocks — mimalloc aligns to 16 —, null on failure, xSize ≥ the requested size).
        // The Once keeps two threads from configuring at the same time.
        let rc = unsafe {
            ffi::sqlite3_config(
                ffi::SQLITE_CONFIG_MALLOC,
                &methods as *const ffi::sqlite3_mem_methods,
            )
        };
        if rc != ffi::SQLITE_OK {
            tracing::debug!(rc, "SQLite was already initialized; it keeps its allocator");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_allocates_through_mimalloc() {
        install();
        // SAFETY: plain use of SQLite's public allocation API.
        unsafe {
            let p = ffi::sqlite3_malloc(100);
            assert!(!p.is_null());
            assert!(ffi::sqlite3_msize(p) >= 100);
            // The block is mimalloc's (a glibc block would not be in its heap).
            assert!(libmimalloc_sys::mi_is_in_heap_region(p));
            let p = ffi::sqlite3_realloc(p, 10_000);
            assert!(!p.is_null());
            assert!(ffi::sqlite3_msize(p) >= 10_000);
            ffi::sqlite3_free(p);
        }
    }
}
