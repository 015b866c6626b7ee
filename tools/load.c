/*
 * `hotcache load`: a node daemon's load on hotcache, with a live view, a report and plots.
 *
 * Setup: a config from defaults, --config and --set (tools/hotcache.c's cli_config); a
 * RocksDB store at --store DIR (kept) or in a fresh temporary directory (removed at the
 * end). Preload: --ids identifiers with signed KELs (tools/kelgen.c), appended with
 * hc_kel_append (every event must be accepted), and --payloads payloads written with
 * hc_put, sizes from --size-dist. Both by a pool of threads, since with sync durability
 * each write waits for an fsync and RocksDB's group commit shares one among the writers
 * that wait together.
 *
 * Run: --threads workers, closed loop, each drawing the next operation from --mix:
 *   read      payload read (hc_read, or hc_get with --read-api get), Zipf keys
 *   keystate  hc_keystate_get of one of the worker's identifiers (uniform)
 *   write     hc_put of a fresh value to a uniformly chosen payload key
 *   append    the next ixn event of one of the worker's identifiers (hc_kel_append)
 * Each worker owns the identifiers i with i % threads == worker, so its appends to an
 * identifier are in order and its key-state reads never race its own appends. Every
 * operation is timed into the worker's log-bucketed histogram (tools/hist.c); the main
 * thread merges them once a second for the status line and at the end for the report.
 *
 * --compare runs the same operation sequence (same seeds) a second time with the cache
 * bypassed for reads: payload reads are RocksDB get + unseal (hc_store_get on the
 * cache's own store), key-state reads replay the KEL from
 * the store (hc_kel_verify); writes and appends are unchanged.
 *
 * Ctrl-C (SIGINT) or SIGTERM sets the stop flag: the workers finish their operation, the
 * report covers what ran, and the exit status is 130. A second Ctrl-C kills (the handler
 * is reset on first use).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "hotcache.h"
#include "tools/cli.h"
#include "tools/hist.h"
#include "tools/kelgen.h"
#include "tools/report.h"
#include "tools/zipf.h"

#define PRELOAD_THREADS_SYNC 16 /* fsync-bound: more waiters, fewer fsyncs */
#define KEY_LEN 13               /* "pl:" + 10 digits */

/* ---- options ------------------------------------------------------------------------ */

enum size_kind { SIZE_LOGNORMAL, SIZE_FIXED, SIZE_UNIFORM };

struct opts {
	uint64_t ids, payloads, ops, seed;
	double seconds, zipf;
	int seconds_set;
	unsigned threads;
	unsigned mix[K_COUNT];
	int size_kind;
	uint64_t size_lo, size_hi;
	int compare, use_get;
	const char *plot, *json, *csv;
};

static const char help_text[] =
	"usage: hotcache load [options]\n"
	"  --config FILE        config file (INI); --set section.key=value (repeatable)\n"
	"  --store DIR          RocksDB store to use and keep (default: a temporary one)\n"
	"  --ids N              identifiers with signed KELs to preload (1000)\n"
	"  --payloads N         payloads to preload (20000)\n"
	"  --size-dist D        lognormal | lognormal:A-B | fixed:N | uniform:A-B\n"
	"                       (sizes as in the config: 512, 4 KiB, 1.5 MiB; the default\n"
	"                       is lognormal:256-64 KiB)\n"
	"  --threads N          worker threads (2)\n"
	"  --seconds S          run length (20); --ops N stops after N operations instead\n"
	"  --mix SPEC           weights, e.g. read=80,keystate=10,write=5,append=5\n"
	"  --zipf S             payload key skew (0.99; 0 = uniform)\n"
	"  --read-api read|get  payload reads through hc_read (zero copy) or hc_get\n"
	"  --seed N             workload seed (1)\n"
	"  --compare            run again with the cache bypassed and print the speedup\n"
	"  --json FILE, --csv FILE, --plot FILE.png   write the report (plots need gnuplot)\n"
	"exit status: 0 done, 1 an operation or the store failed, 2 bad arguments or\n"
	"configuration, 130 interrupted (the report covers what ran)\n";

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line on stderr; returns 2, the exit status of bad arguments. */
static int bad(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "hotcache load: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 2;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (s == NULL || *s == '\0' || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* A byte count in the config's units (hc_parse_size: "512", "4 KiB", "1.5 MiB"). */
static int parse_size(const char *s, size_t n, uint64_t *out)
{
	char buf[32];
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return hc_parse_size(buf, out) == 0 ? 0 : -1;
}

static int parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	const char *dash = strchr(s, '-');
	if (dash == NULL || parse_size(s, (size_t)(dash - s), lo) != 0 ||
	    parse_size(dash + 1, strlen(dash + 1), hi) != 0)
		return -1;
	return *lo >= 1 && *lo <= *hi ? 0 : -1;
}

#define SIZE_MAX_VALUE (16u << 20)

static int parse_size_dist(struct opts *o, const char *v)
{
	int rc = -1;
	if (strcmp(v, "lognormal") == 0) {
		o->size_kind = SIZE_LOGNORMAL, o->size_lo = 256, o->size_hi = 64 << 10;
		rc = 0;
	} else if (strncmp(v, "lognormal:", 10) == 0) {
		o->size_kind = SIZE_LOGNORMAL;
		rc = parse_range(v + 10, &o->size_lo, &o->size_hi);
	} else if (strncmp(v, "uniform:", 8) == 0) {
		o->size_kind = SIZE_UNIFORM;
		rc = parse_range(v + 8, &o->size_lo, &o->size_hi);
	} else if (strncmp(v, "fixed:", 6) == 0) {
		o->size_kind = SIZE_FIXED;
		rc = parse_size(v + 6, strlen(v + 6), &o->size_lo);
		o->size_hi = o->size_lo;
		if (rc == 0 && o->size_lo == 0)
			rc = -1;
	}
	return rc == 0 && o->size_hi <= SIZE_MAX_VALUE ? 0 : -1;
}

static int parse_mix(struct opts *o, const char *v)
{
	unsigned mix[K_COUNT] = {0}, total = 0;
	char buf[256];
	if (strlen(v) >= sizeof(buf))
		return -1;
	strcpy(buf, v);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');
		uint64_t w;
		int k;
		if (eq == NULL)
			return -1;
		*eq = '\0';
		for (k = 0; k < K_COUNT && strcmp(t, load_kind_name[k]) != 0; k++)
			;
		if (k == K_COUNT || parse_u64(eq + 1, &w) != 0 || w > 1000000)
			return -1;
		mix[k] = (unsigned)w;
		total += (unsigned)w;
	}
	if (total == 0)
		return -1;
	memcpy(o->mix, mix, sizeof(mix));
	return 0;
}

