/*
 * backing/memory.c: what RocksDB holds in memory now, for the cache's stats and for
 * checking the budget split; RocksDB's properties for diagnostics and
 * tools (hc_store_property) (store.c explains the split). Figures come from RocksDB's
 * own counters: memtables per family (rocksdb.cur-size-all-mem-tables, which includes
 * memtables waiting to be flushed), table readers outside the block cache
 * (rocksdb.estimate-table-readers-mem) and the block cache's usage and pinned part.
 *
 * Threads: any thread, concurrently with anything but open/close. A snapshot, not an
 * atomic cut.
 */
#define BACKING_INTERNAL
#include "backing/backing.h"

#include <string.h>

static uint64_t sum_property(const struct backing *b, const char *name)
{
	uint64_t total = 0, v;
	int i;

	for (i = 0; i < BACKING_NCF; i++) {
		v = 0;
		if (rocksdb_property_int_cf(b->db, b->cf[i], name, &v) == 0)
			total += v;
	}
	return total;
}

void backing_memory(const struct backing *b, struct backing_memory *m)
{
	memset(m, 0, sizeof(*m));
	m->memtables = sum_property(b, "rocksdb.cur-size-all-mem-tables");
	m->table_readers = sum_property(b, "rocksdb.estimate-table-readers-mem");
	m->sst_bytes = sum_property(b, "rocksdb.total-sst-files-size");
	if (b->cache != NULL) {
		m->block_cache_capacity = rocksdb_cache_get_capacity(b->cache);
		m->block_cache_usage = rocksdb_cache_get_usage(b->cache);
		m->block_cache_pinned = rocksdb_cache_get_pinned_usage(b->cache);
	}
}

char *backing_property(const struct backing *b, const char *name)
{
	return rocksdb_property_value(b->db, name);
}

void backing_property_free(char *s)
{
	rocksdb_free(s);
}
