//! Safe Rust bindings to hotcache, the in-process cache of decrypted payloads and
//! derived KERI key state, written through to RocksDB (`include/hotcache.h`).
//!
//! No dependencies: the crate declares the C API by hand and links `libhotcache.so`,
//! found by `build.rs` through `HOTCACHE_LIB_DIR` (a directory holding the library, e.g.
//! a CMake build tree) or the `pkg-config` program.
//!
//! ```
//! use hotcache::{Cache, Config};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let dir = std::env::temp_dir().join(format!("hotcache-readme-{}", std::process::id()));
//!     std::fs::create_dir_all(&dir)?; // hc_open creates the store, not its parent
//!     let config = Config::new()
//!         .set("cache.memory_limit", "64 MiB")? // the INI file's keys and units
//!         .backing_path(dir.join("db"))?; // the data key goes to <backing.path>.key
//!     let cache = Cache::open(&config)?;
//!
//!     cache.put(b"key", b"value")?; // returns once durable
//!     assert_eq!(cache.get(b"key")?, Some(b"value".to_vec()));
//!     let len = cache.read(b"key", |v| v.len())?; // zero copy: v lives in the closure
//!     assert_eq!(len, Some(5));
//!     assert_eq!(cache.get(b"absent")?, None); // no value is None, not an error
//!
//!     match Config::new().set("cache.shards", "3") {
//!         Err(e) => eprintln!("{}", e), // the library's sentence and the code's name
//!         Ok(_) => unreachable!("3 shards is not a power of two"),
//!     }
//!     drop(cache); // hc_close: flushes the store
//!     std::fs::remove_dir_all(&dir)?;
//!     Ok(())
//! }
//! ```
//!
//! # Threads
//!
//! [`Cache`] is `Send + Sync`: share an `Arc<Cache>`. The C library registers each
//! thread on its first call and releases it when the thread exits, so nothing is needed
//! from plain `std::thread`s; a pooled thread that is done with a cache may call
//! [`Cache::detach_thread`] to release its record early.
//!
//! # Async executors
//!
//! Every call is synchronous and some block: a miss loads from RocksDB (disk I/O, and
//! concurrent misses on one key wait for the first one's load), `put`, `delete` and
//! KEL appends return only once durable (an `fsync` with `backing.durability = sync`),
//! and `open`/drop open and flush the store. Run those through
//! `tokio::task::spawn_blocking` (or your executor's equivalent) with the cache in an
//! `Arc`. A hit is a few tens of nanoseconds and never blocks, so a read of keys known to
//! be hot is fine on an async worker. Worker threads that move between tasks need
//! nothing special: registration is per OS thread, not per task. Keep `read` and
//! `read_batch` closures short and never block or wait inside them: they
//! run inside the cache's read section, and a reader stalled there holds back memory
//! reclamation (writers then wait 2 ms to 10 ms, and installs into that shard are refused).
//! Dropping a `Cache` (hc_close) flushes the store: do it off the async workers too.
//!
//! # Errors
//!
//! Every fallible call returns [`Result`]; [`Error`] has one variant per `HC_E*` family,
//! KERI rejections carry their `HC_EKERI_*` code, and every variant holds the library's
//! sentence (`hc_last_error()`, read on the calling thread right after the failing
//! call). No value for a key is `Ok(None)`, never an error.
//!
//! # ABI
//!
//! The public structs are mirrored as in hotcache.h 0.2.0 and passed to the `*_sized`
//! entry points with their Rust size, so a newer libhotcache.so.1 that has appended
//! fields keeps working with this crate unchanged.

mod cache;
mod config;
mod error;
pub mod ffi;
mod kel;

pub use cache::{Cache, ShardStats, Stats};
pub use config::{BackingMode, Config, Durability, Values};
pub use error::{Error, Result};
pub use kel::{Duplicity, KelEvent, KelReport, KeyState, Outcome, Receipt, ReceiptKind, Repair};

/// The library's version, (major, minor, patch) (`hc_version`): the loaded
/// libhotcache.so's, which may be newer than the header this crate mirrors.
pub fn version() -> (i32, i32, i32) {
    let (mut a, mut b, mut c) = (0, 0, 0);
    // SAFETY: three valid out-pointers.
    unsafe { ffi::hc_version(&mut a, &mut b, &mut c) };
    (a, b, c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cache_is_send_and_sync() {
        fn is<T: Send + Sync>() {}
        is::<crate::Cache>();
    }

    #[test]
    fn the_library_is_0_x_from_0_2_on() {
        let (major, minor, _) = crate::version();
        assert_eq!(major, 0);
        assert!(minor >= 2, "libhotcache.so is older than the 0.2 ABI: 0.{}", minor);
    }
}