enum opt_id { O_IDS, O_PAYLOADS, O_THREADS, O_OPS, O_SEED, O_SECONDS, O_ZIPF, O_MIX,
              O_SIZE, O_API, O_JSON, O_CSV, O_PLOT, O_COUNT };
static const char *const opt_name[O_COUNT] = {
	"--ids", "--payloads", "--threads", "--ops", "--seed", "--seconds", "--zipf", "--mix",
	"--size-dist", "--read-api", "--json", "--csv", "--plot"};

static int set_integer(struct opts *o, int id, const char *a, const char *v)
{
	static const uint64_t max[] = {[O_IDS] = 100000000, [O_PAYLOADS] = 1000000000,
	                               [O_THREADS] = 1024, [O_OPS] = UINT64_MAX,
	                               [O_SEED] = UINT64_MAX};
	uint64_t n;
	if (parse_u64(v, &n) != 0 || (n == 0 && id != O_SEED) || n > max[id])
		return bad("%s wants an integer from %d to %llu, not '%s'", a, id != O_SEED,
		           (unsigned long long)max[id], v);
	if (id == O_IDS)
		o->ids = n;
	else if (id == O_PAYLOADS)
		o->payloads = n;
	else if (id == O_THREADS)
		o->threads = (unsigned)n;
	else if (id == O_OPS)
		o->ops = n;
	else
		o->seed = n;
	return 0;
}

static int set_opt(struct opts *o, int id, const char *a, const char *v)
{
	char *end;
	double d;
	switch (id) {
	case O_SECONDS:
	case O_ZIPF:
		d = strtod(v, &end);
		if (*end != '\0' || !(d >= 0) || d > 1e7 || (id == O_SECONDS && d <= 0))
			return bad("%s wants a positive number, not '%s'", a, v);
		if (id == O_SECONDS)
			o->seconds = d, o->seconds_set = 1;
		else
			o->zipf = d;
		return 0;
	case O_MIX:
		return parse_mix(o, v) == 0 ? 0 : bad("bad --mix '%s': want kind=weight,... with "
		                                      "kinds read, keystate, write, append", v);
	case O_SIZE:
		return parse_size_dist(o, v) == 0
		               ? 0
		               : bad("bad --size-dist '%s': want lognormal, lognormal:A-B, fixed:N "
		                     "or uniform:A-B with 1 <= A <= B <= 16 MiB", v);
	case O_API:
		if (strcmp(v, "read") != 0 && strcmp(v, "get") != 0)
			return bad("--read-api wants read or get, not '%s'", v);
		o->use_get = strcmp(v, "get") == 0;
		return 0;
	case O_JSON:
		o->json = v;
		return 0;
	case O_CSV:
		o->csv = v;
		return 0;
	case O_PLOT:
		o->plot = v;
		return 0;
	default:
		return set_integer(o, id, a, v);
	}
}

/* Returns 0, 1 after --help (exit 0), or 2 after a one-line error. */
static int parse_opts(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){.ids = 1000, .payloads = 20000, .seconds = 20, .zipf = 0.99,
	                   .threads = 2, .mix = {80, 10, 5, 5}, .seed = 1,
	                   .size_kind = SIZE_LOGNORMAL, .size_lo = 256, .size_hi = 64 << 10};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int id;
		if (strcmp(a, "--compare") == 0) {
			o->compare = 1;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(help_text, stdout);
			return 1;
		}
		if (strncmp(a, "--", 2) != 0)
			return bad("unexpected argument '%s' (see hotcache load --help)", a);
		for (id = 0; id < O_COUNT && strcmp(a, opt_name[id]) != 0; id++)
			;
		if (id == O_COUNT)
			return bad("unknown option '%s' (see hotcache load --help)", a);
		if (i + 1 >= argc)
			return bad("%s needs a value", a);
		int rc = set_opt(o, id, a, argv[++i]);
		if (rc != 0)
			return rc;
	}
	if (o->ops != 0 && !o->seconds_set)
		o->seconds = 0; /* --ops alone: run until done */
	if ((o->mix[K_KEYSTATE] || o->mix[K_APPEND]) && o->ids < o->threads)
		return bad("--ids must be at least --threads (each thread owns identifiers)");
	if (o->plot != NULL && !report_have_gnuplot())
		return bad("--plot needs gnuplot, which is not installed (apt-get install "
		           "gnuplot-nox)");
	return 0;
}

/* ---- the run's shared state ----------------------------------------------------------- */

static atomic_int g_stop;
static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	g_interrupted = 1;
	atomic_store_explicit(&g_stop, 1, memory_order_relaxed);
}

struct load {
	struct opts o;
	hc_cache *c;
	int durability;            /* backing.durability */
	char (*keys)[24];          /* payload keys */
	struct kelgen_id *idv;     /* identifiers */
	unsigned char *data;       /* random bytes that values are cut from */
	size_t datalen;
	struct zipf zipf;
	double ln_mu, ln_sigma;
	struct load_report rep;
	int tty;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
	                      .tv_nsec = (long)(ns % 1000000000u)};
	nanosleep(&ts, NULL);
}

