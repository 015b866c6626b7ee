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

// A thread that used the cache may outlive it (the last Arc dropped elsewhere): its
// registration is released at its exit, after hc_close, and that must be harmless;
// then a new cache serves the same thread.
#[test]
fn a_thread_that_outlives_the_cache_exits_cleanly_and_can_use_a_new_one() {
    use std::sync::mpsc;
    let dir = TempDir::new("outlive");
    let cache = Arc::new(open_rocks(&dir, "4 MiB"));
    cache.put(b"k", b"v").unwrap();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let worker = {
        let cache = Arc::clone(&cache);
        thread::spawn(move || {
            assert_eq!(cache.get(b"k").unwrap().unwrap(), b"v");
            drop(cache);
            done_tx.send(()).unwrap();
            go_rx.recv().unwrap(); // wait until the cache is closed
            let dir2 = TempDir::new("outlive2");
            let c2 = open_rocks(&dir2, "4 MiB");
            c2.put(b"k2", b"v2").unwrap();
            assert_eq!(c2.get(b"k2").unwrap().unwrap(), b"v2");
        })
    };
    done_rx.recv().unwrap();
    let cache = Arc::try_unwrap(cache).expect("the worker dropped its Arc");
    drop(cache); // hc_close while the worker's registration is still live
    go_tx.send(()).unwrap();
    worker.join().unwrap();
}
