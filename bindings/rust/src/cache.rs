//! `Cache`: the open handle, payload reads and writes, and statistics.

use std::any::Any;
use std::mem::{size_of, ManuallyDrop, MaybeUninit};
use std::os::raw::{c_int, c_void};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::slice;

use crate::config::Config;
use crate::error::{check, Error, Result};
use crate::ffi;

/// An open cache. `Send + Sync`: share it as `Arc<Cache>` between threads; every method
/// takes `&self` and may run concurrently with every other. Dropping it calls
/// `hc_close` (flushes and frees), which `&mut`/ownership makes the last call.
pub struct Cache {
    pub(crate) raw: NonNull<ffi::hc_cache>,
}

// SAFETY: hotcache.h: "any thread may call any function at the same time as any other,
// except hc_close()". Every method but Drop takes &self; Drop has the value exclusively.
// Threads register with the library on first use and are released at thread exit.
unsafe impl Send for Cache {}
unsafe impl Sync for Cache {}

impl Drop for Cache {
    fn drop(&mut self) {
        // SAFETY: the handle came from hc_open and nothing else can use it now.
        unsafe { ffi::hc_close(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cache({:p})", self.raw.as_ptr())
    }
}

/// Counters summed over every thread (`struct hc_stats`, mirrored `#[repr(C)]`): a
/// snapshot, not an atomic cut.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes of this struct the library filled (all of it, from 0.2.0 on).
    pub size: u32,
    /// `get`/`read` served from memory
    pub hits: u64,
    /// not in memory
    pub misses: u64,
    /// entries installed
    pub inserts: u64,
    /// entries evicted by the policy
    pub evictions: u64,
    /// entries removed by `delete` or replaced
    pub deletes: u64,
    /// values stored but not cached (oversize, pressure)
    pub not_cached: u64,
    /// misses loaded from the backing store
    pub loads: u64,
    /// misses that waited for another thread's load
    pub load_waits: u64,
    /// records at rest that failed to open
    pub corrupt: u64,
    /// entries in memory now
    pub entries: u64,
    /// entry bytes + metadata + retired bytes
    pub accounted_bytes: u64,
    /// removed but awaiting reclamation
    pub retired_bytes: u64,
    /// index tables and shard structures
    pub metadata_bytes: u64,
    /// `cache.memory_limit`
    pub memory_limit: u64,
    /// documented bound on accounted - limit
    pub slack_bytes: u64,
    /// number of shards
    pub shards: u32,
    /// RocksDB checksum failures (returned as `Error::Io`); `corrupt` counts sealing
    /// failures
    pub store_corrupt: u64,
    /// RocksDB's estimates of the records stored, per family (0 without a store)
    pub store_payload_records: u64,
    pub store_kel_records: u64,
    pub store_keystate_records: u64,
    /// the store's SST files, every family
    pub store_sst_bytes: u64,
    /// loads that found no value in the store
    pub load_not_found: u64,
    /// loads that failed (I/O, corrupt record, out of memory)
    pub load_failures: u64,
    /// time spent in loads, summed over threads (ns)
    pub load_nanos: u64,
    /// key-state reads served from memory, loaded, held now, evicted
    pub keystate_hits: u64,
    pub keystate_misses: u64,
    pub keystate_entries: u64,
    pub keystate_evictions: u64,
    /// reclamation polls given up because membarrier failed
    pub reclaim_failures: u64,
    /// KERI escrow: entries put in, promoted, expired, evicted for room; bytes and
    /// entries held now
    pub escrowed: u64,
    pub promoted: u64,
    pub expired: u64,
    pub escrow_evicted: u64,
    pub escrow_bytes: u64,
    pub escrow_entries: u64,
    /// writers' costs since open: reclamation polls that ran the process-wide barrier
    /// (membarrier), writes that waited for reclamation and the time they waited (ns),
    /// shard mutex acquisitions by writers and loaders, the time spent waiting for them
    /// and holding them (ns, summed over threads)
    pub reclaim_barriers: u64,
    pub write_waits: u64,
    pub write_wait_nanos: u64,
    pub shard_locks: u64,
    pub shard_lock_wait_nanos: u64,
    pub shard_lock_hold_nanos: u64,
    /// read sections: 1 while they take a fence (chosen as the cache runs, or
    /// `HC_NO_MEMBARRIER`), 0 while they go without; the switches since open
    pub reclaim_fenced: u64,
    pub reclaim_mode_switches: u64,
}

/// One shard's figures (`struct hc_shard_stats`, mirrored `#[repr(C)]`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Bytes of this struct the library filled.
    pub size: u32,
    pub hits: u64,
    pub misses: u64,
    pub inserts: u64,
    pub evictions: u64,
    pub entries: u64,
    /// entry bytes accounted to the shard
    pub bytes: u64,
    /// the shard's share of the limit
    pub budget: u64,
    /// entries in the probation queue
    pub small_entries: u64,
    /// entries in the protected queue
    pub main_entries: u64,
}