static uint64_t rss_bytes(void)
{
	unsigned long size, res;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL)
		return 0;
	int n = fscanf(f, "%lu %lu", &size, &res);
	fclose(f);
	return n == 2 ? (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

static size_t value_size(const struct load *L, struct bench_rng *r)
{
	const struct opts *o = &L->o;
	if (o->size_kind == SIZE_FIXED)
		return o->size_lo;
	if (o->size_kind == SIZE_UNIFORM)
		return o->size_lo + bench_rng_below(r, o->size_hi - o->size_lo + 1);
	for (;;) { /* log-normal, +-3 sigma spans [lo, hi]; redraw outside */
		double u1 = bench_rng_double(r), u2 = bench_rng_double(r);
		double z = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
		double v = exp(L->ln_mu + L->ln_sigma * z);
		if (v >= (double)o->size_lo && v <= (double)o->size_hi)
			return (size_t)v;
	}
}

static const unsigned char *value_bytes(const struct load *L, struct bench_rng *r)
{
	return L->data + bench_rng_below(r, 4096);
}

/* ---- RocksDB's figures -------------------------------------------------------------------- */

/* "12K" style counts in RocksDB's stats text (K, M, G = powers of 1000). */
static uint64_t human_count(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (*end == 'K')
		v *= 1e3;
	else if (*end == 'M')
		v *= 1e6;
	else if (*end == 'G')
		v *= 1e9;
	return (uint64_t)v;
}

/*
 * Reads rocksdb.dbstats. Its "Interval" lines cover the time since the previous read of
 * the property, so one read at the start of a phase and one at its end give the phase.
 */
static int rocks_dbstats(hc_cache *c, struct load_rocks *r)
{
	static char buf[1 << 16]; /* the main thread's only; the text is a few KiB */
	size_t len;
	if (hc_store_property(c, "rocksdb.dbstats", buf, sizeof(buf), &len) != 0)
		return -1;
	const char *s = buf;
	int got = 0;
	char w1[32], w2[32];
	double x, y;
	int hh, mm;
	const char *p;
	if ((p = strstr(s, "Interval writes:")) != NULL &&
	    sscanf(p, "Interval writes: %31s writes, %*s keys, %*s commit groups, %lf writes per "
	              "commit group, ingest: %lf MB", w1, &x, &y) == 3) {
		r->ingest_mb = y;
		got++;
	}
	if ((p = strstr(s, "Interval WAL:")) != NULL &&
	    sscanf(p, "Interval WAL: %31s writes, %31s syncs", w1, w2) == 2) {
		/* (its "written" figure is in GB with two decimals: too coarse to report) */
		r->wal_writes = human_count(w1);
		r->wal_syncs = human_count(w2);
		got++;
	}
	if ((p = strstr(s, "Interval stall:")) != NULL &&
	    sscanf(p, "Interval stall: %d:%d:%lf H:M:S, %lf percent", &hh, &mm, &x, &y) == 4) {
		r->stall_s = hh * 3600.0 + mm * 60.0 + x;
		r->stall_pct = y;
		got++;
	}
	return got == 3 ? 0 : -1;
}

/* The store's sizes, from the public metrics. */
static int rocks_metric(const struct hc_metric *m, void *arg)
{
	struct load_rocks *r = arg;
	if (strcmp(m->name, "hotcache_rocksdb_sst_bytes") == 0)
		r->sst_bytes = (uint64_t)m->value;
	else if (strcmp(m->name, "hotcache_rocksdb_memtable_bytes") == 0)
		r->memtable_bytes = (uint64_t)m->value;
	else if (strcmp(m->name, "hotcache_rocksdb_block_cache_usage_bytes") == 0)
		r->block_cache_bytes = (uint64_t)m->value;
	return 0;
}

static void rocks_end(hc_cache *c, struct load_rocks *r)
{
	memset(r, 0, sizeof(*r));
	if (rocks_dbstats(c, r) != 0 || hc_metrics_foreach(c, rocks_metric, r) != 0)
		return;
	r->have = 1;
}

static void rocks_begin(hc_cache *c)
{
	struct load_rocks scratch;
	(void)rocks_dbstats(c, &scratch);
}

/* ---- preload -------------------------------------------------------------------------- */

struct preload {
	struct load *L;
	_Atomic uint64_t next_id, next_payload, ids_done, payloads_done, bytes;
	atomic_int failed;
	pthread_mutex_t mu;
	char err[256];
};

static void preload_fail(struct preload *p, const char *what, int rc)
{
	pthread_mutex_lock(&p->mu);
	if (!atomic_load(&p->failed))
		snprintf(p->err, sizeof(p->err), "%s: %s (%s)", what, hc_strerror(rc), hc_last_error());
	atomic_store(&p->failed, 1);
	pthread_mutex_unlock(&p->mu);
}

static int preload_id(struct preload *p, uint64_t i)
{
	struct load *L = p->L;
	char buf[KELGEN_PRELOAD * KELGEN_MSG_MAX];
	size_t off[KELGEN_PRELOAD + 1];
	struct kelgen_id *id = &L->idv[i];
	if (kelgen_preload(id, L->o.seed, i, buf, sizeof(buf), off) == 0) {
		preload_fail(p, "KEL generation", HC_ENOMEM);
		return -1;
	}
	for (int e = 0; e < KELGEN_PRELOAD; e++) {
		size_t used;
		int rc = hc_kel_append(L->c, buf + off[e], off[e + 1] - off[e], &used);
		if (rc != 0) {
			preload_fail(p, "preload hc_kel_append", rc);
			return -1;
		}
	}
	/* A kept store may hold a longer KEL from an earlier run: continue from it. */
	struct hc_keystate ks;
	if (hc_keystate_get(L->c, id->pre, &ks) == 0 && ks.sn > id->sn && ks.nkeys > 0 &&
	    !kelgen_resume(id, ks.sn, ks.said, ks.keys[0])) {
		preload_fail(p, "the stored KEL was not made by this generator", HC_EINVAL);
		return -1;
	}
	return 0;
}

static void *preload_main(void *arg)
{
	struct preload *p = arg;
	struct load *L = p->L;
	uint64_t i;
	while (!atomic_load_explicit(&g_stop, memory_order_relaxed) && !atomic_load(&p->failed) &&
	       (i = atomic_fetch_add(&p->next_id, 1)) < L->o.ids) {
		if (preload_id(p, i) != 0)
			break;
		atomic_fetch_add(&p->ids_done, 1);
	}
	while (!atomic_load_explicit(&g_stop, memory_order_relaxed) && !atomic_load(&p->failed) &&
	       (i = atomic_fetch_add(&p->next_payload, 1)) < L->o.payloads) {
		struct bench_rng r;
		bench_rng_seed(&r, L->o.seed * 0x9E3779B97F4A7C15u + i);
		size_t n = value_size(L, &r);
		int rc = hc_put(L->c, L->keys[i], KEY_LEN, value_bytes(L, &r), n);
		if (rc != 0) {
			preload_fail(p, "preload hc_put", rc);
			break;
		}
		atomic_fetch_add(&p->bytes, n);
		atomic_fetch_add(&p->payloads_done, 1);
	}
	hc_thread_detach(L->c);
	return NULL;
}

static void live_line(const struct load *L, char *line, int last);

static void progress(const struct load *L, struct preload *p, double t, int last)
{
	uint64_t ids = atomic_load(&p->ids_done), pl = atomic_load(&p->payloads_done);
	uint64_t total = L->o.ids + L->o.payloads, done = ids + pl;
	double frac = total ? (double)done / (double)total : 1;
	char mb[32];
	report_fmt_bytes(mb, sizeof(mb), (double)atomic_load(&p->bytes));
	if (L->tty) {
		char bar[31], line[256];
		int fill = (int)(frac * 30);
		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = '\0';
		snprintf(line, sizeof(line), "preload [%s] %3.0f%% %.1fs  KELs %llu/%llu  payloads "
		         "%llu/%llu (%s)", bar, 100 * frac, t, (unsigned long long)ids,
		         (unsigned long long)L->o.ids, (unsigned long long)pl,
		         (unsigned long long)L->o.payloads, mb);
		live_line(L, line, last);
	} else {
		fprintf(stderr, "preload: %3.0f%%, KELs %llu/%llu, payloads %llu/%llu (%s), %.1f s\n",
		        100 * frac, (unsigned long long)ids, (unsigned long long)L->o.ids,
		        (unsigned long long)pl, (unsigned long long)L->o.payloads, mb, t);
	}
}

/* Returns 0, 1 (a failure, printed) or 130 (interrupted). */
static int preload(struct load *L)
{
	struct preload p = {.L = L};
	pthread_mutex_init(&p.mu, NULL);
	unsigned n = L->o.threads;
	if (L->durability == HC_DURABILITY_SYNC && n < PRELOAD_THREADS_SYNC)
		n = PRELOAD_THREADS_SYNC;
	pthread_t th[1024];
	unsigned started = 0;
	uint64_t t0 = now_ns(), next_print = t0 + (L->tty ? 200000000u : 2000000000u);
	for (; started < n; started++)
		if (pthread_create(&th[started], NULL, preload_main, &p) != 0)
			break;
	for (;;) {
		uint64_t done = atomic_load(&p.ids_done) + atomic_load(&p.payloads_done);
		int over = done >= L->o.ids + L->o.payloads || atomic_load(&p.failed) ||
		           atomic_load(&g_stop) || started == 0;
		uint64_t t = now_ns();
		if (!over && t >= next_print) {
			progress(L, &p, (double)(t - t0) / 1e9, 0);
			next_print = t + (L->tty ? 200000000u : 2000000000u);
		}
		if (over)
			break;
		sleep_ns(50000000u);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	L->rep.preload_s = (double)(now_ns() - t0) / 1e9;
	progress(L, &p, L->rep.preload_s, 1);
	L->rep.preload_bytes = atomic_load(&p.bytes);
	for (uint64_t i = 0; i < L->o.ids; i++)
		L->rep.kel_events += L->idv[i].pre[0] ? L->idv[i].sn + 1 : 0;
	pthread_mutex_destroy(&p.mu);
	if (atomic_load(&p.failed)) {
		fprintf(stderr, "hotcache load: %s\n", p.err);
		return 1;
	}
	if (started == 0) {
		fprintf(stderr, "hotcache load: cannot start threads\n");
		return 1;
	}
	return g_interrupted ? 130 : 0;
}

/* ---- workers -------------------------------------------------------------------------- */

struct worker {
	struct hist lat[K_COUNT];    /* first: large, written only by this worker */
	_Atomic uint64_t ops[K_COUNT], errors[K_COUNT];
	pthread_t th;
	struct load *L;
	unsigned idx;
	int bypass;
	uint64_t quota;              /* operations to run, 0 = until stopped */
	atomic_int done;
	unsigned char *buf;          /* payload copies (hc_get, bypass reads) */
	size_t bufcap;
	uint64_t sink;
	struct hc_keystate ks;
	char err[256];
};

static void read_cb(const void *val, size_t vlen, void *arg)
{
	const unsigned char *v = val;
	*(uint64_t *)arg += vlen ? (uint64_t)v[0] + v[vlen - 1] + vlen : 0;
}

/* A payload read that bypasses the cache: RocksDB get + unseal. */
static int bypass_read(struct worker *w, const void *key)
{
	size_t plen;
	int rc = hc_store_get(w->L->c, key, KEY_LEN, w->buf, w->bufcap, &plen);
	if (rc == HC_ERANGE) {
		unsigned char *nb = realloc(w->buf, plen);
		if (nb == NULL)
			return HC_ENOMEM;
		w->buf = nb, w->bufcap = plen;
		rc = hc_store_get(w->L->c, key, KEY_LEN, w->buf, w->bufcap, &plen);
	}
	if (rc == 0)
		read_cb(w->buf, plen, &w->sink);
	return rc;
}

/* The worker's i-th identifier of its own, uniformly. */
static struct kelgen_id *own_id(struct worker *w, struct bench_rng *r)
{
	const struct opts *o = &w->L->o;
	uint64_t mine = (o->ids - w->idx + o->threads - 1) / o->threads;
	return &w->L->idv[w->idx + bench_rng_below(r, mine) * o->threads];
}

static int do_op(struct worker *w, int k, struct bench_rng *r)
{
	struct load *L = w->L;
	hc_cache *c = L->c;
	switch (k) {
	case K_READ: {
		const char *key = L->keys[zipf_next(&L->zipf, r)];
		if (w->bypass)
			return bypass_read(w, key);
		if (L->o.use_get) {
			size_t vlen;
			int rc = hc_get(c, key, KEY_LEN, w->buf, w->bufcap, &vlen);
			if (rc == 0)
				read_cb(w->buf, vlen, &w->sink);
			return rc;
		}
		return hc_read(c, key, KEY_LEN, read_cb, &w->sink);
	}
	case K_KEYSTATE: {
		struct kelgen_id *id = own_id(w, r);
		if (w->bypass) {
			uint64_t events;
			return hc_kel_verify(c, id->pre, &events);
		}
		return hc_keystate_get(c, id->pre, &w->ks);
	}
	case K_WRITE: {
		const char *key = L->keys[bench_rng_below(r, L->o.payloads)];
		size_t n = value_size(L, r);
		return hc_put(c, key, KEY_LEN, value_bytes(L, r), n);
	}
	default: {
		struct kelgen_id *id = own_id(w, r);
		char msg[KELGEN_MSG_MAX], said[45];
		size_t len = kelgen_ixn(id, msg, sizeof(msg), said), used;
		if (len == 0)
			return HC_ENOMEM;
		int rc = hc_kel_append(c, msg, len, &used);
		if (rc == 0)
			kelgen_advance(id, said);
		return rc;
	}
	}
}

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define ST(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct load *L = w->L;
	struct bench_rng r;
	unsigned total = 0, cut[K_COUNT];
	for (int k = 0; k < K_COUNT; k++)
		cut[k] = total += L->o.mix[k];
	bench_rng_seed(&r, L->o.seed * 1000003u + w->idx); /* the same in both runs */
	for (uint64_t n = 0; w->quota == 0 || n < w->quota; n++) {
		if (LD(g_stop))
			break;
		unsigned x = (unsigned)bench_rng_below(&r, total);
		int k = 0;
		while (x >= cut[k])
			k++;
		uint64_t t0 = now_ns();
		int rc = do_op(w, k, &r);
		hist_record(&w->lat[k], now_ns() - t0);
		ST(w->ops[k], LD(w->ops[k]) + 1);
		if (rc != 0) {
			if (LD(w->errors[k]) == 0 && w->err[0] == '\0')
				snprintf(w->err, sizeof(w->err), "%s: %s (%s)", load_kind_name[k],
				         hc_strerror(rc), hc_last_error());
			ST(w->errors[k], LD(w->errors[k]) + 1);
		}
	}
	hc_thread_detach(L->c);
	/* Release pairs with the acquire in all_done: the worker's counts and err are
	 * complete before the main thread reads them. */
	atomic_store_explicit(&w->done, 1, memory_order_release);
	return NULL;
}

/* ---- a phase: workers, the status line, the figures --------------------------------------- */

struct snap {
	struct hist lat[K_COUNT];
	uint64_t ops[K_COUNT];
	uint64_t hits, misses;
};

static void snapshot(struct worker **w, unsigned n, hc_cache *c, struct snap *s)
{
	for (int k = 0; k < K_COUNT; k++) {
		hist_reset(&s->lat[k]);
		s->ops[k] = 0;
		for (unsigned i = 0; i < n; i++) {
			hist_merge(&s->lat[k], &w[i]->lat[k]);
			s->ops[k] += LD(w[i]->ops[k]);
		}
	}
	struct hc_stats st;
	if (hc_stats(c, &st) == 0)
		s->hits = st.hits, s->misses = st.misses;
}

static void fmt_rate(char *buf, size_t cap, double v)
{
	if (v >= 1e6)
		snprintf(buf, cap, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, cap, "%.1fk", v / 1e3);
	else
		snprintf(buf, cap, "%.0f", v);
}

/* report_fmt_ns without the space ("2.1us"), for the status line. */
static void fmt_ns_compact(char *buf, size_t cap, double ns)
{
	char t[32], *o = buf;
	report_fmt_ns(t, sizeof t, ns);
	for (const char *p = t; *p && (size_t)(o - buf) + 1 < cap; p++)
		if (*p != ' ')
			*o++ = *p;
	*o = '\0';
}

/*
 * A live line on stderr: on a terminal it replaces the previous one and is cut to the
 * terminal's width (a wrapped line could not be erased by \r), otherwise one per call.
 */
static void live_line(const struct load *L, char *line, int last)
{
	if (!L->tty) {
		fprintf(stderr, "%s\n", line);
		return;
	}
	struct winsize ws;
	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && strlen(line) >= ws.ws_col)
		line[ws.ws_col - 1] = '\0';
	fprintf(stderr, "\r\033[K%s%s", line, last ? "\n" : "");
}

static void status_line(const struct load *L, const struct load_sample *s, const char *mode)
{
	static const char *const abbr[K_COUNT] = {"r", "ks", "w", "a"};
	char line[512], a[32];
	int n = snprintf(line, sizeof(line), "[%s %3.0fs] ops/s", mode, s->t);
	for (int k = 0; k < K_COUNT; k++)
		if (L->o.mix[k]) {
			fmt_rate(a, sizeof a, s->dt > 0 ? (double)s->ops[k] / s->dt : 0);
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %s", abbr[k], a);
		}
	if (s->hit_ratio >= 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " | hit %.1f%%", 100 * s->hit_ratio);
	n += snprintf(line + n, sizeof(line) - (size_t)n, " | p99");
	for (int k = 0; k < K_COUNT; k++)
		if (L->o.mix[k]) {
			fmt_ns_compact(a, sizeof a, (double)s->p99[k]);
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %s", abbr[k], a);
		}
	n += snprintf(line + n, sizeof(line) - (size_t)n, " | mem %.1f/%.0f MiB",
	              (double)s->accounted / 1048576.0, (double)L->rep.memory_limit / 1048576.0);
	snprintf(line + n, sizeof(line) - (size_t)n, " | rss %.0f MiB", (double)s->rss / 1048576.0);
	live_line(L, line, 0);
}

static void push_sample(struct load_phase *p, const struct load_sample *s)
{
	if (p->nsamples == p->capsamples) {
		size_t cap = p->capsamples ? 2 * p->capsamples : 64;
		struct load_sample *ns = realloc(p->samples, cap * sizeof(*ns));
		if (ns == NULL)
			return;
		p->samples = ns, p->capsamples = cap;
	}
	p->samples[p->nsamples++] = *s;
}

/* One interval sample from the previous snapshot to a new one (which becomes prev). */
static void sample(struct load *L, struct load_phase *p, struct worker **w, struct snap *prev,
                   struct snap *cur, double t, double dt, uint64_t accounted, uint64_t rss)
{
	struct load_sample s = {.t = t, .dt = dt, .accounted = accounted, .rss = rss};
	struct hist *d = malloc(sizeof(*d));
	snapshot(w, L->o.threads, L->c, cur);
	for (int k = 0; k < K_COUNT; k++) {
		s.ops[k] = cur->ops[k] - prev->ops[k];
		if (d != NULL) {
			hist_diff(d, &cur->lat[k], &prev->lat[k]);
			s.p99[k] = hist_percentile(d, 0.99);
		}
	}
	free(d);
	uint64_t h = cur->hits - prev->hits, m = cur->misses - prev->misses;
	s.hit_ratio = h + m ? (double)h / (double)(h + m) : -1;
	push_sample(p, &s);
	if (dt >= 0.2) /* the last, partial interval is kept but not shown */
		status_line(L, &s, p->mode);
	*prev = *cur;
}

struct cache_figs {
	struct hc_stats st;
};

static void figs(hc_cache *c, struct cache_figs *f)
{
	memset(f, 0, sizeof(*f));
	if (hc_stats(c, &f->st) != 0)
		memset(&f->st, 0, sizeof(f->st));
}

static int start_workers(struct load *L, struct worker **w, int bypass)
{
	const struct opts *o = &L->o;
	size_t cap = o->size_hi > 65536 ? o->size_hi : 65536;
	for (unsigned i = 0; i < o->threads; i++) {
		w[i] = calloc(1, sizeof(**w));
		if (w[i] != NULL && (w[i]->buf = malloc(cap)) == NULL) {
			free(w[i]);
			w[i] = NULL;
		}
		if (w[i] == NULL)
			return -1; /* w[0..i) run and are joined by the caller */
		w[i]->bufcap = cap;
		w[i]->L = L;
		w[i]->idx = i;
		w[i]->bypass = bypass;
		if (o->ops)
			w[i]->quota = o->ops / o->threads + (i < o->ops % o->threads);
		if (pthread_create(&w[i]->th, NULL, worker_main, w[i]) != 0) {
			free(w[i]->buf);
			free(w[i]);
			w[i] = NULL;
			return -1;
		}
	}
	return 0;
}

static int all_done(struct worker **w, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		/* Acquire pairs with the worker's release store of done. */
		if (!atomic_load_explicit(&w[i]->done, memory_order_acquire))
			return 0;
	return 1;
}

static void mem_sample(struct load *L, struct load_phase *p, uint64_t *acc, uint64_t *rss)
{
	struct hc_stats st;
	*acc = hc_stats(L->c, &st) == 0 ? st.accounted_bytes : 0;
	*rss = rss_bytes();
	if (*acc > p->accounted_peak)
		p->accounted_peak = *acc;
	if (*rss > p->rss_peak)
		p->rss_peak = *rss;
}

static void collect(struct load *L, struct load_phase *p, struct worker **w,
                    const struct cache_figs *f0)
{
	struct cache_figs f1;
	figs(L->c, &f1);
	for (unsigned i = 0; i < L->o.threads; i++) {
		for (int k = 0; k < K_COUNT; k++) {
			hist_merge(&p->lat[k], &w[i]->lat[k]);
			p->ops[k] += LD(w[i]->ops[k]);
			p->errors[k] += LD(w[i]->errors[k]);
		}
		if (p->first_error[0] == '\0' && w[i]->err[0] != '\0')
			snprintf(p->first_error, sizeof(p->first_error), "%s", w[i]->err);
	}
	p->hits = f1.st.hits - f0->st.hits;
	p->misses = f1.st.misses - f0->st.misses;
	p->evictions = f1.st.evictions - f0->st.evictions;
	p->loads = f1.st.loads - f0->st.loads;
	p->ks_hits = f1.st.keystate_hits - f0->st.keystate_hits;
	p->ks_misses = f1.st.keystate_misses - f0->st.keystate_misses;
	p->ks_evictions = f1.st.keystate_evictions - f0->st.keystate_evictions;
	rocks_end(L->c, &p->rocks);
}

static double mean_kel_len(const struct load *L)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < L->o.ids; i++)
		n += L->idv[i].sn + 1;
	return L->o.ids ? (double)n / (double)L->o.ids : 0;
}

