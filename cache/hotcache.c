/*
 * The public API: open/close, put/get/read/delete, stats.
 *
 * Hits: an epoch section, the index lookup in the key's shard (its group line, then the
 * item's first line), a copy or callback, a relaxed freq store when below its cap, and
 * a per-thread counter. No lock, no allocation, no shared write but that freq store.
 * Inline from hc_read/hc_get down to the index's first try (about 160 instructions per
 * in-cache hit; README, Performance).
 *
 * Writes (hc_put, hc_delete): under the key's stripe write mutex, write through to the
 * store (durable on return), mark the key's flights stale, then install or remove
 * under the shard mutex. The stripe mutex orders the writes of one key, so the cache
 * installs them in the order the store applied them; it holds back only writers of
 * the same stripe (one in 1024 keys), so writers of other keys reach RocksDB together
 * and share its group commit (one WAL write and, with sync, one fsync per group:
 * backing/write.c). hc_put allocates and fills its entry before it takes any lock, and
 * before the durable step prefetches what the install touches first (the key's sketch
 * counters, index group and current entry: shard_prefetch_install), so those DRAM
 * misses overlap the I/O instead of lengthening the shard mutex's hold; a miss does
 * the same before its store read. A cache with neither store nor loader
 * (backing.mode = none) has nothing to order against: its writes take the shard mutex
 * only (write_memory), and hc_put prefetches the sketch counters, ghost bucket and
 * index group before it copies the value into the entry instead.
 *
 * Freshness (no older value installed after a newer write returned), per key: a miss
 * registers a flight for its key in the key's stripe before it reads the store; every
 * write of the key, once durable and before it takes the shard mutex, marks the key's
 * registered flights stale (under the stripe mutex). The loader installs only if, under
 * the shard mutex, its flight is not stale, and only if the key is absent. So either
 * the loader sees the mark and discards, or it installed first and the write then
 * replaces (or removes) what it installed. A write that marked before the flight was
 * registered finished its store write before the load read the store (the stripe mutex
 * orders the two), so the load read that value or a newer one. A get that starts after
 * a put returned therefore sees that put's value or a newer one.
 * tests/unit/test_cache_flight.c checks it with loaders held at each step; a write of
 * another key of the stripe does not discard a load (it did when the check was a
 * per-stripe version).
 *
 * Single flight: the first miss on a key registers a flight; later misses on the same
 * key find it and wait (on the stripe's condition variable) for its outcome, which the
 * loader hands over whatever it is: the value (installed or not: larger than max_entry,
 * refused, stale), HC_ENOTFOUND, or the error with its sentence. One load per key at a
 * time, one answer for all its waiters. A stale flight is not joined: a miss that
 * starts after a write loads afresh. The loader unregisters its flight before it
 * delivers, so a callback may get the same key (or a key whose loader waits on it)
 * without waiting on itself; it delivers inside a section, as a hit does.
 *
 * Memory: cache.memory_limit = fixed metadata (this struct, shards, stripes) + the
 * shards' shares; a shard's share = entry budget (incl. its frequency sketch and index
 * table) + an eighth for retired-but-unfreed entries and tables. policy.c keeps every
 * shard within its share, so accounted bytes never exceed the limit; hc_stats reports
 * slack_bytes as one max_entry per shard, the design's bound, which the tests check. Entries are
 * allocated (and filled, outside every lock) before admission, so resident memory can
 * exceed the accounted bytes by one max_entry per thread writing or loading at that
 * moment; that is documented (README, Memory), not accounted.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache/abi.h"
#include "cache/cache.h"
#include "cache/config.h"
#include "cache/error.h"
#include "cache/kel.h"
#include "cache/store.h"
#include "reclaim/alloc.h"
#include "reclaim/lockrank.h"

/* ---- argument checks ---------------------------------------------------------------- */

static int check_key(const hc_cache *c, const void *key, size_t klen, const char *fn)
{
	if (c == NULL)
		return hc_error_ret(HC_EINVAL, "%s: cache is NULL", fn);
	if (key == NULL)
		return hc_error_ret(HC_EINVAL, "%s: key is NULL", fn);
	if (klen == 0 || klen > HC_KEY_MAX)
		return hc_error_ret(HC_EINVAL, "%s: key length %zu is outside 1..%u", fn, klen,
		                    HC_KEY_MAX);
	return 0;
}

static inline uint64_t key_hash(const hc_cache *c, const void *key, size_t klen)
{
	return map_hash_bytes(&c->seed, key, klen);
}

static inline void count(struct reclaim_thread *t, size_t i)
{
	reclaim_count(t, i, 1);
}

/* Monotonic nanoseconds, for the load-time counter. */
static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* A writer's (or loader's) shard mutex, timed into the per-thread counters: the wait
 * (nonzero only when a trylock fails) and, by shard_unlock_timed, the hold. Returns the
 * tick at which the mutex was taken. */
static uint64_t shard_lock_timed(struct reclaim_thread *t, struct shard *s)
{
	uint64_t t0 = cache_ticks();
	if (rank_trylock(&s->mu, RANK_SHARD) != 0) {
		rank_lock(&s->mu, RANK_SHARD);
		uint64_t t1 = cache_ticks();
		reclaim_count(t, C_SHARD_WAIT_TICKS, t1 - t0);
		t0 = t1;
	}
	count(t, C_SHARD_LOCKS);
	return t0;
}

static void shard_unlock_timed(struct reclaim_thread *t, struct shard *s, uint64_t taken)
{
	uint64_t t1 = cache_ticks();
	rank_unlock(&s->mu, RANK_SHARD);
	reclaim_count(t, C_SHARD_HOLD_TICKS, t1 - taken);
}

/* ---- open and close ------------------------------------------------------------------ */

/* ---- fork ---------------------------------------------------------------------------- */

/*
 * pthread_atfork, as liburcu does: a child forked while another thread held one of the
 * cache's mutexes would block on it for ever, and one forked while another thread was
 * in a read section would never end a grace period again. So prepare quiesces: it takes
 * every mutex of every open cache in the global order (the open list, then per cache
 * all stripe write mutexes, all shard mutexes, all stripe mutexes, then reclaim's), so
 * writes, installs, flights and polls in progress finish first; parent releases them;
 * child re-initialises them, forgets the flights (their threads are gone; the forking
 * thread has none, it runs user code only with its flight unregistered) and releases
 * the other threads' reclaim records. The child can then use and close its caches
 * (cache-only: a RocksDB handle does not survive fork, as RocksDB documents).
 */
static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static hc_cache *open_caches;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
	pthread_mutex_lock(&open_mu);
	for (hc_cache *c = open_caches; c != NULL; c = c->open_next) {
		for (unsigned i = 0; i < STRIPES; i++)
			pthread_mutex_lock(&c->stripes[i].wmu);
		for (unsigned i = 0; i < c->nshards; i++)
			pthread_mutex_lock(&c->shards[i].mu);
		for (unsigned i = 0; i < STRIPES; i++)
			pthread_mutex_lock(&c->stripes[i].mu);
		reclaim_fork_prepare(&c->rc);
	}
}

