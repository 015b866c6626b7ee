//! Several threads sharing one Arc<Cache>: each writes its own keys and reads everyone's,
//! and every value read is one that was written for that key.
mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::{open_rocks, TempDir};

const THREADS: usize = 6;
const KEYS: usize = 300;
const ROUNDS: u32 = 3;

fn key(t: usize, k: usize) -> Vec<u8> {
    format!("t{}-k{}", t, k).into_bytes()
}

// The value of (t, k) in round r: long enough to span cache lines, self-describing.
fn value(t: usize, k: usize, r: u32) -> Vec<u8> {
    let mut v = format!("t{}-k{}-r{}:", t, k, r).into_bytes();
    v.resize(64 + k % 200, b'0' + (r % 10) as u8);
    v
}

#[test]
fn threads_sharing_an_arc_cache_read_only_written_values() {
    let dir = TempDir::new("threads");
    let cache = Arc::new(open_rocks(&dir, "16 MiB"));
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let cache = Arc::clone(&cache);
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                for r in 0..ROUNDS {
                    for k in 0..KEYS {
                        cache.put(&key(t, k), &value(t, k, r)).unwrap();
                        // Our own key: exactly the value just written.
                        assert_eq!(cache.get(&key(t, k)).unwrap().unwrap(), value(t, k, r));
                        // Another thread's key: absent or one of its values, zero-copy.
                        let o = (t + 1 + k) % THREADS;
                        let ok = cache
                            .read(&key(o, k), |v| (0..ROUNDS).any(|rr| v == &value(o, k, rr)[..]))
                            .unwrap();
                        assert!(ok.unwrap_or(true), "thread {} read a torn value of {:?}", t, key(o, k));
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // Every key holds its last round's value, by get and by a batch.
    for t in 0..THREADS {
        let keys: Vec<Vec<u8>> = (0..KEYS).map(|k| key(t, k)).collect();
        let mut n = 0;
        cache
            .read_batch(&keys, |k, r| {
                assert_eq!(r.unwrap().unwrap(), &value(t, k, ROUNDS - 1)[..]);
                n += 1;
            })
            .unwrap();
        assert_eq!(n, KEYS);
    }
    let s = cache.stats().unwrap();
    assert_eq!(s.entries as usize, THREADS * KEYS);
    assert!(s.hits as usize >= THREADS * KEYS * ROUNDS as usize, "{:?}", s);
}