/* Runs one phase into L->rep.run[L->rep.nruns]. Returns 0, or 1 if it could not start. */
static int run_phase(struct load *L, int bypass)
{
	struct load_phase *p = &L->rep.run[L->rep.nruns];
	unsigned n = L->o.threads;
	struct worker **w = calloc(n, sizeof(*w));
	struct snap *prev = calloc(1, sizeof(*prev)), *cur = calloc(1, sizeof(*cur));
	struct cache_figs f0;
	uint64_t acc, rss;
	int rc = 0;
	p->mode = bypass ? "bypass" : "cache";
	p->kel_len = mean_kel_len(L);
	if (w == NULL || prev == NULL || cur == NULL) {
		free(w), free(prev), free(cur);
		fprintf(stderr, "hotcache load: out of memory\n");
		return 1;
	}
	figs(L->c, &f0);
	prev->hits = f0.st.hits, prev->misses = f0.st.misses;
	rocks_begin(L->c);
	mem_sample(L, p, &acc, &rss);
	p->rss_start = rss;
	uint64_t t0 = now_ns(), tick = t0 + 1000000000u, last = t0;
	uint64_t end = L->o.seconds > 0 ? t0 + (uint64_t)(L->o.seconds * 1e9) : UINT64_MAX;
	if (start_workers(L, w, bypass) != 0) {
		fprintf(stderr, "hotcache load: cannot start the workers\n");
		atomic_store(&g_stop, 1);
		rc = 1;
	}
	for (;;) {
		uint64_t t = now_ns();
		if (rc != 0 || atomic_load(&g_stop) || t >= end || all_done(w, n))
			break;
		uint64_t wake = tick < end ? tick : end;
		sleep_ns(wake - t < 100000000u ? wake - t : 100000000u);
		t = now_ns();
		mem_sample(L, p, &acc, &rss);
		if (t >= tick) {
			sample(L, p, w, prev, cur, (double)(t - t0) / 1e9, (double)(t - last) / 1e9, acc, rss);
			last = t;
			tick += 1000000000u;
		}
	}
	atomic_store(&g_stop, 1);
	for (unsigned i = 0; i < n; i++)
		if (w[i] != NULL)
			pthread_join(w[i]->th, NULL);
	uint64_t t = now_ns();
	p->seconds = (double)(t - t0) / 1e9;
	p->interrupted = g_interrupted;
	mem_sample(L, p, &acc, &rss);
	if (rc == 0 && t > last) /* the tail: so the samples add up to the totals */
		sample(L, p, w, prev, cur, p->seconds, (double)(t - last) / 1e9, acc, rss);
	if (L->tty)
		fputc('\n', stderr);
	if (rc == 0)
		collect(L, p, w, &f0);
	for (unsigned i = 0; i < n; i++)
		if (w[i] != NULL) {
			free(w[i]->buf);
			free(w[i]);
		}
	free(w), free(prev), free(cur);
	if (!g_interrupted)
		atomic_store(&g_stop, 0);
	L->rep.nruns++;
	return rc;
}

