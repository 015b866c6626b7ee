/*
 * cache/metrics.c: the public metrics (hc_metrics_foreach, hc_stats_prometheus).
 *
 * One table lists every metric: its name, type, help and where its value comes from
 * (a field of struct hc_stats, of backing's memory figures, or computed). A walk takes
 * one snapshot (hc_stats, then RocksDB's properties) and reports the table's rows in
 * order, skipping the store's rows in cache-only mode. Adding a metric is adding a row:
 * no public struct changes. Names are part of the contract (hotcache.h): never rename a
 * published one; add a new one and keep the old.
 *
 * Threads: any thread, concurrently with anything but hc_close (as hc_stats). No
 * allocation: the Prometheus text is written straight into the caller's buffer.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "backing/backing.h"
#include "cache/cache.h"
#include "cache/error.h"

enum src {
	SRC_STATS,   /* a uint64_t of struct hc_stats */
	SRC_STORE,   /* a uint64_t of struct backing_memory; only with a store */
	SRC_KS,      /* a uint64_t of struct hc_stats, key-state and KERI escrow figures; only
	              * with a store (KERI needs one) */
	SRC_SECONDS, /* a nanosecond field of struct hc_stats, reported in seconds */
	SRC_INFO     /* the constant 1, with labels */
};

struct metric_def {
	const char *name;
	int type;
	int src;
	size_t off;
	const char *help;
};

#define C HC_METRIC_COUNTER
#define G HC_METRIC_GAUGE
#define ST(f) SRC_STATS, offsetof(struct hc_stats, f)
#define KS(f) SRC_KS, offsetof(struct hc_stats, f)
#define BM(f) SRC_STORE, offsetof(struct backing_memory, f)

static const struct metric_def defs[] = {
	{"hotcache_build_info", G, SRC_INFO, 0, "The library's version (the label); always 1."},
	{"hotcache_hits_total", C, ST(hits), "Payload reads served from memory."},
	{"hotcache_misses_total", C, ST(misses), "Payload reads not found in memory."},
	{"hotcache_inserts_total", C, ST(inserts), "Entries installed in memory."},
	{"hotcache_evictions_total", C, ST(evictions), "Entries evicted by the policy."},
	{"hotcache_deletes_total", C, ST(deletes), "Entries removed by a delete or replaced by a write."},
	{"hotcache_not_cached_total", C, ST(not_cached), "Values stored or loaded but not kept in memory (too large, or memory pressure)."},
	{"hotcache_loads_total", C, ST(loads), "Payload misses loaded from the backing store."},
	{"hotcache_load_waits_total", C, ST(load_waits), "Misses that waited for another thread's load of the same key."},
	{"hotcache_load_not_found_total", C, ST(load_not_found), "Payload loads that found no value in the store."},
	{"hotcache_load_failures_total", C, ST(load_failures), "Payload loads that failed: I/O error, corrupt record or out of memory."},
	{"hotcache_load_seconds_total", C, SRC_SECONDS, offsetof(struct hc_stats, load_nanos), "Time spent in payload loads, summed over threads; divide by hotcache_loads_total for the mean."},
	{"hotcache_corrupt_records_total", C, ST(corrupt), "Records at rest that failed to open; nothing from them was served."},
	{"hotcache_entries", G, ST(entries), "Payload entries in memory."},
	{"hotcache_accounted_bytes", G, ST(accounted_bytes), "Bytes the cache accounts against its limit: entries, metadata, key states and retired bytes."},
	{"hotcache_retired_bytes", G, ST(retired_bytes), "Bytes removed from the cache but not yet reclaimed."},
	{"hotcache_metadata_bytes", G, ST(metadata_bytes), "Bytes of index tables and shard structures."},
	{"hotcache_memory_limit_bytes", G, ST(memory_limit), "cache.memory_limit."},
	{"hotcache_slack_bytes", G, ST(slack_bytes), "The documented bound on accounted bytes above the limit."},
	{"hotcache_shards", G, ST(shards), "Shards of the cache."},
	{"hotcache_keystate_hits_total", C, KS(keystate_hits), "Key-state reads served from memory."},
	{"hotcache_keystate_misses_total", C, KS(keystate_misses), "Key-state reads not found in memory (loaded from the store, or unknown)."},
	{"hotcache_keystate_evictions_total", C, KS(keystate_evictions), "Key states evicted by the policy."},
	{"hotcache_keystate_entries", G, KS(keystate_entries), "Key states in memory."},
	{"hotcache_keri_escrowed_total", C, KS(escrowed), "KERI events and receipts put in the escrow (out of order, partially signed or witnessed, awaiting a delegator's anchor or their event)."},
	{"hotcache_keri_promoted_total", C, KS(promoted), "Escrowed KERI events accepted, or escrowed receipts stored, later."},
	{"hotcache_keri_escrow_expired_total", C, KS(expired), "Escrow entries dropped after keri.escrow_timeout."},
	{"hotcache_keri_escrow_evicted_total", C, KS(escrow_evicted), "Escrow entries dropped, oldest first, to stay within keri.escrow_limit."},
	{"hotcache_keri_escrow_bytes", G, KS(escrow_bytes), "Bytes in the KERI escrow now, counted against keri.escrow_limit."},
	{"hotcache_keri_escrow_entries", G, KS(escrow_entries), "Entries in the KERI escrow now."},
	{"hotcache_rocksdb_memtable_bytes", G, BM(memtables), "RocksDB memtables, all column families, including those being flushed."},
	{"hotcache_rocksdb_table_readers_bytes", G, BM(table_readers), "RocksDB table readers' memory outside the block cache."},
	{"hotcache_rocksdb_block_cache_capacity_bytes", G, BM(block_cache_capacity), "RocksDB block cache capacity (backing.block_cache)."},
	{"hotcache_rocksdb_block_cache_usage_bytes", G, BM(block_cache_usage), "RocksDB block cache usage, index and filter blocks included."},
	{"hotcache_rocksdb_block_cache_pinned_bytes", G, BM(block_cache_pinned), "RocksDB block cache entries pinned by readers."},
	{"hotcache_rocksdb_sst_bytes", G, BM(sst_bytes), "RocksDB live SST files on disk, all column families."},
};