static void fork_parent(void)
{
	for (hc_cache *c = open_caches; c != NULL; c = c->open_next) {
		reclaim_fork_parent(&c->rc);
		for (unsigned i = 0; i < STRIPES; i++)
			pthread_mutex_unlock(&c->stripes[i].mu);
		for (unsigned i = 0; i < c->nshards; i++)
			pthread_mutex_unlock(&c->shards[i].mu);
		for (unsigned i = 0; i < STRIPES; i++)
			pthread_mutex_unlock(&c->stripes[i].wmu);
	}
	pthread_mutex_unlock(&open_mu);
}

static void fork_child(void)
{
	for (hc_cache *c = open_caches; c != NULL; c = c->open_next) {
		reclaim_fork_child(&c->rc);
		for (unsigned i = 0; i < STRIPES; i++) {
			struct stripe *st = &c->stripes[i];
			pthread_mutex_init(&st->wmu, NULL);
			pthread_mutex_init(&st->mu, NULL);
			pthread_cond_init(&st->cv, NULL);
			st->flights = NULL;
		}
		for (unsigned i = 0; i < c->nshards; i++)
			rank_mutex_init_short(&c->shards[i].mu);
	}
	pthread_mutex_init(&open_mu, NULL);
}

static void fork_register(void)
{
#ifndef HC_TSAN
	/* Fails only out of memory; fork then behaves as before (documented). */
	(void)pthread_atfork(fork_prepare, fork_parent, fork_child);
#else
	/* TSan's deadlock detector cannot track the thousands of mutexes prepare holds
	 * (it fails a CHECK past 64 per thread); fork under load is tested in the other
	 * trees (test_cache_fork is not a TSan test). */
	(void)fork_prepare;
	(void)fork_parent;
	(void)fork_child;
#endif
}

static void open_list_add(hc_cache *c)
{
	pthread_once(&fork_once, fork_register);
	pthread_mutex_lock(&open_mu);
	c->open_next = open_caches;
	open_caches = c;
	pthread_mutex_unlock(&open_mu);
}

static void open_list_remove(hc_cache *c)
{
	pthread_mutex_lock(&open_mu);
	hc_cache **pp = &open_caches;
	while (*pp != NULL && *pp != c)
		pp = &(*pp)->open_next;
	if (*pp == c)
		*pp = c->open_next;
	pthread_mutex_unlock(&open_mu);
}

static void cache_free(hc_cache *c)
{
	open_list_remove(c);
	if (c->ks != NULL)
		kel_close(c);
	/* Retired entries first: their callback uncounts them from their shard. */
	reclaim_destroy(&c->rc);
	if (c->shards != NULL) {
		for (unsigned i = 0; i < c->nshards; i++)
			if (c->shards[i].cache != NULL)
				shard_destroy(&c->shards[i]);
		mem_free_line(c->shards, c->nshards * sizeof(struct shard));
	}
	if (c->stripes != NULL) {
		for (unsigned i = 0; i < STRIPES; i++) {
			pthread_mutex_destroy(&c->stripes[i].wmu);
			pthread_mutex_destroy(&c->stripes[i].mu);
			pthread_cond_destroy(&c->stripes[i].cv);
		}
		mem_free_line(c->stripes, STRIPES * sizeof(struct stripe));
	}
	if (c->store.close != NULL)
		c->store.close(c->store.ctx);
	uint64_t limit = c->cfg.memory_limit;
	mem_free_line(c, sizeof(*c));
	/* Last: the arena kept what this cache freed while its limit was reserved. */
	mem_unreserve((size_t)limit);
}

static int stripes_init(hc_cache *c)
{
	c->stripes = mem_alloc_line(STRIPES * sizeof(struct stripe), 1);
	if (c->stripes == NULL)
		return HC_ENOMEM;
	for (unsigned i = 0; i < STRIPES; i++) {
		struct stripe *st = &c->stripes[i];
		pthread_mutex_init(&st->wmu, NULL);
		pthread_mutex_init(&st->mu, NULL);
		pthread_cond_init(&st->cv, NULL);
	}
	return 0;
}

/* The key-state cache's part of the limit: a sixteenth, at least 1 MiB. */
static int shards_init(hc_cache *c)
{
	unsigned n = c->nshards;
	c->shards = mem_alloc_line(n * sizeof(struct shard), 1);
	if (c->shards == NULL)
		return HC_ENOMEM;
	c->fixed_meta = mem_charge_line(sizeof(*c)) + mem_charge_line(n * sizeof(struct shard)) +
	                mem_charge_line(STRIPES * sizeof(struct stripe));
	uint64_t limit = c->cfg.memory_limit - config_keystate_share(&c->cfg);
	if (limit <= c->fixed_meta + n * 4096ull)
		return hc_error_ret(HC_ECONFIG, "cache.memory_limit %llu is too small: %llu of it "
		                    "for key states (with a store: a sixteenth, 1 MiB at least) "
		                    "and %llu for the cache's fixed metadata leave less than 4 "
		                    "KiB for each of %u shard%s",
		                    (unsigned long long)c->cfg.memory_limit,
		                    (unsigned long long)config_keystate_share(&c->cfg),
		                    (unsigned long long)c->fixed_meta, n, n == 1 ? "" : "s");
	uint64_t total = (limit - c->fixed_meta) / n;
	/* More entries than the limit could hold at the least an entry takes: the index
	 * sized for them would take the budget (until 2026-12-07 such a cache opened and
	 * refused every insert with HC_EBUSY). */
	uint64_t most = (limit - c->fixed_meta) / entry_charge(1, 0);
	if (c->cfg.expected_entries > most)
		return hc_error_ret(HC_ECONFIG, "cache.expected_entries %llu is more than "
		                    "cache.memory_limit %llu can hold (%llu entries of %zu bytes, "
		                    "the least an entry takes)",
		                    (unsigned long long)c->cfg.expected_entries,
		                    (unsigned long long)c->cfg.memory_limit,
		                    (unsigned long long)most, entry_charge(1, 0));
	uint64_t expected = c->cfg.expected_entries ? c->cfg.expected_entries / n : total / 2048;
	for (unsigned i = 0; i < n; i++) {
		int rc = shard_init(&c->shards[i], c, i, total, expected);
		if (rc == HC_ECONFIG)
			return hc_error_ret(rc, "cache.memory_limit %llu leaves too little per shard "
			                    "for %u shards", (unsigned long long)c->cfg.memory_limit, n);
		if (rc != 0)
			return hc_error_ret(rc, "hc_open: out of memory initialising shard %u", i);
		/* At its allocation's size class, beside the index table: in raw bytes
		 * (until 2026-12-07) a shard could be opened that evicted everything for a
		 * max_entry value and then refused it. */
		size_t big = entry_charge(HC_KEY_MAX, (size_t)c->cfg.max_entry);
		if (!shard_holds(&c->shards[i], big))
			return hc_error_ret(HC_ECONFIG,
			                    "cache.max_entry %llu (%zu bytes with its entry and the "
			                    "largest key) does not fit a shard's budget of %llu bytes "
			                    "beside its index: lower it, raise cache.memory_limit or "
			                    "lower cache.shards", (unsigned long long)c->cfg.max_entry,
			                    big, (unsigned long long)c->shards[i].budget);
	}
	return 0;
}