/* ---- setup and teardown ----------------------------------------------------------------- */

/* The mean value size of --size-dist (log-normal: exp(mu + sigma^2 / 2), the +-3 sigma
 * truncation changes it by well under 1%). */
static double mean_value_size(const struct opts *o)
{
	if (o->size_kind == SIZE_FIXED)
		return (double)o->size_lo;
	if (o->size_kind == SIZE_UNIFORM)
		return 0.5 * ((double)o->size_lo + (double)o->size_hi);
	double mu = 0.5 * (log((double)o->size_lo) + log((double)o->size_hi));
	double sigma = (log((double)o->size_hi) - log((double)o->size_lo)) / 6.0;
	return exp(mu + 0.5 * sigma * sigma);
}

/* Free bytes on the filesystem of path, or of its nearest existing ancestor. */
static int free_disk(const char *path, uint64_t *out)
{
	char p[HC_PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		struct statvfs sv;
		if (statvfs(p[0] ? p : ".", &sv) == 0) {
			*out = (uint64_t)sv.f_bavail * sv.f_frsize;
			return 0;
		}
		char *slash = strrchr(p, '/');
		if (slash == NULL || (slash == p && p[1] == '\0'))
			return -1;
		slash == p ? (void)(p[1] = '\0') : (void)(*slash = '\0');
	}
}

