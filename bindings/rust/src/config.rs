//! `Config`: the INI file's keys, set through the library's own `hc_config_set`.

use std::ffi::CString;
use std::mem::{size_of, MaybeUninit};
use std::os::raw::c_char;
use std::path::Path;

use crate::error::{cstr, Error, Result};
use crate::ffi;

/// `backing.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackingMode {
    /// `none`: cache only; misses are `None`, KERI calls are `NotSupported`.
    None,
    /// `rocksdb`: every write goes through to RocksDB before it returns.
    RocksDb,
}

/// `backing.durability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `sync`: fsync'd WAL before a write returns.
    Sync,
    /// `wal`: WAL written, not synced: survives a process crash.
    Wal,
    /// `none`: no WAL.
    None,
}

/// Options for [`crate::Cache::open`], starting from the library's defaults (write
/// through to RocksDB, whose `backing.path` you must set: the library never picks a
/// store location itself; the key goes to `<backing.path>.key`).
///
/// Every setter goes through `hc_config_set("section.key", value)`, so keys, units
/// ("64 MiB"), ranges and messages are exactly the INI file's (README, Configuration).
/// A setter that fails leaves the config unchanged and returns `Error::Config` with the
/// library's sentence.
#[derive(Clone)]
pub struct Config {
    pub(crate) raw: Box<ffi::hc_config>,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.values().fmt(f)
    }
}

fn text(a: &[c_char]) -> String {
    // Bounded by the array even if the library ever left it unterminated.
    let bytes: Vec<u8> = a.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn c_string(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::Config(format!("{}: the value holds a NUL byte", what)))
}

impl Config {
    /// The library's defaults (`hc_config_default`).
    pub fn new() -> Config {
        let mut raw: Box<MaybeUninit<ffi::hc_config>> = Box::new(MaybeUninit::zeroed());
        // SAFETY: a zeroed hc_config is a valid value; the library fills every field of
        // a struct of the size we pass, which is the whole mirror.
        let rc = unsafe {
            ffi::hc_config_default_sized(raw.as_mut_ptr(), size_of::<ffi::hc_config>())
        };
        assert_eq!(rc, 0, "hc_config_default_sized refused this crate's struct size");
        // SAFETY: initialised above (zeroed, then filled).
        let raw = unsafe { Box::from_raw(Box::into_raw(raw) as *mut ffi::hc_config) };
        Config { raw }
    }

    /// Sets one `section.key` to a value written as in the INI file
    /// (`"cache.memory_limit"`, `"1 GiB"`).
    pub fn set(mut self, key: &str, value: &str) -> Result<Config> {
        self.set_mut(key, value)?;
        Ok(self)
    }

    /// [`Config::set`] in place.
    pub fn set_mut(&mut self, key: &str, value: &str) -> Result<()> {
        let k = c_string(key, key)?;
        let v = c_string(key, value)?;
        let mut err = [0 as c_char; 512];
        // SAFETY: raw is a valid, initialised config of the size in its size field;
        // k, v and err outlive the call.
        let rc = unsafe {
            ffi::hc_config_set(&mut *self.raw, k.as_ptr(), v.as_ptr(), err.as_mut_ptr(), err.len())
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(Error::from_code(rc, cstr(err.as_ptr())))
        }
    }

    /// Reads an INI file over this config (`hc_config_load`); unchanged on error.
    pub fn load<P: AsRef<Path>>(mut self, path: P) -> Result<Config> {
        let p = path.as_ref().to_string_lossy().into_owned();
        let cp = c_string("path", &p)?;
        let mut err = [0 as c_char; 512];
        // SAFETY: as in set_mut.
        let rc = unsafe {
            ffi::hc_config_load(&mut *self.raw, cp.as_ptr(), err.as_mut_ptr(), err.len())
        };
        if rc == 0 {
            Ok(self)
        } else {
            Err(Error::from_code(rc, cstr(err.as_ptr())))
        }
    }

    /// `cache.memory_limit`, in bytes (use `set` for units: "1 GiB").
    pub fn memory_limit_bytes(self, bytes: u64) -> Result<Config> {
        self.set("cache.memory_limit", &bytes.to_string())
    }
    /// `cache.shards`: 0 (auto) or a power of two up to 1024.
    pub fn shards(self, n: u32) -> Result<Config> {
        self.set("cache.shards", &n.to_string())
    }
    /// `cache.max_entry`, in bytes.
    pub fn max_entry_bytes(self, bytes: u64) -> Result<Config> {
        self.set("cache.max_entry", &bytes.to_string())
    }
    /// `cache.expected_entries`.
    pub fn expected_entries(self, n: u64) -> Result<Config> {
        self.set("cache.expected_entries", &n.to_string())
    }
    /// `backing.mode`.
    pub fn backing_mode(self, mode: BackingMode) -> Result<Config> {
        let v = match mode {
            BackingMode::None => "none",
            BackingMode::RocksDb => "rocksdb",
        };
        self.set("backing.mode", v)
    }
    /// `backing.path`: the RocksDB directory.
    pub fn backing_path<P: AsRef<Path>>(self, path: P) -> Result<Config> {
        let p = path.as_ref().to_string_lossy().into_owned();
        self.set("backing.path", &p)
    }
    /// `backing.durability`.
    pub fn durability(self, d: Durability) -> Result<Config> {
        let v = match d {
            Durability::Sync => "sync",
            Durability::Wal => "wal",
            Durability::None => "none",
        };
        self.set("backing.durability", v)
    }
    /// `backing.block_cache`, in bytes.
    pub fn block_cache_bytes(self, bytes: u64) -> Result<Config> {
        self.set("backing.block_cache", &bytes.to_string())
    }
    /// `backing.write_buffer`, in bytes.
    pub fn write_buffer_bytes(self, bytes: u64) -> Result<Config> {
        self.set("backing.write_buffer", &bytes.to_string())
    }
    /// `backing.create`: create the store (and a new key file) when absent.
    pub fn create(self, yes: bool) -> Result<Config> {
        self.set("backing.create", if yes { "true" } else { "false" })
    }
    /// `crypto.key_file`: the 32-byte data key (default `<backing.path>.key`).
    pub fn key_file<P: AsRef<Path>>(self, path: P) -> Result<Config> {
        let p = path.as_ref().to_string_lossy().into_owned();
        self.set("crypto.key_file", &p)
    }