/// The closure of a `read` and what came of it, behind the C callback's `arg`. Plain
/// fields rather than Options, so that a hit costs no more than a C callback would.
struct ReadCall<F, R> {
    f: ManuallyDrop<F>,
    called: bool,
    out: MaybeUninit<R>,
    panic: Option<Box<dyn Any + Send + 'static>>,
}

// Runs the closure on the library's pointer. A panic must not unwind into C: it is
// caught here and resumed once hc_read has returned.
unsafe extern "C" fn read_trampoline<F, R>(val: *const c_void, vlen: usize, arg: *mut c_void)
where
    F: FnOnce(&[u8]) -> R,
{
    let call = &mut *(arg as *mut ReadCall<F, R>);
    if call.called {
        return; // hc_read calls back once; never run f twice
    }
    call.called = true;
    // SAFETY: `called` was false, so f is still there; it is taken exactly once.
    let f = ManuallyDrop::take(&mut call.f);
    let bytes: &[u8] =
        if vlen == 0 || val.is_null() { &[] } else { slice::from_raw_parts(val as *const u8, vlen) };
    match catch_unwind(AssertUnwindSafe(move || f(bytes))) {
        Ok(r) => {
            call.out.write(r);
        }
        Err(p) => call.panic = Some(p),
    }
}

/// The closure of a `read_batch` and the first panic it raised.
struct BatchCall<F> {
    f: F,
    panic: Option<Box<dyn Any + Send + 'static>>,
}

unsafe extern "C" fn batch_trampoline<F>(
    i: usize,
    status: c_int,
    val: *const c_void,
    vlen: usize,
    arg: *mut c_void,
) where
    F: FnMut(usize, Result<Option<&[u8]>>),
{
    let call = &mut *(arg as *mut BatchCall<F>);
    if call.panic.is_some() {
        return; // the closure panicked on an earlier key: do not call it again
    }
    let r = match status {
        0 => Ok(Some(if vlen == 0 || val.is_null() {
            &[][..]
        } else {
            slice::from_raw_parts(val as *const u8, vlen)
        })),
        ffi::HC_ENOTFOUND => Ok(None),
        code => Err(Error::last(code)),
    };
    let f = &mut call.f;
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(i, r))) {
        call.panic = Some(p);
    }
}

// hc_read returned 0 without calling back: a library bug, kept off the hot path.
#[cold]
#[inline(never)]
fn no_callback() -> Error {
    Error::Other { code: 0, detail: "hc_read: returned 0 without calling back".into() }
}

impl Cache {
    /// Opens a cache (`hc_open`). With `backing.mode = rocksdb` this opens or creates
    /// the store at `backing.path` and its key file.
    pub fn open(config: &Config) -> Result<Cache> {
        let mut raw: *mut ffi::hc_cache = std::ptr::null_mut();
        // SAFETY: config.raw is a filled hc_config; raw receives the handle.
        let rc = unsafe { ffi::hc_open(&*config.raw, &mut raw) };
        check(rc)?;
        NonNull::new(raw)
            .map(|raw| Cache { raw })
            .ok_or_else(|| Error::Other { code: 0, detail: "hc_open: no handle".into() })
    }

    #[inline]
    fn p(&self) -> *mut ffi::hc_cache {
        self.raw.as_ptr()
    }

    /// Zero-copy read: runs `f` on the value while the library holds it (no copy), and
    /// returns what `f` returns; `None` when the key has no value. The slice cannot
    /// escape the closure. A miss loads from the store (this call may block on I/O).
    /// `f` should be short: it runs inside the cache's read section, and a reader that
    /// stalls there holds back memory reclamation. A panic in `f` is resumed here,
    /// after the library has returned.
    #[inline]
    pub fn read<F, R>(&self, key: &[u8], f: F) -> Result<Option<R>>
    where
        F: FnOnce(&[u8]) -> R,
    {
        let mut call = ReadCall::<F, R> {
            f: ManuallyDrop::new(f),
            called: false,
            out: MaybeUninit::uninit(),
            panic: None,
        };
        // SAFETY: key outlives the call; the trampoline's arg is `call`, of the type it
        // was instantiated with, alive until hc_read returns.
        let rc = unsafe {
            ffi::hc_read(
                self.p(),
                key.as_ptr() as *const c_void,
                key.len(),
                read_trampoline::<F, R>,
                &mut call as *mut ReadCall<F, R> as *mut c_void,
            )
        };
        if !call.called {
            // SAFETY: the closure was never taken: drop it here, once.
            unsafe { ManuallyDrop::drop(&mut call.f) };
        } else if let Some(p) = call.panic.take() {
            resume_unwind(p);
        }
        if rc == 0 && call.called {
            // SAFETY: called without a panic: the trampoline wrote `out`.
            return Ok(Some(unsafe { call.out.assume_init() }));
        }
        // Read the error's sentence before any user code (R's drop) can call hotcache.
        let r = match rc {
            0 => Err(no_callback()),
            ffi::HC_ENOTFOUND => Ok(None),
            code => Err(Error::last(code)),
        };
        if call.called {
            // SAFETY: as above; a value computed before an error is dropped, once.
            drop(unsafe { call.out.assume_init() });
        }
        r
    }

