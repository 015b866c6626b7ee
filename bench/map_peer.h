/*
 * The map benchmark's view of one concurrent hash map: a small vtable that our map and
 * each peer (ck_hs with a writer spinlock, liburcu's rculfhash, a pthread_rwlock
 * open-addressing table) implement in its own bench/map_peer_<name>.c, each in the way
 * its library is meant to be used (its own read sections and deferred frees).
 *
 * Keys are klen bytes (fixed per table, 1..MAP_PEER_MAX_KLEN); a value is one 64-bit
 * word stored in the entry. Every implementation allocates through reclaim/alloc.h
 * (the same jemalloc arena as ours) except where a library allocates internally
 * (rculfhash's bucket table), and reports the bytes it holds for the overhead figure.
 *
 * Threads: tid is 0..MAP_PEER_MAX_THREADS-1, unique among the threads running at one
 * time; a thread calls thread_enter before its first operation and thread_exit after
 * its last. get/put/del may then run on any number of threads at once; init, bytes
 * and destroy run on one thread while no other uses the table.
 */
#ifndef HC_BENCH_MAP_PEER_H
#define HC_BENCH_MAP_PEER_H

#include <stdint.h>

#define MAP_PEER_MAX_THREADS 64
#define MAP_PEER_MAX_KLEN 64

struct map_peer {
	const char *name;
	/* An empty table sized for about nkeys keys of klen bytes, or NULL. */
	void *(*init)(uint64_t nkeys, uint32_t klen);
	void (*destroy)(void *h);
	void (*thread_enter)(void *h, unsigned tid);
	void (*thread_exit)(void *h, unsigned tid);
	/* 1 and *val set when key is present, else 0. */
	int (*get)(void *h, unsigned tid, const void *key, uint64_t *val);
	/* Inserts key or replaces its value. 0, or -1 when out of memory. */
	int (*put)(void *h, unsigned tid, const void *key, uint64_t val);
	/* 1 when this call removed key, 0 when it was absent. */
	int (*del)(void *h, unsigned tid, const void *key);
	/* Keys in the table by its own count, with no thread inside it. */
	uint64_t (*count)(void *h);
	/* Bytes the table holds now (its own accounting), with no thread inside it. */
	uint64_t (*bytes)(void *h);
	/* One line: how bytes() is measured. */
	const char *bytes_note;
};

extern const struct map_peer map_peer_ours;
/* Set when destroying our map found a node count other than map_count(). */
extern int map_peer_ours_mismatch;
extern const struct map_peer map_peer_ckhs;
extern const struct map_peer map_peer_rculfhash;
extern const struct map_peer map_peer_rwlock;
/* The rwlock table with entries behind pointers (opt-in: --impl rwlock_ptr). */
extern const struct map_peer map_peer_rwlock_ptr;
/* The open-addressed index, map/index.c (opt-in: --impl index). */
extern const struct map_peer map_peer_index;

#endif