    /// What the library holds now, read back from the struct it filled.
    pub fn values(&self) -> Values {
        let r = &*self.raw;
        Values {
            memory_limit: r.memory_limit,
            shards: r.shards,
            max_entry: r.max_entry,
            expected_entries: r.expected_entries,
            backing_mode: if r.backing_mode == 1 { BackingMode::RocksDb } else { BackingMode::None },
            backing_path: text(&r.backing_path),
            durability: match r.durability {
                0 => Durability::Sync,
                1 => Durability::Wal,
                _ => Durability::None,
            },
            block_cache: r.block_cache,
            write_buffer: r.write_buffer,
            create: r.create_if_missing != 0,
            key_file: text(&r.key_file),
        }
    }
}

/// A config's values, named as the INI keys (sizes in bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values {
    /// `cache.memory_limit`
    pub memory_limit: u64,
    /// `cache.shards` (0: auto)
    pub shards: u32,
    /// `cache.max_entry`
    pub max_entry: u64,
    /// `cache.expected_entries`
    pub expected_entries: u64,
    /// `backing.mode`
    pub backing_mode: BackingMode,
    /// `backing.path`
    pub backing_path: String,
    /// `backing.durability`
    pub durability: Durability,
    /// `backing.block_cache`
    pub block_cache: u64,
    /// `backing.write_buffer`
    pub write_buffer: u64,
    /// `backing.create`
    pub create: bool,
    /// `crypto.key_file` ("" means `<backing.path>.key`)
    pub key_file: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each key lands in its own field at its own offset: a mirror with a field out of
    // place reads another key's value here.
    #[test]
    fn every_key_round_trips_through_the_library_into_its_field() {
        let c = Config::new()
            .set("cache.memory_limit", "3 MiB").unwrap()
            .shards(4).unwrap()
            .max_entry_bytes(4096).unwrap()
            .expected_entries(777).unwrap()
            .backing_mode(BackingMode::None).unwrap()
            .backing_path("/tmp/some/where").unwrap()
            .durability(Durability::Wal).unwrap()
            .block_cache_bytes(5 << 20).unwrap()
            .write_buffer_bytes(6 << 20).unwrap()
            .create(false).unwrap()
            .key_file("/tmp/k.key").unwrap();
        assert_eq!(c.raw.size as usize, size_of::<ffi::hc_config>());
        let v = c.values();
        assert_eq!(v, Values {
            memory_limit: 3 << 20,
            shards: 4,
            max_entry: 4096,
            expected_entries: 777,
            backing_mode: BackingMode::None,
            backing_path: "/tmp/some/where".into(),
            durability: Durability::Wal,
            block_cache: 5 << 20,
            write_buffer: 6 << 20,
            create: false,
            key_file: "/tmp/k.key".into(),
        });
    }

    #[test]
    fn defaults_are_the_libraries() {
        let v = Config::new().values();
        assert_eq!(v.memory_limit, 256 << 20);
        assert_eq!(v.max_entry, 1 << 20);
        assert_eq!(v.backing_mode, BackingMode::RocksDb);
        assert_eq!(v.backing_path, ""); // no default store: hc_open asks for one
        assert_eq!(v.durability, Durability::Sync);
        assert!(v.create);
    }

    #[test]
    fn a_bad_value_is_a_config_error_with_the_range_and_leaves_the_config_unchanged() {
        let mut c = Config::new();
        let e = c.set_mut("cache.shards", "3").unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{:?}", e);
        assert!(e.detail().contains("cache.shards"), "{}", e);
        assert_eq!(c.values().shards, 0);
        let e = c.set_mut("cache.memory_limit", "64 MB").unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{:?}", e);
        assert_eq!(c.values().memory_limit, 256 << 20);
        let e = c.set_mut("cache.no_such_key", "1").unwrap_err();
        assert!(e.detail().contains("no_such_key"), "{}", e);
    }

    #[test]
    fn load_reads_an_ini_file_and_reports_file_and_line() {
        let dir = std::env::temp_dir().join(format!("hotcache-rs-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.ini");
        std::fs::write(&good, "[cache]\nmemory_limit = 2 MiB\n[backing]\nmode = none\n").unwrap();
        let v = Config::new().load(&good).unwrap().values();
        assert_eq!(v.memory_limit, 2 << 20);
        assert_eq!(v.backing_mode, BackingMode::None);
        let bad = dir.join("bad.ini");
        std::fs::write(&bad, "[cache]\nmemory_limit = lots\n").unwrap();
        let e = Config::new().load(&bad).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(e, Error::Config(_)), "{:?}", e);
        assert!(e.detail().contains("bad.ini:2"), "{}", e);
    }
}