    /// A copy of the value, or `None`.
    #[inline]
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.read(key, |v| v.to_vec())
    }

    /// Copies the value into `buf` (cleared first, grown only when too small) and returns
    /// true, or false when there is no value: `get` without an allocation per hit.
    #[inline]
    pub fn get_into(&self, key: &[u8], buf: &mut Vec<u8>) -> Result<bool> {
        buf.clear();
        Ok(self.read(key, |v| buf.extend_from_slice(v))?.is_some())
    }

    /// Reads many keys in one call (`hc_read_batch`: hashes and prefetches every key
    /// first, 2-4x faster than one `read` each when the working set exceeds the CPU
    /// caches). `f(i, outcome)` runs once per key `keys[i]`, not necessarily in order
    /// (hits first, misses after their loads): `Ok(Some(value))` (valid only
    /// during the call), `Ok(None)` for no value, or the key's error. A panic in `f` is
    /// resumed after the call (`f` is not called again once it has panicked).
    pub fn read_batch<K, F>(&self, keys: &[K], f: F) -> Result<()>
    where
        K: AsRef<[u8]>,
        F: FnMut(usize, Result<Option<&[u8]>>),
    {
        let ptrs: Vec<*const c_void> = keys.iter().map(|k| k.as_ref().as_ptr() as *const c_void).collect();
        let lens: Vec<usize> = keys.iter().map(|k| k.as_ref().len()).collect();
        let mut call = BatchCall { f, panic: None };
        // SAFETY: ptrs/lens describe keys, which outlive the call; arg is `call`.
        let rc = unsafe {
            ffi::hc_read_batch(
                self.p(),
                keys.len(),
                ptrs.as_ptr(),
                lens.as_ptr(),
                batch_trampoline::<F>,
                &mut call as *mut BatchCall<F> as *mut c_void,
            )
        };
        let r = check(rc);
        if let Some(p) = call.panic {
            resume_unwind(p);
        }
        r
    }

    /// Stores `value` under `key` (`hc_put`); with a store, returns once durable.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        // SAFETY: both slices outlive the call.
        check(unsafe {
            ffi::hc_put(
                self.p(),
                key.as_ptr() as *const c_void,
                key.len(),
                value.as_ptr() as *const c_void,
                value.len(),
            )
        })
    }

    /// Deletes `key` durably, then from memory (`hc_delete`). Ok if it was absent.
    pub fn delete(&self, key: &[u8]) -> Result<()> {
        // SAFETY: key outlives the call.
        check(unsafe { ffi::hc_delete(self.p(), key.as_ptr() as *const c_void, key.len()) })
    }

    /// The counters summed over every thread (`hc_stats`).
    pub fn stats(&self) -> Result<Stats> {
        let mut s = Stats::default();
        // SAFETY: s is a whole hc_stats of the size passed.
        check(unsafe { ffi::hc_stats_sized(self.p(), &mut s, size_of::<Stats>()) })?;
        Ok(s)
    }

    /// One shard's figures; `Error::Invalid` when `shard >= stats().shards`.
    pub fn shard_stats(&self, shard: u32) -> Result<ShardStats> {
        let mut s = ShardStats::default();
        // SAFETY: s is a whole hc_shard_stats of the size passed.
        check(unsafe {
            ffi::hc_shard_stats_sized(self.p(), shard, &mut s, size_of::<ShardStats>())
        })?;
        Ok(s)
    }

    /// Releases the calling thread's registration now rather than at thread exit
    /// (`hc_thread_detach`): for a pooled thread that will not touch this cache again.
    pub fn detach_thread(&self) {
        // SAFETY: the handle is open.
        unsafe { ffi::hc_thread_detach(self.p()) }
    }

    /// The raw handle, for calls this crate does not wrap. It stays valid while `self`
    /// lives; never pass it to `hc_close`.
    #[inline]
    pub fn as_raw(&self) -> *mut ffi::hc_cache {
        self.p()
    }

}