/* cache_fix_seed's seam (cache.h): off unless a bench or test turns it on. */
static struct {
	int on;
	struct map_seed seed;
} fixed_seed;

void cache_fix_seed(uint64_t seed)
{
	fixed_seed.seed.s0 = seed;
	fixed_seed.seed.s1 = ~seed;
	fixed_seed.on = 1;
}

void cache_fix_seed_off(void)
{
	fixed_seed.on = 0;
}

/* The domain's count of read sections (reclaim_set_reads): lookups, hits and misses
 * over every shard, which are most of the sections and all the cheap ones. */
static uint64_t cache_lookups(void *arg)
{
	struct hc_cache *c = arg;
	uint64_t n = 0;
	for (unsigned i = 0; i < c->nshards; i++)
		n += reclaim_counter_sum(&c->rc, counter_index(i, CS_HITS)) +
		     reclaim_counter_sum(&c->rc, counter_index(i, CS_MISSES));
	return n;
}

int hc_open(const struct hc_config *user_cfg, hc_cache **out)
{
	if (out == NULL)
		return hc_error_ret(HC_EINVAL, "hc_open: out is NULL");
	*out = NULL;
	if (user_cfg == NULL)
		return hc_error_ret(HC_EINVAL, "hc_open: cfg is NULL");
	/* From here on the library's own full-size copy (an older caller's struct lacks
	 * the newer fields; they take their defaults). */
	struct hc_config full;
	int rc = hc_config_in(user_cfg, &full, "hc_open");
	if (rc != 0)
		return rc;
	const struct hc_config *cfg = &full;
	char err[HC_ERROR_MAX];
	rc = hc_config_check(cfg, err, sizeof(err));
	if (rc != 0)
		return hc_error_ret(rc, "%s", err);
	if (sodium_init() < 0)
		return hc_error_ret(HC_ENOMEM, "hc_open: libsodium failed to initialise");
	hc_cache *c = mem_alloc_line(sizeof(*c), 1);
	if (c == NULL)
		return hc_error_ret(HC_ENOMEM, "hc_open: out of memory");
	c->cfg = *cfg;
	/* The arena may keep freed pages within the open caches' unused limits (alloc.c);
	 * cache_free gives it back. */
	mem_reserve((size_t)cfg->memory_limit);
	if (fixed_seed.on) {
		c->seed = fixed_seed.seed;
	} else {
		randombytes_buf(&c->seed, sizeof(c->seed));
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	c->nshards = hc_config_shards(cfg, ncpu > 0 ? (unsigned)ncpu : 1);
	c->ticks0 = cache_ticks();
	c->ns0 = mono_ns();
	rc = reclaim_init(&c->rc, cfg->memory_limit / 8,
	                  C_GLOBAL_COUNT + (size_t)c->nshards * CS_PER_SHARD);
	if (rc != 0) {
		mem_free_line(c, sizeof(*c));
		mem_unreserve((size_t)cfg->memory_limit);
		return hc_error_ret(rc, "hc_open: out of memory");
	}
	reclaim_set_reads(&c->rc, cache_lookups, c);
	if ((rc = stripes_init(c)) != 0 || (rc = shards_init(c)) != 0 ||
	    (rc = cache_store_open(c)) != 0 ||
	    (c->backing != NULL && (rc = kel_open(c, config_keystate_share(cfg))) != 0)) {
		if (rc == HC_ENOMEM && hc_last_error()[0] == '\0')
			hc_error_set("hc_open: out of memory");
		cache_free(c);
		return rc;
	}
	open_list_add(c);
	*out = c;
	return 0;
}

void hc_close(hc_cache *c)
{
	if (c != NULL)
		cache_free(c);
}

void hc_thread_detach(hc_cache *c)
{
	if (c != NULL && reclaim_detach(&c->rc) != 0)
		hc_error_set("hc_thread_detach: called inside a read callback; the thread stays "
		             "registered");
}

/* ---- reads ------------------------------------------------------------------------- */

struct deliver {
	void *buf;
	size_t cap;
	size_t *vlen;
	hc_read_fn fn;
	void *arg;
};

static inline int deliver(const struct deliver *d, const void *val, size_t vlen)
{
	if (d->fn != NULL) {
		d->fn(val, vlen, d->arg);
		return 0;
	}
	*d->vlen = vlen;
	if (vlen > d->cap)
		return hc_error_ret(HC_ERANGE, "value is %zu bytes, buffer holds %zu", vlen, d->cap);
	if (vlen > 0)
		memcpy(d->buf, val, vlen);
	return 0;
}

/* What a loader fills: an entry when the value is cacheable, else a plain buffer. */
struct loading {
	struct cache_load ld;
	hc_cache *c;
	uint64_t hash;
	const void *key;
	uint32_t klen;
	struct entry *e;
	void *big;
	size_t big_len;
};

static void *loading_alloc(struct cache_load *ld, size_t vlen)
{
	struct loading *l = (struct loading *)ld;
	if (l->e != NULL || l->big != NULL)
		return NULL; /* one value per load */
	if (vlen <= l->c->cfg.max_entry) {
		l->e = entry_new(l->c, l->hash, l->key, l->klen, vlen);
		return l->e != NULL ? entry_val(l->e) : NULL;
	}
	l->big = malloc(vlen ? vlen : 1);
	l->big_len = vlen;
	return l->big;
}

static void loading_discard(struct loading *l)
{
	if (l->e != NULL)
		entry_free_now(l->e);
	if (l->big != NULL) {
		sodium_memzero(l->big, l->big_len);
		free(l->big);
	}
	l->e = NULL;
	l->big = NULL;
}

/* The live flight of key: stale ones (a write of the key landed since they read the
 * store) are skipped, so a miss that starts after that write loads afresh. mu held. */
static struct flight *flight_find(struct stripe *st, uint64_t hash, const void *key,
                                  size_t klen)
{
	for (struct flight *f = st->flights; f != NULL; f = f->next)
		if (f->hash == hash && f->klen == klen &&
		    !atomic_load_explicit(&f->stale, memory_order_relaxed) &&
		    memcmp(f->key, key, klen) == 0)
			return f;
	return NULL;
}

/* Marks every flight of key stale: a write of key was acknowledged. The writer holds
 * the key's stripe write mutex and has not yet taken the shard mutex. */
static void flights_invalidate(struct stripe *st, uint64_t hash, const void *key,
                               size_t klen)
{
	rank_lock(&st->mu, RANK_STRIPE);
	for (struct flight *f = st->flights; f != NULL; f = f->next)
		if (f->hash == hash && f->klen == klen && memcmp(f->key, key, klen) == 0)
			atomic_store_explicit(&f->stale, 1, memory_order_relaxed);
	rank_unlock(&st->mu, RANK_STRIPE);
}

/* Installs a loaded entry unless a write of its key landed since the load began.
 * Returns 1 if the cache took it. */
static int install_loaded(hc_cache *c, struct reclaim_thread *t, struct loading *l,
                          struct flight *f)
{
	struct shard *s = shard_of(c, l->hash);
	int rc = HC_EBUSY;
	uint64_t taken = shard_lock_timed(t, s);
	/* A write marks the flight before it takes this mutex: either the mark is seen
	 * here and the value is dropped, or this install comes first and the write then
	 * replaces or removes it (see the freshness note at the top). */
	if (!atomic_load_explicit(&f->stale, memory_order_relaxed)) {
		reclaim_enter(&c->rc);
		rc = shard_install_locked(s, t, l->e, 0);
		reclaim_exit(t);
	}
	shard_unlock_timed(t, s, taken);
	if (rc != 0) {
		count(t, C_NOT_CACHED);
		return 0;
	}
	return 1;
}

/* Unregisters the loader's flight and hands its outcome to the misses that waited on
 * it. Called before the loader delivers, so that a callback may read the key again
 * (or a key whose loader waits on this one) without waiting on itself. */
static void flight_finish(struct stripe *st, struct flight *me, int rc, const void *val,
                          size_t vlen)
{
	rank_lock(&st->mu, RANK_STRIPE);
	struct flight **pp = &st->flights;
	while (*pp != me)
		pp = &(*pp)->next;
	*pp = me->next;
	struct flight_share *sh = me->share;
	rank_unlock(&st->mu, RANK_STRIPE);
	if (sh == NULL)
		return;
	/* Unregistered: no waiter can join any more, so sh is ours to fill until done. */
	sh->rc = rc;
	if (rc == 0) {
		sh->val = malloc(vlen ? vlen : 1);
		if (sh->val != NULL) {
			memcpy(sh->val, val, vlen);
			sh->vlen = vlen;
		} else {
			sh->rc = HC_ENOMEM;
			snprintf(sh->err, sizeof(sh->err), "out of memory sharing a loaded value");
		}
	} else if (rc != HC_ENOTFOUND) {
		snprintf(sh->err, sizeof(sh->err), "%s", hc_last_error());
	}
	rank_lock(&st->mu, RANK_STRIPE);
	sh->done = 1;
	pthread_cond_broadcast(&st->cv);
	rank_unlock(&st->mu, RANK_STRIPE);
}

/* A miss that found f loading its key: waits for f's outcome and delivers it. Enters
 * with st->mu held; returns with it released. */
static int flight_wait(struct stripe *st, struct flight *f, const struct deliver *d)
{
	struct flight_share *sh = f->share;
	if (sh == NULL) {
		sh = calloc(1, sizeof(*sh));
		if (sh == NULL) {
			rank_unlock(&st->mu, RANK_STRIPE);
			return hc_error_ret(HC_ENOMEM, "out of memory waiting for a load");
		}
		f->share = sh;
	}
	sh->waiters++;
	while (!sh->done)
		pthread_cond_wait(&st->cv, &st->mu);
	rank_unlock(&st->mu, RANK_STRIPE);
	/* Done: sh is read-only until the last waiter frees it below. */
	int rc = sh->rc;
	if (rc == 0)
		rc = deliver(d, sh->val, sh->vlen);
	else if (rc != HC_ENOTFOUND)
		hc_error_set("%s", sh->err);
	rank_lock(&st->mu, RANK_STRIPE);
	int last = --sh->waiters == 0;
	rank_unlock(&st->mu, RANK_STRIPE);
	if (last) {
		if (sh->val != NULL) {
			sodium_memzero(sh->val, sh->vlen);
			free(sh->val);
		}
		free(sh);
	}
	return rc;
}

static int relieve(struct shard *s, struct reclaim_thread *t, uint64_t need);

/* Prefetches what an install of the key touches first (shard_prefetch_install; entries:
 * also its current entry, and if like is not NULL that entry's policy part where like's
 * sits), inside a section since it reads the index's table. t: the calling thread,
 * registered. */
static void prefetch_install(hc_cache *c, struct reclaim_thread *t, uint64_t h,
                             const void *key, size_t klen, int entries,
                             const struct entry *like)
{
	reclaim_enter(&c->rc); /* t is registered: cannot fail */
	shard_prefetch_install(shard_of(c, h), h, key, (uint32_t)klen, entries,
	                       like != NULL ? like->off : 0);
	reclaim_exit(t);
}

/* A miss with a store behind: single-flight load, install if fresh, hand the outcome
 * to the waiters, deliver. */
static int load_miss(hc_cache *c, struct reclaim_thread *t, uint64_t h, const void *key,
                     size_t klen, const struct deliver *d)
{
	struct stripe *st = stripe_of(c, h);
	rank_lock(&st->mu, RANK_STRIPE);
	struct flight *f = flight_find(st, h, key, klen);
	if (f != NULL) {
		count(t, C_LOAD_WAITS);
		return flight_wait(st, f, d);
	}
	struct flight me = {.next = st->flights, .hash = h, .key = key, .klen = klen};
	st->flights = &me;
	rank_unlock(&st->mu, RANK_STRIPE);

	struct loading l = {.ld = {.alloc = loading_alloc}, .c = c, .hash = h, .key = key,
	                    .klen = (uint32_t)klen};
	l.ld.arg = &l;
	count(t, C_LOADS);
	/* The install's first DRAM misses (the sketch rows) overlap the store's read. */
	prefetch_install(c, t, h, key, klen, 0, NULL);
	uint64_t t0 = mono_ns();
	int rc = c->store.load(c->store.ctx, key, klen, &l.ld);
	reclaim_count(t, C_LOAD_NANOS, mono_ns() - t0);
	if (rc == 0 && l.e == NULL && l.big == NULL)
		rc = hc_error_ret(HC_ENOMEM, "out of memory loading a value");
	if (rc != 0)
		count(t, rc == HC_ENOTFOUND ? C_LOAD_NOT_FOUND : C_LOAD_FAILURES);
	if (rc == 0 && l.e == NULL) {
		/* Larger than max_entry: read through, never cached. */
		count(t, C_NOT_CACHED);
		flight_finish(st, &me, 0, l.big, l.big_len);
		rc = deliver(d, l.big, l.big_len);
	} else if (rc == 0) {
		struct entry *e = l.e;
		(void)relieve(shard_of(c, h), t, e->charge); /* refused install: not cached */
		/* Once the cache owns e an eviction may retire it at once: the section keeps
		 * it alive for the delivery. The callback therefore runs inside a section, as
		 * it does on a hit. */
		reclaim_enter(&c->rc); /* t is registered: cannot fail */
		if (install_loaded(c, t, &l, &me))
			l.e = NULL; /* the cache owns it now */
		flight_finish(st, &me, 0, entry_val(e), entry_vlen(e));
		rc = deliver(d, entry_val(e), entry_vlen(e));
		reclaim_exit(t);
	} else {
		if (rc == HC_ECORRUPT)
			count(t, C_CORRUPT);
		flight_finish(st, &me, rc, NULL, 0);
	}
	loading_discard(&l);
	reclaim_poll(t);
	return rc;
}

/* A hit or a miss. Inlined into hc_get and hc_read, so each one's delivery is known at
 * compile time (no branch on d->fn, no struct on the stack): part of the hit path's
 * instruction count (README, Performance). */
static inline __attribute__((always_inline)) int
lookup(hc_cache *c, const void *key, size_t klen, struct deliver d)
{
	uint64_t h = key_hash(c, key, klen);
	struct reclaim_thread *t = reclaim_enter(&c->rc);
	if (t == NULL)
		return hc_error_ret(HC_ENOMEM, "out of memory registering the thread");
	struct shard *s = shard_of(c, h);
	/* The section covers the lookup and the use of the item: an eviction may retire
	 * it at once, and reclaim/ frees it only after this section ends. */
	struct item *it = index_get(&s->ix, h, key, (uint32_t)klen);
	if (it != NULL) {
		policy_touch(it);
		int rc = deliver(&d, item_val(it), it->vlen);
		reclaim_exit(t);
		count(t, counter_index(s->index, CS_HITS));
		return rc;
	}
	reclaim_exit(t);
	count(t, counter_index(s->index, CS_MISSES));
	if (c->store.load == NULL)
		return HC_ENOTFOUND;
	/* A copy whose address escapes to the miss path, so that d's does not and the hit
	 * path above keeps d's fields in registers. */
	struct deliver dm = d;
	return load_miss(c, t, h, key, klen, &dm);
}

int hc_get(hc_cache *c, const void *key, size_t klen, void *buf, size_t cap, size_t *vlen)
{
	int rc = check_key(c, key, klen, "hc_get");
	if (rc != 0)
		return rc;
	if (vlen == NULL || (buf == NULL && cap > 0))
		return hc_error_ret(HC_EINVAL, "hc_get: vlen is NULL, or buf is NULL with cap > 0");
	return lookup(c, key, klen, (struct deliver){.buf = buf, .cap = cap, .vlen = vlen});
}

int hc_read(hc_cache *c, const void *key, size_t klen, hc_read_fn fn, void *arg)
{
	int rc = check_key(c, key, klen, "hc_read");
	if (rc != 0)
		return rc;
	if (fn == NULL)
		return hc_error_ret(HC_EINVAL, "hc_read: fn is NULL");
	return lookup(c, key, klen, (struct deliver){.fn = fn, .arg = arg});
}

struct batch_one {
	hc_batch_fn fn;
	void *arg;
	size_t i;
};

static void batch_deliver(const void *val, size_t vlen, void *arg)
{
	struct batch_one *b = arg;
	b->fn(b->i, 0, val, vlen, b->arg);
}

enum { BATCH = 16 };

/* Key j of a batch from the index: delivered and counted as a hit (1), or 0 if it is
 * not there. Inside a section (it covers the delivery). Inlined: the batch's hit path. */
static inline __attribute__((always_inline)) int
batch_hit(hc_cache *c, struct reclaim_thread *t, uint64_t h, const void *const *keys,
          const size_t *klens, size_t j, hc_batch_fn fn, void *arg)
{
	struct shard *s = shard_of(c, h);
	struct item *it = index_get(&s->ix, h, keys[j], (uint32_t)klens[j]);
	if (it == NULL)
		return 0;
	policy_touch(it);
	fn(j, 0, item_val(it), it->vlen, arg);
	count(t, counter_index(s->index, CS_HITS));
	return 1;
}

/* Whether key base + i missed earlier in its batch group too (miss[] > 0, same hash
 * and key). */
static int batch_loaded_earlier(const void *const *keys, const size_t *klens, size_t base,
                                const uint64_t *h, const int *miss, size_t i)
{
	for (size_t e = 0; e < i; e++)
		if (miss[e] > 0 && h[e] == h[i] && klens[base + e] == klens[base + i] &&
		    memcmp(keys[base + e], keys[base + i], klens[base + i]) == 0)
			return 1;
	return 0;
}

int hc_read_batch(hc_cache *c, size_t n, const void *const *keys, const size_t *klens,
                  hc_batch_fn fn, void *arg)
{
	if (c == NULL || fn == NULL || (n > 0 && (keys == NULL || klens == NULL)))
		return hc_error_ret(HC_EINVAL, "hc_read_batch: NULL argument");
	for (size_t base = 0; base < n; base += BATCH) {
		size_t k = n - base < BATCH ? n - base : BATCH;
		uint64_t h[BATCH];
		int miss[BATCH];
		/* Both prefetch stages read the index's table: inside the section. */
		struct reclaim_thread *t = reclaim_enter(&c->rc);
		if (t == NULL)
			return hc_error_ret(HC_ENOMEM, "out of memory registering the thread");
		for (size_t i = 0; i < k; i++) {
			size_t j = base + i;
			miss[i] = 0;
			if (keys[j] == NULL || klens[j] == 0 || klens[j] > HC_KEY_MAX) {
				miss[i] = -1;
				continue;
			}
			h[i] = key_hash(c, keys[j], klens[j]);
			index_prefetch(&shard_of(c, h[i])->ix, h[i], keys[j], (uint32_t)klens[j], 0, 0, 0);
		}
		for (size_t i = 0; i < k; i++)
			if (miss[i] == 0)
				index_prefetch(&shard_of(c, h[i])->ix, h[i], keys[base + i],
				               (uint32_t)klens[base + i], 1, 0, 0);
		for (size_t i = 0; i < k; i++)
			if (miss[i] == 0 && !batch_hit(c, t, h[i], keys, klens, base + i, fn, arg))
				miss[i] = 1;
		reclaim_exit(t);
		for (size_t i = 0; i < k; i++) {
			size_t j = base + i;
			if (miss[i] < 0) {
				/* The callback's hc_last_error says what is wrong with key j. */
				char what[40];
				snprintf(what, sizeof what, "hc_read_batch: key %zu", j);
				(void)check_key(c, keys[j], klens[j], what);
				fn(j, HC_EINVAL, NULL, 0, arg);
			} else if (miss[i] > 0) {
				struct shard *s = shard_of(c, h[i]);
				if (c->store.load != NULL &&
				    batch_loaded_earlier(keys, klens, base, h, miss, i)) {
					/* The key came earlier in this group and its load may have
					 * installed it: look again rather than load it again (until
					 * 2026-12-07 a key repeated 100 times was loaded 16 times). */
					reclaim_enter(&c->rc);
					int hit = batch_hit(c, t, h[i], keys, klens, j, fn, arg);
					reclaim_exit(t);
					if (hit)
						continue;
				}
				count(t, counter_index(s->index, CS_MISSES));
				int rc = HC_ENOTFOUND;
				if (c->store.load != NULL) {
					struct batch_one b = {fn, arg, j};
					struct deliver d = {.fn = batch_deliver, .arg = &b};
					rc = load_miss(c, t, h[i], keys[j], klens[j], &d);
				}
				if (rc != 0)
					fn(j, rc, NULL, 0, arg);
			}
		}
	}
	return 0;
}

/* ---- writes ------------------------------------------------------------------------ */

struct fits_arg {
	const struct shard *s;
	uint64_t need;
};

static int fits(void *arg)
{
	const struct fits_arg *f = arg;
	return shard_fits(f->s, f->need);
}

/* Writers' step before they take the shard mutex for an install of need bytes. Past
 * half the shard's retired allowance it polls if enough was retired since the last
 * poll (reclaim_poll's pacing: a poll per write here was up to 50 membarriers per 1000
 * operations from 8 threads; never blocking), so reclamation keeps up before installs
 * are refused;
 * it waits only when the install would not be admitted, polling until it would or
 * until 2 ms pass and a stall is seen (the synchronize fallback, reclaim_drain_until,
 * bounded at 10 ms so a stalled reader cannot hold a writer). A wait while the
 * install still fits (as it did when the half allowance was
 * the condition) costs the writer a grace period, two epoch advances that every
 * reader in a section must see, for nothing the memory bound needs (the admission
 * check under the mutex keeps it). Returns 0, or HC_EBUSY (a stall). Outside a
 * section. */
static int relieve(struct shard *s, struct reclaim_thread *t, uint64_t need)
{
	struct fits_arg f = {s, need};
	if (retired_pending(&s->retired) > s->retire_allow / 2) {
		/* The steps free at the rate things arrive; past half the allowance they
		 * free at twice it, so the ready stack empties before installs are refused. */
		reclaim_hurry(t);
		reclaim_poll(t);
	}
	if (fits(&f))
		return 0;
	/* What earlier polls released and the writers' steps have not freed yet may be
	 * enough: freeing it needs no grace period. */
	reclaim_free_ready(t);
	if (fits(&f))
		return 0;
	uint64_t t0 = cache_ticks();
	int rc = reclaim_drain_until(t, 2000000, fits, &f);
	count(t, C_WRITE_WAITS);
	reclaim_count(t, C_WRITE_WAIT_TICKS, cache_ticks() - t0);
	return rc;
}

/* A cache-only put's refusal, with its cause. */
static int refused(hc_cache *c, int irc)
{
	if (irc == HC_ERANGE)
		return hc_error_ret(HC_ENOMEM, "hc_put: the value does not fit its shard beside "
		                    "the shard's index (grown for many small entries; it does not "
		                    "shrink); not stored, nothing evicted: lower cache.max_entry or "
		                    "raise cache.memory_limit");
	if (irc != HC_EBUSY)
		return hc_error_ret(HC_ENOMEM, "hc_put: out of memory for the entry; not stored");
	if (atomic_load_explicit(&c->rc.barrier_failures, memory_order_relaxed) > 0)
		return hc_error_ret(HC_EBUSY, "hc_put: reclamation has stopped: membarrier failed "
		                    "(%s); not stored",
		                    strerror(atomic_load_explicit(&c->rc.barrier_errno,
		                                                  memory_order_relaxed)));
	return hc_error_ret(HC_EBUSY, "hc_put: reclamation is behind (a reader is stalled in "
	                    "a section); not stored");
}

/* Installs e (when not NULL) in shard s under the shard mutex, waiting for
 * reclamation (bounded) and retrying when refused for retired bytes; removes the key's
 * entry instead when e is NULL, or when the install failed and drop_on_fail (the old
 * value must not be served any more). Returns the install's result (HC_ENOMEM when e
 * is NULL); *removed says whether an entry was removed. Outside a section, no shard
 * mutex held. */
static int shard_apply(hc_cache *c, struct reclaim_thread *t, struct shard *s, uint64_t h,
                       const void *key, size_t klen, struct entry *e, int drop_on_fail,
                       int *removed)
{
	int irc;
	uint64_t taken;
	*removed = 0;
	for (int attempt = 0;; attempt++) {
		taken = shard_lock_timed(t, s);
		reclaim_enter(&c->rc);
		irc = e != NULL ? shard_install_locked(s, t, e, 1) : HC_ENOMEM;
		/* Refused for retired bytes: wait for reclamation (bounded) and try again,
		 * unless the wait itself ran out (a reader is stalled in a section) or other
		 * writers of the shard kept taking the room it made. */
		if (irc == HC_EBUSY && attempt < 4) {
			reclaim_exit(t);
			shard_unlock_timed(t, s, taken);
			if (relieve(s, t, e->charge) == 0)
				continue;
			taken = shard_lock_timed(t, s);
			reclaim_enter(&c->rc);
		}
		break;
	}
	if (irc != 0 && (e == NULL || drop_on_fail))
		*removed = shard_remove_locked(s, t, h, key, (uint32_t)klen);
	reclaim_exit(t);
	shard_unlock_timed(t, s, taken);
	return irc;
}

/* The outcome of a write once applied: counts, frees a refused entry, maps a
 * cache-only refusal to its error, polls. rc: the durable step's (0 or
 * CACHE_WRITE_REMOVE). */
static int write_done(hc_cache *c, struct reclaim_thread *t, int rc, int irc, int removed,
                      struct entry *e, int backed)
{
	if (rc == CACHE_WRITE_REMOVE) {
		if (removed)
			count(t, C_DELETES);
		rc = 0;
	} else if (irc != 0) {
		if (removed)
			count(t, C_DELETES); /* the key's old entry left memory with it */
		if (e != NULL)
			entry_free_now(e);
		/* not_cached counts values stored but not cached: a cache-only refusal stored
		 * nothing (until 2026-12-07 it was counted too). */
		if (backed)
			count(t, C_NOT_CACHED);
		else
			rc = refused(c, irc);
	}
	reclaim_poll(t);
	return rc;
}

/* An entry holding val for key, allocated and filled outside every lock; NULL when the
 * value is not cacheable (larger than max_entry) or out of memory. */
static struct entry *entry_filled(hc_cache *c, uint64_t h, const void *key, size_t klen,
                                  const void *val, size_t vlen)
{
	if (vlen > c->cfg.max_entry)
		return NULL;
	struct entry *e = entry_new(c, h, key, (uint32_t)klen, vlen);
	if (e != NULL && vlen > 0)
		memcpy(entry_val(e), val, vlen);
	return e;
}

/*
 * cache_write with the entry to install already built (pre, for a value known before
 * the durable step: hc_put), or NULL to build it from what durable returns. pre is
 * consumed (installed or freed) whatever happens.
 */
static int write_through(hc_cache *c, uint64_t h, const void *key, size_t klen,
                         cache_durable_fn *durable, void *ctx, struct entry *pre)
{
	struct reclaim_thread *t = reclaim_self(&c->rc);
	if (t == NULL) {
		if (pre != NULL)
			entry_free_now(pre);
		return hc_error_ret(HC_ENOMEM, "out of memory registering the thread");
	}
	int backed = c->store.put != NULL;
	struct shard *s = shard_of(c, h);
	struct stripe *st = stripe_of(c, h);
	(void)relieve(s, t, 0); /* before the write's I/O; the install waits below */

	/* The install's first DRAM misses (sketch rows, the key's group and its current
	 * entry) overlap the durable write. */
	prefetch_install(c, t, h, key, klen, 1, pre);

	rank_lock(&st->wmu, RANK_STRIPE_WRITE);
	const void *val = NULL;
	size_t vlen = 0;
	int rc = durable(ctx, &val, &vlen);
	if (rc < 0 || rc == CACHE_WRITE_NOOP) {
		rank_unlock(&st->wmu, RANK_STRIPE_WRITE);
		if (pre != NULL)
			entry_free_now(pre);
		return rc < 0 ? rc : 0;
	}
	/* Loads of this key that may have read the store before this write must neither
	 * install nor share what they read; marked before the shard mutex is taken. */
	flights_invalidate(st, h, key, klen);
	struct entry *e = pre;
	if (rc == 0 && e == NULL)
		e = entry_filled(c, h, key, klen, val, vlen);
	if (rc != 0 && e != NULL) {
		entry_free_now(e);
		e = NULL;
	}
	int removed;
	int irc = shard_apply(c, t, s, h, key, klen, e, backed || rc == CACHE_WRITE_REMOVE,
	                      &removed);
	rank_unlock(&st->wmu, RANK_STRIPE_WRITE);
	return write_done(c, t, rc, irc, removed, e, backed);
}

int cache_write(hc_cache *c, const void *key, size_t klen, cache_durable_fn *durable,
                void *ctx)
{
	return write_through(c, key_hash(c, key, klen), key, klen, durable, ctx, NULL);
}

/*
 * A write to a cache with no store and no loader (backing.mode = none): nothing to make
 * durable and no flight to fence, so neither the stripe write mutex nor the flight
 * list: the shard mutex alone orders the writes of a key (the last install under it
 * wins), and a put or delete takes effect there, before it returns, so a get that
 * starts after it returned sees its value or a later one. e: the entry for a put
 * (built by the caller outside every lock; NULL out of memory), unused for a delete;
 * t: the calling thread's record, NULL if it could not be registered (HC_ENOMEM).
 */
static int write_memory(hc_cache *c, struct reclaim_thread *t, uint64_t h, const void *key,
                        size_t klen, struct entry *e, int remove)
{
	if (t == NULL) {
		if (e != NULL)
			entry_free_now(e);
		return hc_error_ret(HC_ENOMEM, "out of memory registering the thread");
	}
	struct shard *s = shard_of(c, h);
	if (remove)
		e = NULL;
	else
		(void)relieve(s, t, 0);
	int removed;
	int irc = shard_apply(c, t, s, h, key, klen, e, remove, &removed);
	return write_done(c, t, remove ? CACHE_WRITE_REMOVE : 0, irc, removed, e, 0);
}

static int memory_only(const hc_cache *c)
{
	return c->store.put == NULL && c->store.load == NULL;
}

struct put_args {
	hc_cache *c;
	const void *key, *val;
	size_t klen, vlen;
};

static int put_durable(void *ctx, const void **val, size_t *vlen)
{
	struct put_args *a = ctx;
	if (a->c->store.put != NULL) {
		int rc = a->c->store.put(a->c->store.ctx, a->key, a->klen, a->val, a->vlen);
		if (rc != 0)
			return rc;
	}
	*val = a->val;
	*vlen = a->vlen;
	return 0;
}

static int del_durable(void *ctx, const void **val, size_t *vlen)
{
	struct put_args *a = ctx;
	(void)val;
	(void)vlen;
	if (a->c->store.del != NULL) {
		int rc = a->c->store.del(a->c->store.ctx, a->key, a->klen);
		if (rc != 0)
			return rc;
	}
	return CACHE_WRITE_REMOVE;
}

int hc_put(hc_cache *c, const void *key, size_t klen, const void *val, size_t vlen)
{
	int rc = check_key(c, key, klen, "hc_put");
	if (rc != 0)
		return rc;
	if (val == NULL && vlen > 0)
		return hc_error_ret(HC_EINVAL, "hc_put: val is NULL with vlen %zu", vlen);
	if (vlen > UINT32_MAX)
		return hc_error_ret(HC_EINVAL, "hc_put: value of %zu bytes exceeds 4 GiB", vlen);
	if (c->store.put == NULL && vlen > c->cfg.max_entry)
		return hc_error_ret(HC_EINVAL,
		                    "hc_put: value of %zu bytes exceeds cache.max_entry (%llu) and "
		                    "backing.mode = none has nowhere else to keep it", vlen,
		                    (unsigned long long)c->cfg.max_entry);
	/* The entry is allocated and filled before any lock is taken. */
	uint64_t h = key_hash(c, key, klen);
	struct reclaim_thread *t = NULL;
	if (memory_only(c)) {
		/* No durable step to overlap: the install's first lines (sketch counters,
		 * ghost bucket, the key's index group) come in while the value is copied. */
		t = reclaim_self(&c->rc);
		if (t != NULL)
			prefetch_install(c, t, h, key, klen, 0, NULL);
	}
	struct entry *e = NULL;
	if (vlen <= c->cfg.max_entry) {
		e = entry_filled(c, h, key, klen, val, vlen);
		if (e == NULL && memory_only(c))
			return hc_error_ret(HC_ENOMEM, "hc_put: out of memory for the entry; not "
			                    "stored");
	}
	if (memory_only(c))
		return write_memory(c, t, h, key, klen, e, 0);
	struct put_args a = {c, key, val, klen, vlen};
	return write_through(c, h, key, klen, put_durable, &a, e);
}

int hc_delete(hc_cache *c, const void *key, size_t klen)
{
	int rc = check_key(c, key, klen, "hc_delete");
	if (rc != 0)
		return rc;
	if (memory_only(c))
		return write_memory(c, reclaim_self(&c->rc), key_hash(c, key, klen), key, klen,
		                    NULL, 1);
	struct put_args a = {c, key, NULL, klen, 0};
	return cache_write(c, key, klen, del_durable, &a);
}

/* ---- stats ------------------------------------------------------------------------- */

int hc_shard_stats_sized(hc_cache *c, unsigned shard, struct hc_shard_stats *user,
                         size_t size)
{
	if (c == NULL || user == NULL)
		return hc_error_ret(HC_EINVAL, "hc_shard_stats: NULL argument");
	int rc = abi_check(size, ABI_SHARD_STATS_MIN, "hc_shard_stats");
	if (rc != 0)
		return rc;
	if (shard >= c->nshards)
		return hc_error_ret(HC_EINVAL, "hc_shard_stats: shard %u >= %u shards", shard,
		                    c->nshards);
	struct shard *s = &c->shards[shard];
	struct hc_shard_stats full, *st = &full;
	memset(st, 0, sizeof(*st));
	st->hits = reclaim_counter_sum(&c->rc, counter_index(shard, CS_HITS));
	st->misses = reclaim_counter_sum(&c->rc, counter_index(shard, CS_MISSES));
	st->inserts = atomic_load_explicit(&s->inserts, memory_order_relaxed);
	st->evictions = atomic_load_explicit(&s->evictions, memory_order_relaxed);
	st->bytes = atomic_load_explicit(&s->bytes, memory_order_relaxed);
	st->budget = s->budget;
	st->entries = index_count(&s->ix);
	rank_lock(&s->mu, RANK_SHARD);
	st->small_entries = s->small.count;
	st->main_entries = s->main.count;
	rank_unlock(&s->mu, RANK_SHARD);
	abi_out_filled(user, size, st, sizeof(*st));
	return 0;
}

_Static_assert(offsetof(struct hc_stats, store_corrupt) >= ABI_STATS_MIN,
               "a field added to struct hc_stats starts inside the first layout's padding");
_Static_assert(offsetof(struct hc_stats, escrowed) ==
               ABI_END(struct hc_stats, reclaim_failures),
               "the escrow figures follow reclaim_failures, the previous layout's end");
_Static_assert(offsetof(struct hc_stats, reclaim_barriers) ==
               ABI_END(struct hc_stats, escrow_entries),
               "the writers' costs follow escrow_entries, the previous layout's end");
_Static_assert(offsetof(struct hc_stats, reclaim_fenced) ==
               ABI_END(struct hc_stats, shard_lock_hold_nanos),
               "the read-section mode follows shard_lock_hold_nanos, the previous layout's end");

/* The figures into *st (library-sized). With poll, first the opportunistic poll
 * hc_stats makes; without (the metrics' walk), no lock of the cache's is taken and
 * nothing is allocated: relaxed loads of the counters, and RocksDB's properties. */
static void stats_fill(hc_cache *c, struct hc_stats *st, int poll)
{
	memset(st, 0, sizeof(*st));
	/* Opportunistic reclamation: retired entries wait for a poll, and polls otherwise
	 * come with writes (once a batch is worth a membarrier), so a cache whose writes
	 * stopped would hold them for ever. Asking for the figures frees what a grace
	 * period allows first (safe inside a section too: this thread then counts as a
	 * reader like any other). */
	if (poll) {
		struct reclaim_thread *t = reclaim_self(&c->rc);
		if (t != NULL)
			reclaim_poll_now(t);
	}
	st->shards = c->nshards;
	st->memory_limit = c->cfg.memory_limit;
	st->metadata_bytes = c->fixed_meta;
	st->accounted_bytes = c->fixed_meta;
	for (unsigned i = 0; i < c->nshards; i++) {
		struct shard *s = &c->shards[i];
		st->hits += reclaim_counter_sum(&c->rc, counter_index(i, CS_HITS));
		st->misses += reclaim_counter_sum(&c->rc, counter_index(i, CS_MISSES));
		st->inserts += atomic_load_explicit(&s->inserts, memory_order_relaxed);
		st->evictions += atomic_load_explicit(&s->evictions, memory_order_relaxed);
		st->deletes += atomic_load_explicit(&s->replaced, memory_order_relaxed);
		st->entries += index_count(&s->ix);
		st->accounted_bytes += shard_accounted(s);
		st->metadata_bytes += s->policy_bytes +
		                      atomic_load_explicit(&s->ix.table_bytes, memory_order_relaxed);
	}
	st->deletes += reclaim_counter_sum(&c->rc, C_DELETES);
	st->loads = reclaim_counter_sum(&c->rc, C_LOADS);
	st->load_waits = reclaim_counter_sum(&c->rc, C_LOAD_WAITS);
	st->corrupt = reclaim_counter_sum(&c->rc, C_CORRUPT);
	cache_store_stats(c, st);
	st->not_cached = reclaim_counter_sum(&c->rc, C_NOT_CACHED);
	st->load_not_found = reclaim_counter_sum(&c->rc, C_LOAD_NOT_FOUND);
	st->load_failures = reclaim_counter_sum(&c->rc, C_LOAD_FAILURES);
	st->load_nanos = reclaim_counter_sum(&c->rc, C_LOAD_NANOS);
	st->retired_bytes = reclaim_backlog(&c->rc);
	st->reclaim_failures = atomic_load_explicit(&c->rc.barrier_failures, memory_order_relaxed);
	st->slack_bytes = (uint64_t)c->nshards * c->cfg.max_entry;
	st->reclaim_barriers = atomic_load_explicit(&c->rc.barriers, memory_order_relaxed);
	st->reclaim_fenced = !atomic_load_explicit(&c->rc.asym, memory_order_relaxed);
	st->reclaim_mode_switches =
		atomic_load_explicit(&c->rc.mode_switches, memory_order_relaxed);
	st->write_waits = reclaim_counter_sum(&c->rc, C_WRITE_WAITS);
	st->shard_locks = reclaim_counter_sum(&c->rc, C_SHARD_LOCKS);
	/* Ticks to ns at the rate measured since hc_open (1 where the ticks are ns). */
	uint64_t dt = cache_ticks() - c->ticks0, dn = mono_ns() - c->ns0;
	double ns_per_tick = dt > 0 && dn > 0 ? (double)dn / (double)dt : 1.0;
	st->write_wait_nanos =
		(uint64_t)((double)reclaim_counter_sum(&c->rc, C_WRITE_WAIT_TICKS) * ns_per_tick);
	st->shard_lock_wait_nanos =
		(uint64_t)((double)reclaim_counter_sum(&c->rc, C_SHARD_WAIT_TICKS) * ns_per_tick);
	st->shard_lock_hold_nanos =
		(uint64_t)((double)reclaim_counter_sum(&c->rc, C_SHARD_HOLD_TICKS) * ns_per_tick);
	if (c->ks != NULL) {
		/* The key-state cache's bytes count against the same limit. */
		struct hc_stats ks;
		stats_fill(c->ks, &ks, poll);
		st->accounted_bytes += ks.accounted_bytes;
		st->retired_bytes += ks.retired_bytes;
		st->metadata_bytes += ks.metadata_bytes;
		st->slack_bytes += ks.slack_bytes;
		st->keystate_hits = ks.hits;
		st->keystate_misses = ks.misses;
		st->keystate_entries = ks.entries;
		st->keystate_evictions = ks.evictions;
		st->reclaim_failures += ks.reclaim_failures;
		st->reclaim_barriers += ks.reclaim_barriers;
		st->write_waits += ks.write_waits;
		st->write_wait_nanos += ks.write_wait_nanos;
		st->shard_locks += ks.shard_locks;
		st->shard_lock_wait_nanos += ks.shard_lock_wait_nanos;
		st->shard_lock_hold_nanos += ks.shard_lock_hold_nanos;
		st->reclaim_mode_switches += ks.reclaim_mode_switches;
		kel_escrow_stats(c, st);
	}
}

int hc_stats_sized(hc_cache *c, struct hc_stats *user, size_t size)
{
	if (c == NULL || user == NULL)
		return hc_error_ret(HC_EINVAL, "hc_stats: NULL argument");
	int rc = abi_check(size, ABI_STATS_MIN, "hc_stats");
	if (rc != 0)
		return rc;
	struct hc_stats full;
	stats_fill(c, &full, 1);
	abi_out_filled(user, size, &full, sizeof(full));
	return 0;
}

void cache_stats_quiet(hc_cache *c, struct hc_stats *st)
{
	stats_fill(c, st, 0);
}
