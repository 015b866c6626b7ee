//! Payload calls against a RocksDB-backed cache: values, misses, errors with the
//! library's sentence, zero-copy reads, batches, panics in closures, statistics.
mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{open_rocks, TempDir};
use hotcache::{BackingMode, Cache, Config, Error};

#[test]
fn put_get_read_delete_round_trip() {
    let dir = TempDir::new("api");
    let c = open_rocks(&dir, "8 MiB");
    assert_eq!(c.get(b"k1").unwrap(), None);
    c.put(b"k1", b"first").unwrap();
    assert_eq!(c.get(b"k1").unwrap().as_deref(), Some(&b"first"[..]));
    c.put(b"k1", b"second, longer").unwrap();
    assert_eq!(c.read(b"k1", |v| String::from_utf8(v.to_vec()).unwrap()).unwrap(),
               Some("second, longer".to_string()));
    let mut buf = b"stale bytes".to_vec();
    assert!(c.get_into(b"k1", &mut buf).unwrap());
    assert_eq!(buf, b"second, longer");
    assert!(!c.get_into(b"nothing", &mut buf).unwrap());
    assert!(buf.is_empty());
    c.put(b"empty", b"").unwrap();
    assert_eq!(c.get(b"empty").unwrap(), Some(Vec::new()));
    c.delete(b"k1").unwrap();
    assert_eq!(c.get(b"k1").unwrap(), None);
    c.delete(b"never-there").unwrap();
    // A value over max_entry is stored, not cached, and still reads back whole.
    let big = vec![0xabu8; 100 << 10];
    c.put(b"big", &big).unwrap();
    assert_eq!(c.get(b"big").unwrap().unwrap(), big);
}

#[test]
fn values_survive_a_reopen() {
    let dir = TempDir::new("reopen");
    {
        let c = open_rocks(&dir, "4 MiB");
        for i in 0..100u32 {
            c.put(format!("key{}", i).as_bytes(), &i.to_le_bytes()).unwrap();
        }
    }
    let c = open_rocks(&dir, "4 MiB");
    for i in 0..100u32 {
        assert_eq!(c.get(format!("key{}", i).as_bytes()).unwrap().unwrap(), i.to_le_bytes());
    }
    let s = c.stats().unwrap();
    assert_eq!(s.loads, 100, "{:?}", s);
}

#[test]
fn bad_keys_are_invalid_with_the_sentence_of_this_thread() {
    let dir = TempDir::new("badkey");
    let c = open_rocks(&dir, "4 MiB");
    let e = c.put(b"", b"v").unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{:?}", e);
    assert!(!e.detail().is_empty(), "no detail captured: {:?}", e);
    let long = vec![b'x'; 1025];
    let e = c.get(&long).unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{:?}", e);
    assert!(e.to_string().contains("HC_EINVAL"), "{}", e);
    // 1024 bytes is the largest key, and fine.
    c.put(&long[..1024], b"v").unwrap();
}

#[test]
fn read_returns_what_the_closure_returns_and_resumes_its_panic() {
    let dir = TempDir::new("panic");
    let c = open_rocks(&dir, "4 MiB");
    c.put(b"p", b"payload").unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = c.read(b"p", |_| -> usize { panic!("inside the closure") });
    }));
    let msg = r.unwrap_err();
    assert_eq!(msg.downcast_ref::<&str>(), Some(&"inside the closure"));
    // The cache is still whole after the panic crossed back over the FFI boundary.
    assert_eq!(c.read(b"p", |v| v.len()).unwrap(), Some(7));
    c.put(b"p", b"again").unwrap();
    assert_eq!(c.get(b"p").unwrap().unwrap(), b"again");
}

