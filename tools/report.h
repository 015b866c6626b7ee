/*
 * The results of `hotcache load` and their forms: the text report, --json, --csv and
 * (plot.c) --plot. Everything here runs on the main thread after the workers stopped.
 */
#ifndef HC_TOOLS_REPORT_H
#define HC_TOOLS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "tools/hist.h"

enum load_kind { K_READ, K_KEYSTATE, K_WRITE, K_APPEND, K_COUNT };
extern const char *const load_kind_name[K_COUNT];

/* One status sample (about one second). */
struct load_sample {
	double t, dt;                 /* end of the interval since the phase began; length */
	uint64_t ops[K_COUNT];        /* operations completed in the interval */
	uint64_t p99[K_COUNT];        /* interval p99, ns (0: none) */
	double hit_ratio;             /* payload hits / lookups in the interval (-1: none) */
	uint64_t accounted, rss;
};

/* RocksDB's own figures over a phase; have = 0 when they could not be read. */
struct load_rocks {
	int have;
	double ingest_mb;            /* user bytes written (RocksDB's "ingest") */
	uint64_t wal_writes, wal_syncs;
	double stall_s, stall_pct;   /* write stalls */
	uint64_t sst_bytes, memtable_bytes, block_cache_bytes; /* at the end */
};

struct load_phase {
	const char *mode;             /* "cache" or "bypass" */
	double seconds;
	int interrupted;
	uint64_t ops[K_COUNT], errors[K_COUNT];
	struct hist lat[K_COUNT];     /* merged over the threads */
	uint64_t hits, misses, ks_hits, ks_misses, evictions, ks_evictions, loads;
	uint64_t accounted_peak, rss_peak, rss_start;
	double kel_len;               /* mean events per KEL when the phase began */
	struct load_rocks rocks;
	struct load_sample *samples;
	size_t nsamples, capsamples;
	char first_error[256];
};

/* The JSON report's "schema_version" (report_json). */
#define LOAD_REPORT_SCHEMA 1

struct load_report {
	/* the setup */
	uint64_t ids, payloads, ops_limit, seed;
	double seconds_limit, zipf;
	unsigned threads;
	unsigned mix[K_COUNT];
	char size_dist[64], durability[8], store[1100], read_api[16];
	uint64_t memory_limit, slack, max_entry;
	uint32_t shards;
	/* the preload */
	double preload_s;
	uint64_t preload_bytes, kel_events;
	/* the runs: [0] cache, [1] bypass with --compare */
	struct load_phase run[2];
	int nruns;
};

void report_text(FILE *f, const struct load_report *r);
/* Return 0, or -1 with errno set (the caller names the file). */
int report_json(const char *path, const struct load_report *r);
int report_csv(const char *path, const struct load_report *r);
/* plot.c: 0, or -1 after writing a one-line reason into err. */
int report_plot(const char *path, const struct load_report *r, char *err, size_t errlen);
/* 1 when a gnuplot executable is on PATH. */
int report_have_gnuplot(void);

/* "1.23 us", "45.6 ms": ns in a human unit. */
void report_fmt_ns(char *buf, size_t cap, double ns);
/* "256.0 MiB". */
void report_fmt_bytes(char *buf, size_t cap, double b);

#endif
