/*
 * The recorded-history freshness check shared by test_cache_flight.c (fake store) and
 * test_cache_fresh_rocks.c (RocksDB store): once hc_put or hc_delete returns, no hc_get
 * that starts later returns an older value.
 *
 * Two writers put unique values to H_KEYS hot keys (and now and then delete one, or put
 * a filler key that overflows a small cache) while three readers get them, half of the
 * reads right after removing the key from memory the way eviction does. Every op's span
 * on a global clock and every value read are recorded; history_check then checks, per
 * key, in the store's version order, that no read returned a value older than the
 * newest put or delete acknowledged before the read began.
 *
 * The store's version of each write is learnt through history_ver_out: a writer sets it
 * (in its own thread) to the write's slot before hc_put/hc_delete, and the test's store
 * writes the key's new version there when the write succeeds, under the key's stripe
 * write mutex (cache_write), so the numbering is the store's order.
 *
 * Test-only; every function is called from the test's main thread except where said.
 */
#ifndef HC_TESTS_UNIT_HISTORY_H
#define HC_TESTS_UNIT_HISTORY_H

#include <stdatomic.h>
#include <stdint.h>

#include "hotcache.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
	H_KEYS = 4,
	H_WRITERS = 2,
	H_READERS = 3,
	H_VLEN = 4 << 10,       /* padded: fillers of this size overflow a 1 MiB cache */
	H_FILLERS = 1024,       /* filler keys (4 MiB of them), put now and then */
	H_MAX_OPS = 1 << 20,
	H_MAX_SEQ = 1 << 18,
};

/* The head of every value; the rest is a pattern derived from it. */
struct hval {
	uint32_t key, writer, seq, pad;
};

enum { OP_READ, OP_PUT, OP_DEL };

struct hop {
	uint64_t start, end;   /* global clock ticks */
	uint32_t key, writer, seq;   /* a read that found a value: that value's writer, seq */
	uint8_t kind;          /* OP_* */
	uint8_t found;         /* a read: 0 when it returned HC_ENOTFOUND */
};

struct history {
	hc_cache *c;
	_Atomic uint64_t clock;
	_Atomic int stop;
	_Atomic long nops;
	struct hop *ops;
	/* ver[key][writer][seq]: the store's version of each put and delete. */
	uint64_t *ver;
	_Atomic long bad_value;   /* reads whose bytes did not match their head */
	_Atomic long errors;      /* calls that failed */
	_Atomic long reads, writes, deletes, notfound;
	_Atomic long forced;      /* hot entries removed by evict_force */
};

/* Set by a writer thread before its hc_put/hc_delete of a hot key: where the test's
 * store writes the version it gave that write (after the write succeeded). NULL
 * otherwise. */
extern _Thread_local uint64_t *history_ver_out;

/* Takes c (an open cache whose store honours history_ver_out) and puts every hot key's
 * first value (writer 0, seq 0) through it, recorded like any put, so that every read
 * has a floor. Asserts on failure. */
struct history *history_new(hc_cache *c);

/* Closes h->c and frees h. */
void history_free(struct history *h);

/* Runs the writers and readers (worker i seeded with seed + i) for HC_STRESS_SECONDS
 * (default 1), or until the op log is full. */
void history_run(struct history *h, unsigned seed);

/* The number of ops recorded (at most H_MAX_OPS). Call after history_run. */
long history_nops(struct history *h);

/* Checks the first n recorded ops per key (see the file comment). Returns the number
 * of stale reads, printing the first few. */
long history_check(struct history *h, long n);

#ifdef __cplusplus
}
#endif

#endif