#[test]
fn read_batch_reports_each_key_once() {
    let dir = TempDir::new("batch");
    let c = open_rocks(&dir, "4 MiB");
    c.put(b"a", b"1").unwrap();
    c.put(b"c", b"333").unwrap();
    let keys: Vec<&[u8]> = vec![b"a", b"b", b"c", b""];
    let mut seen = Vec::new();
    c.read_batch(&keys, |i, r| {
        let r = r.map(|o| o.map(|v| v.to_vec())).map_err(|e| e.code());
        seen.push((i, r));
    })
    .unwrap();
    // Hits come back first, misses after their loads: once each, not in key order.
    seen.sort_by_key(|s| s.0);
    assert_eq!(seen, vec![
        (0, Ok(Some(b"1".to_vec()))),
        (1, Ok(None)),
        (2, Ok(Some(b"333".to_vec()))),
        (3, Err(-1)),
    ]);
    // A panic on the first key stops the calls and comes back after the batch.
    let mut calls = 0;
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = c.read_batch(&keys, |_, _| {
            calls += 1;
            panic!("batch")
        });
    }));
    assert!(r.is_err());
    assert_eq!(calls, 1);
}

#[test]
fn stats_count_what_happened_and_fill_this_crates_struct() {
    let dir = TempDir::new("stats");
    let c = open_rocks(&dir, "8 MiB");
    for i in 0..10u8 {
        c.put(&[b'k', i], &[i; 100]).unwrap();
    }
    for i in 0..10u8 {
        assert!(c.get(&[b'k', i]).unwrap().is_some());
    }
    let s = c.stats().unwrap();
    // A library with fields appended fills exactly this crate's (older) struct.
    assert_eq!(s.size as usize, std::mem::size_of::<hotcache::Stats>());
    assert_eq!(s.entries, 10);
    assert_eq!(s.inserts, 10);
    assert!(s.hits >= 10, "{:?}", s);
    assert_eq!(s.memory_limit, 8 << 20);
    assert!(s.shards >= 1 && s.shards.is_power_of_two(), "{:?}", s);
    assert!(s.accounted_bytes <= s.memory_limit, "{:?}", s);
    let mut entries = 0;
    for i in 0..s.shards {
        let sh = c.shard_stats(i).unwrap();
        assert!(sh.budget > 0);
        entries += sh.entries;
    }
    assert_eq!(entries, 10);
    assert!(matches!(c.shard_stats(s.shards), Err(Error::Invalid(_))));
}

#[test]
fn cache_only_mode_has_no_keri_and_misses_are_none() {
    let cfg = Config::new().backing_mode(BackingMode::None).unwrap()
        .set("cache.memory_limit", "4 MiB").unwrap();
    let c = Cache::open(&cfg).unwrap();
    c.put(b"x", b"y").unwrap();
    assert_eq!(c.get(b"x").unwrap().unwrap(), b"y");
    assert_eq!(c.get(b"z").unwrap(), None);
    let e = c.kel_import(b"").unwrap_err();
    assert!(matches!(e, Error::NotSupported(_)), "{:?}", e);
    assert!(e.detail().contains("rocksdb"), "{}", e);
}

#[test]
fn opening_a_missing_store_without_create_is_an_error_with_detail() {
    let dir = TempDir::new("nocreate");
    let cfg = Config::new()
        .backing_path(dir.path().join("absent"))
        .unwrap()
        .create(false)
        .unwrap();
    let e = Cache::open(&cfg).unwrap_err();
    assert!(!e.detail().is_empty(), "{:?}", e);
    assert!(e.code() < 0);
}

// The closure is moved into C's callback by pointer: on a hit it runs and is dropped
// there, on a miss it never runs and is dropped here; once either way.
#[test]
fn read_drops_its_closure_exactly_once_on_a_hit_and_on_a_miss() {
    use std::cell::Cell;
    struct Counted<'a>(&'a Cell<u32>);
    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let dir = TempDir::new("drops");
    let c = open_rocks(&dir, "4 MiB");
    c.put(b"here", b"v").unwrap();
    let drops = Cell::new(0);
    let guard = Counted(&drops);
    assert_eq!(c.read(b"here", move |v| { let _g = guard; v.len() }).unwrap(), Some(1));
    assert_eq!(drops.get(), 1);
    let guard = Counted(&drops);
    assert_eq!(c.read(b"absent", move |v| { let _g = guard; v.len() }).unwrap(), None);
    assert_eq!(drops.get(), 2);
    let guard = Counted(&drops);
    assert!(c.read(b"", move |v| { let _g = guard; v.len() }).is_err());
    assert_eq!(drops.get(), 3);
}