/* MemAvailable from /proc/meminfo. */
static int free_memory(uint64_t *out)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long long kib;
	int rc = -1;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) {
			*out = (uint64_t)kib * 1024;
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

/*
 * Refuses a preload that cannot fit, before anything is written (issue 12: a large
 * --size-dist with the default 20,000 payloads set out to write 200 GiB). Disk: every
 * payload sealed (+42 B) with its key, twice (the WAL and the SST it is flushed to,
 * until RocksDB drops the WAL), plus the KELs (KELGEN_PRELOAD events of under 1 KiB per
 * identifier), plus 64 MiB for RocksDB's own files. Memory: what the process will hold
 * at most: the cache's limit, RocksDB's block cache and twice its write buffer, the
 * tool's tables, and one value per thread. Returns 0, or 2 with one line on stderr.
 */
static int preload_fits(const struct opts *o, const struct hc_config *cfg)
{
	double payload = (double)o->payloads * (mean_value_size(o) + 42 + KEY_LEN + 32);
	double disk = 2 * payload + (double)o->ids * KELGEN_PRELOAD * 1024.0 + 64.0 * 1048576;
	double mem = (double)cfg->memory_limit + (double)cfg->block_cache +
	             2 * (double)cfg->write_buffer + (double)o->payloads * 24 +
	             (double)o->ids * sizeof(struct kelgen_id) +
	             (double)o->threads * (double)o->size_hi;
	uint64_t dfree, mfree;
	char need[32], have[32];
	if (free_disk(cfg->backing_path, &dfree) == 0 && disk > (double)dfree) {
		report_fmt_bytes(need, sizeof(need), disk);
		report_fmt_bytes(have, sizeof(have), (double)dfree);
		fprintf(stderr, "hotcache load: the preload needs about %s on disk (%llu payloads of "
		                "%.0f B on average, written to the WAL and an SST) but %s has %s "
		                "free: lower --payloads or --size-dist\n", need,
		        (unsigned long long)o->payloads, mean_value_size(o), cfg->backing_path, have);
		return 2;
	}
	if (free_memory(&mfree) == 0 && mem > (double)mfree) {
		report_fmt_bytes(need, sizeof(need), mem);
		report_fmt_bytes(have, sizeof(have), (double)mfree);
		fprintf(stderr, "hotcache load: the preload needs up to %s of memory (the cache's "
		                "limit, RocksDB's block cache and write buffers, the tool's tables) "
		                "but %s is free: lower cache.memory_limit or --payloads\n", need, have);
		return 2;
	}
	return 0;
}


static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static int make_tmp_store(struct hc_config *cfg, char *dir, size_t cap)
{
	const char *tmp = getenv("TMPDIR");
	char err[256];
	snprintf(dir, cap, "%s/hotcache-load-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "hotcache load: cannot create a temporary directory %s: %s\n", dir,
		        strerror(errno));
		return 1;
	}
	char path[HC_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/store", dir);
	/* hc_open creates the store and its data key together (issue 12). */
	if (hc_config_set(cfg, "backing.mode", "rocksdb", err, sizeof(err)) != 0 ||
	    hc_config_set(cfg, "backing.path", path, err, sizeof(err)) != 0) {
		fprintf(stderr, "hotcache load: %s\n", err);
		return 2;
	}
	return 0;
}

static int setup(struct load *L, struct hc_config *cfg)
{
	const struct opts *o = &L->o;
	L->keys = malloc(o->payloads * sizeof(*L->keys));
	L->idv = calloc(o->ids, sizeof(*L->idv));
	L->datalen = o->size_hi + 4096;
	L->data = malloc(L->datalen);
	if (L->keys == NULL || L->idv == NULL || L->data == NULL) {
		fprintf(stderr, "hotcache load: out of memory for %llu payloads and %llu ids\n",
		        (unsigned long long)o->payloads, (unsigned long long)o->ids);
		return 1;
	}
	for (uint64_t i = 0; i < o->payloads; i++)
		snprintf(L->keys[i], sizeof(L->keys[i]), "pl:%010llu", (unsigned long long)i);
	randombytes_buf(L->data, L->datalen);
	if (zipf_init(&L->zipf, o->payloads, o->zipf) != 0)
		return 2;
	L->ln_mu = 0.5 * (log((double)o->size_lo) + log((double)o->size_hi));
	L->ln_sigma = (log((double)o->size_hi) - log((double)o->size_lo)) / 6.0;
	if (L->ln_sigma <= 0)
		L->ln_sigma = 1e-9;
	kelgen_init();
	L->durability = cfg->durability;
	int rc = hc_open(cfg, &L->c);
	if (rc != 0) {
		fprintf(stderr, "hotcache load: cannot open the store: %s\n", hc_last_error());
		return rc == HC_ECONFIG || rc == HC_EINVAL ? 2 : 1;
	}
	return 0;
}

static void fill_report_header(struct load *L, const struct hc_config *cfg, const char *tmpdir)
{
	static const char *const dur[] = {"sync", "wal", "none"};
	struct load_report *r = &L->rep;
	const struct opts *o = &L->o;
	struct hc_stats st;
	r->ids = o->ids, r->payloads = o->payloads, r->ops_limit = o->ops, r->seed = o->seed;
	r->seconds_limit = o->seconds, r->zipf = o->zipf, r->threads = o->threads;
	memcpy(r->mix, o->mix, sizeof(r->mix));
	snprintf(r->read_api, sizeof(r->read_api), "%s", o->use_get ? "hc_get" : "hc_read");
	if (o->size_kind == SIZE_FIXED)
		snprintf(r->size_dist, sizeof(r->size_dist), "fixed %llu B",
		         (unsigned long long)o->size_lo);
	else
		snprintf(r->size_dist, sizeof(r->size_dist), "%s %llu..%llu B",
		         o->size_kind == SIZE_UNIFORM ? "uniform" : "lognormal",
		         (unsigned long long)o->size_lo, (unsigned long long)o->size_hi);
	snprintf(r->durability, sizeof(r->durability), "%s",
	         cfg->durability >= 0 && cfg->durability <= 2 ? dur[cfg->durability] : "?");
	snprintf(r->store, sizeof(r->store), "%s%s", cfg->backing_path,
	         tmpdir[0] ? " (temporary)" : "");
	r->memory_limit = cfg->memory_limit;
	r->max_entry = cfg->max_entry;
	if (L->c != NULL && hc_stats(L->c, &st) == 0)
		r->slack = st.slack_bytes, r->shards = st.shards;
}

static int write_outputs(const struct load *L)
{
	int rc = 0;
	char err[256];
	if (L->o.json != NULL && report_json(L->o.json, &L->rep) != 0) {
		fprintf(stderr, "hotcache load: cannot write %s: %s\n", L->o.json, strerror(errno));
		rc = 1;
	}
	if (L->o.csv != NULL && report_csv(L->o.csv, &L->rep) != 0) {
		fprintf(stderr, "hotcache load: cannot write %s: %s\n", L->o.csv, strerror(errno));
		rc = 1;
	}
	if (L->o.plot != NULL && L->rep.nruns > 0) {
		if (report_plot(L->o.plot, &L->rep, err, sizeof(err)) != 0) {
			fprintf(stderr, "hotcache load: --plot %s: %s\n", L->o.plot, err);
			rc = 1;
		} else {
			fprintf(stderr, "plot written to %s\n", L->o.plot);
		}
	}
	return rc;
}

/*
 * --compare: both halves start from the store as the preload left it (issue 12: the
 * cache half's appends grew the KELs from 4 events to 17 before the bypass half ran).
 * After the preload, a checkpoint of the store goes next to it (hard links, the same
 * filesystem) and the identifiers' generator state is saved; after the cache half the
 * store is closed, replaced by the checkpoint and opened again, and the generator state
 * restored. The bypass half then starts with a cold cache, which it does not read.
 */
struct compare_snap {
	char dir[HC_PATH_MAX + 32];  /* mkdtemp'd, holds "store" */
	char copy[HC_PATH_MAX + 64]; /* the checkpoint */
	struct kelgen_id *idv;
};

static int compare_save(struct load *L, const struct hc_config *cfg, struct compare_snap *cs)
{
	snprintf(cs->dir, sizeof(cs->dir), "%s.compare-XXXXXX", cfg->backing_path);
	cs->idv = malloc(L->o.ids * sizeof(*cs->idv));
	if (cs->idv == NULL || mkdtemp(cs->dir) == NULL) {
		fprintf(stderr, "hotcache load: --compare: cannot make %s: %s\n", cs->dir,
		        cs->idv == NULL ? "out of memory" : strerror(errno));
		cs->dir[0] = '\0';
		return 1;
	}
	snprintf(cs->copy, sizeof(cs->copy), "%s/store", cs->dir);
	memcpy(cs->idv, L->idv, L->o.ids * sizeof(*cs->idv));
	int rc = hc_checkpoint(L->c, cs->copy, NULL);
	if (rc != 0) {
		fprintf(stderr, "hotcache load: --compare: %s\n", hc_last_error());
		return 1;
	}
	return 0;
}

static int compare_restore(struct load *L, const struct hc_config *cfg, struct compare_snap *cs)
{
	hc_close(L->c);
	L->c = NULL;
	if (nftw(cfg->backing_path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 ||
	    rename(cs->copy, cfg->backing_path) != 0) {
		fprintf(stderr, "hotcache load: --compare: cannot put the checkpoint %s in place of "
		                "%s: %s\n", cs->copy, cfg->backing_path, strerror(errno));
		return 1;
	}
	memcpy(L->idv, cs->idv, L->o.ids * sizeof(*cs->idv));
	if (hc_open(cfg, &L->c) != 0) {
		fprintf(stderr, "hotcache load: --compare: cannot reopen the store: %s\n",
		        hc_last_error());
		return 1;
	}
	return 0;
}

static void compare_drop(struct compare_snap *cs)
{
	if (cs->dir[0] != '\0')
		nftw(cs->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(cs->idv);
}

static int run_all(struct load *L, const struct hc_config *cfg)
{
	struct compare_snap cs = {.dir = ""};
	int rc = preload(L);
	if (rc != 0)
		return rc;
	if (L->o.compare && compare_save(L, cfg, &cs) != 0) {
		compare_drop(&cs);
		return 1;
	}
	fprintf(stderr, "status once a second: ops/s by kind (r read, ks keystate, w write, a "
	                "append), payload hit ratio, p99 by kind, accounted/limit, RSS\n");
	rc = run_phase(L, 0) != 0;
	if (rc == 0 && L->o.compare && !g_interrupted)
		rc = compare_restore(L, cfg, &cs) != 0 || run_phase(L, 1) != 0;
	compare_drop(&cs);
	if (rc != 0)
		return 1;
	return g_interrupted ? 130 : 0;
}

int load_main(int argc, char **argv)
{
	struct hc_config cfg;
	static struct load L; /* large (histograms in the report), once per process */
	char tmpdir[HC_PATH_MAX] = "";
	int rc = cli_config(&cfg, &argc, argv, NULL);
	if (rc != 0)
		return rc;
	if (sodium_init() < 0) {
		fprintf(stderr, "hotcache load: libsodium failed to initialise\n");
		return 1;
	}
	rc = parse_opts(&L.o, argc, argv);
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	if (cfg.backing_path[0] == '\0' && (rc = make_tmp_store(&cfg, tmpdir,
	                                                                   sizeof(tmpdir))) != 0)
		return rc;
	if ((rc = preload_fits(&L.o, &cfg)) != 0) {
		if (tmpdir[0] != '\0')
			nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		return rc;
	}
	L.tty = isatty(2);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = setup(&L, &cfg);
	fill_report_header(&L, &cfg, tmpdir);
	if (rc == 0) {
		rc = run_all(&L, &cfg);
		if (rc == 0 || rc == 130) {
			report_text(stdout, &L.rep);
			fflush(stdout);
			if (write_outputs(&L) != 0 && rc == 0)
				rc = 1;
			for (int i = 0; i < L.rep.nruns; i++)
				for (int k = 0; k < K_COUNT; k++)
					if (L.rep.run[i].errors[k] != 0 && rc == 0)
						rc = 1;
		} else if (L.rep.nruns > 0) {
			report_text(stdout, &L.rep);
		}
	}
	if (L.c != NULL)
		hc_close(L.c);
	if (tmpdir[0] != '\0')
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < 2; i++)
		free(L.rep.run[i].samples);
	free(L.keys), free(L.idv), free(L.data);
	return rc;
}
