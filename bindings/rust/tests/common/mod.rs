//! A scratch directory (std only) and a RocksDB-backed cache inside it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use hotcache::{Cache, Config, Durability};

/// A directory under the system temp dir, unique per process and call, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "hotcache-rs-{}-{}-{}-{}",
            name,
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            nanos
        ));
        std::fs::create_dir(&p).expect("create the scratch directory");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A cache over the store <dir>/db (key in <dir>/db.key), `wal` durability so the
/// tests do not wait on fsync, 64 KiB entries.
pub fn open_rocks(dir: &TempDir, memory_limit: &str) -> Cache {
    let cfg = Config::new()
        .set("cache.memory_limit", memory_limit)
        .unwrap()
        .max_entry_bytes(64 << 10)
        .unwrap()
        .backing_path(dir.path().join("db"))
        .unwrap()
        .durability(Durability::Wal)
        .unwrap();
    Cache::open(&cfg).expect("open a RocksDB-backed cache")
}