#undef C
#undef G

struct snap {
	struct hc_stats st;
	struct backing_memory bm;
	int have_store;
	char version[48];
};

static uint64_t u64_at(const void *base, size_t off)
{
	uint64_t v;
	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

static int take(hc_cache *c, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	cache_stats_quiet(c, &s->st);
	s->have_store = c->backing != NULL;
	if (s->have_store)
		backing_memory(c->backing, &s->bm);
	snprintf(s->version, sizeof(s->version), "version=\"%s\"", hc_version(NULL, NULL, NULL));
	return 0;
}

/* Fills m from row d; 0 if the row does not apply to this cache. */
static int fill(const struct snap *s, const struct metric_def *d, struct hc_metric *m)
{
	*m = (struct hc_metric){.size = sizeof(*m), .name = d->name, .help = d->help,
	                        .type = d->type};
	switch (d->src) {
	case SRC_STATS:
		/* shards is the one uint32_t field. */
		m->value = d->off == offsetof(struct hc_stats, shards) ? (double)s->st.shards
		                                                        : (double)u64_at(&s->st, d->off);
		return 1;
	case SRC_KS:
		if (!s->have_store)
			return 0;
		m->value = (double)u64_at(&s->st, d->off);
		return 1;
	case SRC_STORE:
		if (!s->have_store)
			return 0;
		m->value = (double)u64_at(&s->bm, d->off);
		return 1;
	case SRC_SECONDS:
		m->value = (double)u64_at(&s->st, d->off) / 1e9;
		return 1;
	default: /* SRC_INFO */
		m->labels = s->version;
		m->value = 1;
		return 1;
	}
}

int hc_metrics_foreach(hc_cache *c, hc_metric_fn fn, void *arg)
{
	if (c == NULL || fn == NULL)
		return hc_error_ret(HC_EINVAL, "hc_metrics_foreach: NULL argument");
	struct snap s;
	int rc = take(c, &s);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		struct hc_metric m;
		if (fill(&s, &defs[i], &m) && (rc = fn(&m, arg)) != 0)
			return rc;
	}
	return 0;
}

/* ---- Prometheus text ---------------------------------------------------------------- */

struct out {
	char *buf;
	size_t cap, len; /* len counts what would have been written */
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *at = o->len < o->cap ? o->buf + o->len : NULL;
	int n = vsnprintf(at, at != NULL ? o->cap - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static int prom_one(const struct hc_metric *m, void *arg)
{
	struct out *o = arg;
	put(o, "# HELP %s %s\n# TYPE %s %s\n%s", m->name, m->help, m->name,
	    m->type == HC_METRIC_COUNTER ? "counter" : "gauge", m->name);
	if (m->labels != NULL)
		put(o, "{%s}", m->labels);
	/* Whole numbers in full (counters of bytes exceed %g's 6 digits); the rest with 9. */
	if (m->value == floor(m->value) && fabs(m->value) < 0x1p53)
		put(o, " %.0f\n", m->value);
	else
		put(o, " %.9g\n", m->value);
	return 0;
}

int hc_stats_prometheus(hc_cache *c, char *buf, size_t cap, size_t *len)
{
	if (c == NULL || len == NULL || (buf == NULL && cap > 0))
		return hc_error_ret(HC_EINVAL, "hc_stats_prometheus: NULL argument");
	struct out o = {buf, cap, 0};
	int rc = hc_metrics_foreach(c, prom_one, &o);
	if (rc != 0)
		return rc;
	*len = o.len;
	if (o.len >= cap)
		return hc_error_ret(HC_ERANGE, "hc_stats_prometheus: %zu bytes needed, %zu given",
		                    o.len + 1, cap);
	return 0;
}
