/*
 * keri_bench: what a cached key state saves, and what an append costs next to the
 * signature check it cannot avoid.
 *
 *   keystate_hit  hc_keystate_get on an identifier whose state is in the key-state
 *                 cache (checked: the internal cache's hit counter must rise by exactly
 *                 the calls made and its miss counter must not move).
 *   replay        hc_kel_verify on the same identifier: every stored event read back
 *                 from RocksDB, parsed, its SAID and signature verified, the rules
 *                 applied, the result compared with the stored state. The events were
 *                 just written, so they are read from the memtable, which makes the
 *                 replay cheaper than it would be from disk: the ratio is conservative.
 *   For KELs of 10, 100 and 1000 events (icp, a rot at every sn that is a multiple of
 *   10, ixn otherwise). Target: hit >= 1000x replay at 100 events.
 *
 *   append        hc_kel_append of fresh, pre-generated ixn events (generation, with
 *                 its signing, is outside the timing) to an identifier with a 10-event
 *                 KEL, 1 thread, and 2 threads on 2 different identifiers; once with
 *                 backing.durability = wal and once with sync (each on its own store).
 *   verify_bare   crypto_sign_verify_detached on exactly the bytes those appends verify
 *                 (the same events, the same keys), 1 and 2 threads.
 *   escrow        a fresh KEL appended in order, in reverse and in a seeded random
 *                 order (measure_escrow: what escrowing and promotion cost), and a
 *                 witnessed KEL (bt 2, witness signatures attached) in order, against
 *                 the bare verify rate over its 3 signatures per event
 *                 (measure_witnessed). Printed, no target.
 *   Target: append (wal) >= 0.8x verify_bare at the same thread count. sync is printed
 *   for information: there an fsync per batch dominates.
 *
 * Side by side: every round measures every row in turn (interleaved), and each row
 * reports the median of its rounds (3 by default), so a noisy machine moves both
 * sides of a ratio alike. The human table also gives every ratio by CPU time (ops
 * per CPU-second of the threads doing them), which a loaded machine disturbs less;
 * the targets are judged on the wall-clock ratio, the CPU one is printed beside it.
 * `--only append|keystate` runs one half (for profiling); the guard still runs.
 *
 * Correctness guard (exit 1): every event imported or appended must be accepted
 * (return 0, consume the whole message), every identifier's final hc_keystate_get sn
 * must be its KEL length - 1, and hc_kel_verify must agree over that many events.
 *
 * --json prints, as the last line,
 * {"bench":"keri","results":[{"op":"keystate_hit|replay|append|verify_bare","kel_len":n,
 *  "threads":T,"ops_per_s":X}, ...]}; append rows also carry "durability":"wal|sync".
 * For append and verify_bare, kel_len is the KEL length the appends start from (10).
 * --quick runs short rounds (under 30 s in all).
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <sodium.h>

#include "hotcache.h"
#include "bench/common.h"
#include "cache/cache.h" /* struct hc_cache's ks: the internal key-state cache's counters */
#include "keri/keri.h" /* keri_b64_encode: the attached signature's text */
#include "tools/kelgen.h"

#define PRELOAD 10u     /* KEL length of the append identifiers before the appends */
#define ROT_EVERY 10u
#define MAX_ROUNDS 15
#define NLENS 3

static const size_t kel_lens[NLENS] = {10, 100, 1000};

struct options {
	bool quick, json;
	bool no_hit, no_append;    /* --only append / --only keystate (for profiling) */
	unsigned rounds;
	double hit_s, replay_s;    /* seconds per hit / replay measurement */
	size_t wal_n, sync_n;      /* appends per thread per measurement */
	char dir[1024];            /* where the stores go ("" = a fresh /tmp dir) */
};

/* ---- failures ------------------------------------------------------------------------ */

static char g_base[1100];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	if (g_base[0] != '\0')
		nftw(g_base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A correctness failure: what the bench promises was not kept. */
static BENCH_PRINTF(1, 2) void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "keri_bench: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	cleanup();
	exit(1);
}

/* ---- event queues ------------------------------------------------------------------ */

/* Pre-generated messages of one identifier, in order, consumed by the appends. */
struct evq {
	char *arena;
	size_t n, next;            /* messages; the first not yet appended */
	size_t *off, *len, *body;
	uint8_t (*sig)[64];
	uint8_t (*pk)[32];
};

/*
 * The raw signature of the message msg[0..len) that id's current key signed: Ed25519 is
 * deterministic, so signing the body again gives the attached signature's bytes, which
 * is checked against the attachment's text (kelgen's encoding: 2 zero lead bytes, then
 * the 64 bytes, the first 2 chars dropped). Returns 0, or -1 when they differ.
 */
static int attached_sig(const struct kelgen_id *id, const char *msg, size_t len,
                        uint8_t sig[64])
{
	size_t body = len - KELGEN_ATTACH_LEN;
	uint8_t raw[66] = {0};
	char txt[89];
	crypto_sign_detached(sig, NULL, (const uint8_t *)msg, body, id->sk);
	memcpy(raw + 2, sig, 64);
	keri_b64_encode(raw, sizeof(raw), txt);
	return memcmp(msg + body, "-AABAA", 6) == 0 && memcmp(msg + body + 6, txt + 2, 86) == 0
	       ? 0 : -1;
}

/* n fresh ixn events of id, appended to *id in order; with what a bare verify needs. */
static void evq_fill(struct evq *q, struct kelgen_id *id, size_t n)
{
	q->arena = bench_xmalloc(n * KELGEN_MSG_MAX);
	q->off = bench_xcalloc(n, sizeof(size_t));
	q->len = bench_xcalloc(n, sizeof(size_t));
	q->body = bench_xcalloc(n, sizeof(size_t));
	q->sig = bench_xcalloc(n, 64);
	q->pk = bench_xcalloc(n, 32);
	q->n = n;
	q->next = 0;
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		char said[45], *msg = q->arena + used;
		size_t len = kelgen_ixn(id, msg, KELGEN_MSG_MAX, said);
		if (len == 0 || attached_sig(id, msg, len, q->sig[i]) != 0) {
			fprintf(stderr, "keri_bench: kelgen failed\n");
			exit(2);
		}
		q->off[i] = used;
		q->len[i] = len;
		q->body[i] = len - KELGEN_ATTACH_LEN;
		memcpy(q->pk[i], id->sk + 32, 32); /* libsodium's secret key ends with the public */
		kelgen_advance(id, said);
		used += len;
	}
}

static void evq_free(struct evq *q)
{
	free(q->arena);
	free(q->off);
	free(q->len);
	free(q->body);
	free(q->sig);
	free(q->pk);
}

/* ---- stores ------------------------------------------------------------------------- */

static hc_cache *open_store(const char *base, const char *name, const char *durability)
{
	struct hc_config cfg;
	char path[1200], err[256];
	hc_config_default(&cfg);
	snprintf(path, sizeof(path), "%s/%s", base, name);
	if (hc_config_set(&cfg, "backing.mode", "rocksdb", err, sizeof(err)) != 0 ||
	    hc_config_set(&cfg, "backing.path", path, err, sizeof(err)) != 0 ||
	    hc_config_set(&cfg, "backing.durability", durability, err, sizeof(err)) != 0) {
		fprintf(stderr, "keri_bench: config: %s\n", err);
		exit(2);
	}
	cfg.memory_limit = 64u << 20;
	hc_cache *c = NULL;
	int rc = hc_open(&cfg, &c);
	if (rc != 0) {
		fprintf(stderr, "keri_bench: hc_open %s: %s: %s\n", path, hc_strerror(rc),
		        hc_last_error());
		exit(2);
	}
	return c;
}

/*
 * A whole KEL of n >= 1 events for the identifier of `seed`: icp, then a rot at every sn
 * that is a multiple of ROT_EVERY, ixn otherwise; messages back to back in the returned
 * buffer (malloc'd, *len bytes). *id is left after the last event, ready for more.
 */
static char *make_kel(struct kelgen_id *id, uint64_t seed, size_t n, size_t *len)
{
	char *out = bench_xmalloc(n * KELGEN_MSG_MAX);
	size_t used = 0;
	for (size_t sn = 0; sn < n; sn++) {
		char *p = out + used, said[45];
		size_t m;
		if (sn == 0) {
			m = kelgen_icp(id, seed, 0, p, KELGEN_MSG_MAX);
		} else if (sn % ROT_EVERY == 0) {
			m = kelgen_rot(id, p, KELGEN_MSG_MAX);
		} else {
			m = kelgen_ixn(id, p, KELGEN_MSG_MAX, said);
			if (m != 0)
				kelgen_advance(id, said);
		}
		if (m == 0) {
			fprintf(stderr, "keri_bench: kelgen failed\n");
			exit(2);
		}
		used += m;
	}
	*len = used;
	return out;
}

/* A whole KEL through hc_kel_import; every message must be accepted. */
static void import_kel(hc_cache *c, struct kelgen_id *id, uint64_t seed, size_t n)
{
	size_t len;
	char *buf = make_kel(id, seed, n, &len);
	struct hc_kel_report r;
	memset(&r, 0, sizeof(r));
	int rc = hc_kel_import(c, buf, len, &r);
	free(buf);
	if (rc != 0 || r.accepted != n || r.messages != n)
		fail("importing a %zu-event KEL: rc %d (%s), %llu of %llu messages accepted: %s", n,
		     rc, hc_strerror(rc), (unsigned long long)r.accepted,
		     (unsigned long long)r.messages, hc_last_error());
}

/* The final guard: state sn = length - 1, and a replay agrees over length events. */
static void check_identifier(hc_cache *c, const char *pre, uint64_t length)
{
	struct hc_keystate st;
	int rc = hc_keystate_get(c, pre, &st);
	if (rc != 0)
		fail("hc_keystate_get %s: %s: %s", pre, hc_strerror(rc), hc_last_error());
	if (st.sn != length - 1)
		fail("%s: key state sn %llu, expected %llu (KEL length %llu - 1)", pre,
		     (unsigned long long)st.sn, (unsigned long long)(length - 1),
		     (unsigned long long)length);
	uint64_t events = 0;
	rc = hc_kel_verify(c, pre, &events);
	if (rc != 0 || events != length)
		fail("hc_kel_verify %s: rc %d (%s), %llu events of %llu: %s", pre, rc,
		     hc_strerror(rc), (unsigned long long)events, (unsigned long long)length,
		     hc_last_error());
}

/* ---- hit and replay ------------------------------------------------------------------ */

/*
 * Escrow promotion cost: a fresh n-event KEL appended message by message in order, one
 * in reverse (every event but the icp waits in the out-of-order escrow until the icp
 * arrives last and promotes the chain), and one in a random order (seeded Fisher-Yates:
 * an event waits whenever one before it is missing, and each arrival promotes the run
 * it completes). Events per second of each (rate[0] in order, [1] reversed, [2]
 * random), wal store.
 */
static void measure_escrow(hc_cache *c, uint64_t seed, size_t n, double rate[3])
{
	for (int mode = 0; mode < 3; mode++) {
		struct kelgen_id id;
		size_t len;
		char *buf = make_kel(&id, seed + (uint64_t)mode, n, &len);
		size_t *off = bench_xcalloc(n, sizeof(size_t)), *ml = bench_xcalloc(n, sizeof(size_t));
		size_t *order = bench_xcalloc(n, sizeof(size_t));
		for (size_t i = 0, o = 0; i < n; i++) {
			off[i] = o;
			ml[i] = strtoul(buf + o + 16, NULL, 16) + KELGEN_ATTACH_LEN;
			o += ml[i];
			order[i] = mode == 1 ? n - 1 - i : i;
		}
		uint64_t r = seed * 0x9e3779b97f4a7c15ull + 1;
		for (size_t i = n - 1; mode == 2 && i > 0; i--) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17; /* xorshift64 */
			size_t j = (size_t)(r % (i + 1)), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		uint64_t t0 = bench_now_ns();
		for (size_t k = 0; k < n; k++) {
			size_t i = order[k], used;
			int rc = hc_kel_append(c, buf + off[i], ml[i], &used);
			if (rc != 0 && !(mode != 0 && rc == HC_EKERI_SN))
				fail("escrow bench: event %zu: %s: %s", i, hc_strerror(rc), hc_last_error());
		}
		double s = (double)(bench_now_ns() - t0) / 1e9;
		check_identifier(c, id.pre, n);
		rate[mode] = (double)n / s;
		free(order);
		free(off);
		free(ml);
		free(buf);
	}
}

/*
 * Witnessed appends: a fresh n-event KEL (icp with NWIT witnesses and bt = NWIT, then
 * ixns), each message carrying its controller signature and its witnesses' indexed
 * signatures (-B), as a witness pool returns an event; the identifier is remote (not in
 * keri.own / keri.witness), so every event must meet bt. Events per second in order,
 * wal store. Its bound is the bare verify rate over 1 + NWIT signatures per event.
 */
#define NWIT 2
static double measure_witnessed(hc_cache *c, uint64_t seed, size_t n)
{
	struct kelgen_witness w[NWIT];
	struct kelgen_id id;
	for (unsigned i = 0; i < NWIT; i++)
		kelgen_witness(&w[i], seed, i);
	size_t cap = KELGEN_MSG_MAX + 4 + 88 * NWIT + 1;
	char *out = bench_xmalloc(n * cap);
	size_t *ml = bench_xcalloc(n, sizeof(size_t));
	for (size_t sn = 0; sn < n; sn++) {
		char *p = out + sn * cap, said[45];
		size_t m = sn == 0 ? kelgen_icp_witnessed(&id, seed, 0, w, NWIT, p, KELGEN_MSG_MAX)
		                   : kelgen_ixn(&id, p, KELGEN_MSG_MAX, said);
		if (m != 0)
			m = kelgen_witness_sign(p, m, m - KELGEN_ATTACH_LEN, cap, w, NWIT);
		if (m == 0)
			fail("witnessed bench: kelgen failed at sn %zu", sn);
		if (sn > 0)
			kelgen_advance(&id, said);
		ml[sn] = m;
	}
	uint64_t t0 = bench_now_ns();
	for (size_t sn = 0; sn < n; sn++) {
		size_t used;
		int rc = hc_kel_append(c, out + sn * cap, ml[sn], &used);
		if (rc != 0 || used != ml[sn])
			fail("witnessed bench: event %zu: %s: %s", sn, hc_strerror(rc), hc_last_error());
	}
	double s = (double)(bench_now_ns() - t0) / 1e9;
	check_identifier(c, id.pre, n);
	free(ml);
	free(out);
	return (double)n / s;
}

static volatile uint64_t g_sink;

/* Returns calls per second (wall clock); *per_cpu gets calls per CPU-second. */
static double measure_hit(hc_cache *c, const char *pre, double seconds, double *per_cpu)
{
	struct hc_stats s0, s1;
	struct hc_keystate st;
	uint64_t calls = 0, sum = 0;
	if (hc_stats(c->ks, &s0) != 0)
		fail("hc_stats on the key-state cache");
	uint64_t c0 = bench_thread_cpu_ns();
	uint64_t t0 = bench_now_ns(), t1, limit = (uint64_t)(seconds * 1e9);
	do {
		for (int i = 0; i < 1024; i++) {
			if (hc_keystate_get(c, pre, &st) != 0)
				fail("hc_keystate_get %s: %s", pre, hc_last_error());
			sum += st.sn;
		}
		calls += 1024;
		t1 = bench_now_ns();
	} while (t1 - t0 < limit);
	uint64_t cpu = bench_thread_cpu_ns() - c0;
	g_sink += sum;
	if (hc_stats(c->ks, &s1) != 0)
		fail("hc_stats on the key-state cache");
	if (s1.hits - s0.hits != calls || s1.misses != s0.misses)
		fail("keystate_hit was not all hits: %llu calls, %llu hits, %llu misses",
		     (unsigned long long)calls, (unsigned long long)(s1.hits - s0.hits),
		     (unsigned long long)(s1.misses - s0.misses));
	*per_cpu = (double)calls * 1e9 / (double)(cpu ? cpu : 1);
	return (double)calls * 1e9 / (double)(t1 - t0);
}

static double measure_replay(hc_cache *c, const char *pre, uint64_t length, double seconds,
                             double *per_cpu)
{
	uint64_t c0 = bench_thread_cpu_ns();
	uint64_t n = 0, t0 = bench_now_ns(), t1, limit = (uint64_t)(seconds * 1e9);
	do {
		uint64_t events = 0;
		int rc = hc_kel_verify(c, pre, &events);
		if (rc != 0 || events != length)
			fail("hc_kel_verify %s: rc %d, %llu events of %llu: %s", pre, rc,
			     (unsigned long long)events, (unsigned long long)length, hc_last_error());
		n++;
		t1 = bench_now_ns();
	} while (t1 - t0 < limit || n < 2);
	uint64_t cpu = bench_thread_cpu_ns() - c0;
	*per_cpu = (double)n * 1e9 / (double)(cpu ? cpu : 1);
	return (double)n * 1e9 / (double)(t1 - t0);
}

/* ---- append and bare verify ----------------------------------------------------------- */

enum { OP_VERIFY = 0, OP_APPEND = 1 };

struct worker {
	_Alignas(BENCH_LINE) pthread_t tid;
	int op;
	hc_cache *c;
	struct evq *q;
	size_t from, n;
	pthread_barrier_t *start;
	uint64_t t0, t1;
	uint64_t cpu;   /* the thread's CPU time over the run */
	int rc;
	size_t failed_at;
	char why[256];
	char pad[BENCH_LINE];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct evq *q = w->q;
	pthread_barrier_wait(w->start);
	uint64_t c0 = bench_thread_cpu_ns();
	w->t0 = bench_now_ns();
	w->rc = 0;
	if (w->op == OP_VERIFY) {
		int bad = 0;
		for (size_t i = w->from; i < w->from + w->n; i++)
			bad |= crypto_sign_verify_detached(q->sig[i],
			                                   (const uint8_t *)q->arena + q->off[i],
			                                   q->body[i], q->pk[i]);
		if (bad) {
			w->rc = -1;
			snprintf(w->why, sizeof(w->why), "a bare signature check failed");
		}
	} else {
		for (size_t i = w->from; i < w->from + w->n; i++) {
			size_t consumed = 0;
			int rc = hc_kel_append(w->c, q->arena + q->off[i], q->len[i], &consumed);
			if (rc != 0 || consumed != q->len[i]) {
				w->rc = rc != 0 ? rc : -1;
				w->failed_at = i;
				snprintf(w->why, sizeof(w->why), "%s (consumed %zu of %zu): %s",
				         hc_strerror(rc), consumed, q->len[i], hc_last_error());
				break;
			}
		}
	}
	w->t1 = bench_now_ns();
	w->cpu = bench_thread_cpu_ns() - c0;
	if (w->op == OP_APPEND)
		hc_thread_detach(w->c);
	return NULL;
}

/* n messages per thread from queues q[0..threads); appends consume them. Returns ops/s
 * (wall clock); *per_cpu gets ops per CPU-second of the workers (what they ran,
 * whatever else shares the machine: the sturdier figure on a loaded one). */
static double run_workers(int op, hc_cache *c, struct evq **q, unsigned threads, size_t n,
                          double *per_cpu)
{
	struct worker w[2];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, threads + 1);
	memset(w, 0, sizeof(w));
	for (unsigned t = 0; t < threads; t++) {
		if (q[t]->next + n > q[t]->n) {
			fprintf(stderr, "keri_bench: event queue exhausted\n");
			exit(2);
		}
		w[t] = (struct worker){.op = op, .c = c, .q = q[t], .from = q[t]->next, .n = n,
		                       .start = &start};
		if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]) != 0) {
			fprintf(stderr, "keri_bench: pthread_create failed\n");
			exit(2);
		}
	}
	pthread_barrier_wait(&start);
	uint64_t t0 = UINT64_MAX, t1 = 0, cpu = 0;
	for (unsigned t = 0; t < threads; t++) {
		pthread_join(w[t].tid, NULL);
		if (w[t].rc != 0) {
			if (op == OP_APPEND)
				fail("hc_kel_append of event %zu: %s", w[t].failed_at, w[t].why);
			fail("%s", w[t].why);
		}
		if (w[t].t0 < t0)
			t0 = w[t].t0;
		if (w[t].t1 > t1)
			t1 = w[t].t1;
		cpu += w[t].cpu;
		if (op == OP_APPEND)
			q[t]->next += n;
	}
	pthread_barrier_destroy(&start);
	*per_cpu = (double)(n * threads) * 1e9 / (double)(cpu ? cpu : 1);
	return (double)(n * threads) * 1e9 / (double)(t1 - t0);
}

/* ---- results -------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned n)
{
	double s[MAX_ROUNDS];
	memcpy(s, v, n * sizeof(double));
	qsort(s, n, sizeof(double), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void usage(void)
{
	fprintf(stderr, "usage: keri_bench [--quick] [--json] [--rounds N] [--dir DIR]\n"
	                "  --quick     short rounds (under 30 s in all)\n"
	                "  --json      print one JSON line last\n"
	                "  --rounds N  rounds per row, the median is reported (default 3)\n"
	                "  --dir DIR   put the stores under DIR (default: a new /tmp dir)\n"
	                "  --only append|keystate  run one half (to profile it; no targets)\n");
	exit(2);
}

static const char *fmt_rate(double r, char *buf, size_t cap)
{
	if (r >= 1e6)
		snprintf(buf, cap, "%8.2f M/s", r / 1e6);
	else if (r >= 1e3)
		snprintf(buf, cap, "%8.2f k/s", r / 1e3);
	else
		snprintf(buf, cap, "%8.2f  /s", r);
	return buf;
}

int main(int argc, char **argv)
{
	struct options o = {.rounds = 3};
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (strcmp(argv[i], "--quick") == 0)
			o.quick = true;
		else if (strcmp(argv[i], "--json") == 0)
			o.json = true;
		else if ((v = bench_opt(argc, argv, &i, "--rounds")) != NULL)
			o.rounds = (unsigned)bench_parse_u64("--rounds", v);
		else if ((v = bench_opt(argc, argv, &i, "--dir")) != NULL)
			snprintf(o.dir, sizeof(o.dir), "%s", v);
		else if ((v = bench_opt(argc, argv, &i, "--only")) != NULL) {
			if (strcmp(v, "append") == 0)
				o.no_hit = true;
			else if (strcmp(v, "keystate") == 0)
				o.no_append = true;
			else
				usage();
		}
		else
			usage();
	}
	if (o.rounds < 1 || o.rounds > MAX_ROUNDS)
		usage();
	o.hit_s = o.quick ? 0.1 : 0.4;
	o.replay_s = o.quick ? 0.15 : 0.6;
	o.wal_n = o.quick ? 600 : 3000;
	o.sync_n = o.quick ? 40 : 200;

	if (sodium_init() < 0) {
		fprintf(stderr, "keri_bench: sodium_init failed\n");
		return 2;
	}
	kelgen_init();
	snprintf(g_base, sizeof(g_base), "%s/keri_bench.XXXXXX", o.dir[0] ? o.dir : "/tmp");
	if (mkdtemp(g_base) == NULL) {
		fprintf(stderr, "keri_bench: mkdtemp %s: %s\n", g_base, strerror(errno));
		return 2;
	}
	hc_cache *cw = open_store(g_base, "wal", "wal");
	hc_cache *cs = open_store(g_base, "sync", "sync");

	/* Hit and replay identifiers: one per length, on the wal store. */
	struct kelgen_id lid[NLENS];
	for (int l = 0; l < NLENS; l++) {
		import_kel(cw, &lid[l], 1000 + kel_lens[l], kel_lens[l]);
		check_identifier(cw, lid[l].pre, kel_lens[l]);
	}

	/* Append identifiers: 2 per store, 10-event KELs, then their fresh ixn events. The
	 * first of each store serves the 1-thread and the 2-thread rows. */
	struct kelgen_id aid[2][2];
	struct evq q[2][2];
	size_t per[2] = {o.wal_n, o.sync_n};
	hc_cache *store[2] = {cw, cs};
	const char *dname[2] = {"wal", "sync"};
	for (int d = 0; d < 2; d++)
		for (int t = 0; t < 2; t++) {
			import_kel(store[d], &aid[d][t], 5000 + 100 * (uint64_t)d + (uint64_t)t, PRELOAD);
			evq_fill(&q[d][t], &aid[d][t], per[d] * o.rounds * (t == 0 ? 2 : 1));
		}

	double hit[NLENS][MAX_ROUNDS] = {{0}}, rep[NLENS][MAX_ROUNDS] = {{0}};
	double hitc[NLENS][MAX_ROUNDS] = {{0}}, repc[NLENS][MAX_ROUNDS] = {{0}}; /* per CPU-s */
	double app[2][2][MAX_ROUNDS] = {{{0}}}, ver[2][MAX_ROUNDS] = {{0}}; /* [dur][threads-1] */
	double appc[2][MAX_ROUNDS] = {{0}}, verc[2][MAX_ROUNDS] = {{0}}; /* per CPU-s, wal */
	double sync_cpu; /* not reported: an fsync's wait is not CPU */
	for (unsigned r = 0; r < o.rounds; r++) {
		for (int l = 0; l < NLENS && !o.no_hit; l++) {
			hit[l][r] = measure_hit(cw, lid[l].pre, o.hit_s, &hitc[l][r]);
			rep[l][r] = measure_replay(cw, lid[l].pre, kel_lens[l], o.replay_s,
			                           &repc[l][r]);
		}
		for (unsigned t = 1; t <= 2 && !o.no_append; t++) {
			struct evq *wq[2] = {&q[0][0], &q[0][1]}, *sq[2] = {&q[1][0], &q[1][1]};
			ver[t - 1][r] = run_workers(OP_VERIFY, NULL, wq, t, o.wal_n, &verc[t - 1][r]);
			app[0][t - 1][r] = run_workers(OP_APPEND, cw, wq, t, o.wal_n, &appc[t - 1][r]);
			app[1][t - 1][r] = run_workers(OP_APPEND, cs, sq, t, o.sync_n, &sync_cpu);
		}
	}

	double esc[3] = {0, 0, 0};
	size_t esc_n = o.quick ? 100 : 200;
	double wit = 0;
	if (!o.no_append) {
		measure_escrow(cw, 9000, esc_n, esc);
		wit = measure_witnessed(cw, 9100, esc_n);
	}

	/* The guard: every identifier's state and replay agree with what was appended. */
	for (int l = 0; l < NLENS; l++)
		check_identifier(cw, lid[l].pre, kel_lens[l]);
	for (int d = 0; d < 2; d++)
		for (int t = 0; t < 2; t++)
			check_identifier(store[d], aid[d][t].pre, PRELOAD + q[d][t].next);

	double mh[NLENS], mr[NLENS], mhc[NLENS], mrc[NLENS], ma[2][2], mv[2], mac[2], mvc[2];
	for (int l = 0; l < NLENS; l++) {
		mh[l] = median(hit[l], o.rounds);
		mr[l] = median(rep[l], o.rounds);
		mhc[l] = median(hitc[l], o.rounds);
		mrc[l] = median(repc[l], o.rounds);
	}
	for (int t = 0; t < 2; t++) {
		mv[t] = median(ver[t], o.rounds);
		mvc[t] = median(verc[t], o.rounds);
		mac[t] = median(appc[t], o.rounds);
		for (int d = 0; d < 2; d++)
			ma[d][t] = median(app[d][t], o.rounds);
	}

	char b1[32], b2[32];
	printf("keri_bench%s: median of %u interleaved rounds; stores under %s\n",
	       o.quick ? " --quick" : "", o.rounds, g_base);
	if (!o.no_hit) {
		printf("\nkey state: hc_keystate_get (cached) vs hc_kel_verify (full replay), "
		       "1 thread\n");
		printf("%8s  %14s  %14s  %10s  %14s\n", "kel_len", "keystate_hit", "replay",
		       "hit/replay", "by CPU time");
		for (int l = 0; l < NLENS; l++)
			printf("%8zu  %14s  %14s  %9.0fx  %13.0fx\n", kel_lens[l],
			       fmt_rate(mh[l], b1, sizeof(b1)), fmt_rate(mr[l], b2, sizeof(b2)),
			       mh[l] / mr[l], mhc[l] / mrc[l]);
	}
	if (!o.no_append) {
		printf("\nappend: hc_kel_append of fresh ixn events (KEL of %u to start) vs bare "
		       "Ed25519 verify of the same bytes\n", PRELOAD);
		printf("%7s  %14s  %14s  %9s  %14s  %9s\n", "threads", "verify_bare", "append wal",
		       "wal/bare", "append sync", "sync/bare");
		for (int t = 0; t < 2; t++) {
			char b3[32];
			printf("%7d  %14s  %14s  %8.2fx  %14s  %8.3fx\n", t + 1,
			       fmt_rate(mv[t], b1, sizeof(b1)), fmt_rate(ma[0][t], b2, sizeof(b2)),
			       ma[0][t] / mv[t], fmt_rate(ma[1][t], b3, sizeof(b3)),
			       ma[1][t] / mv[t]);
		}
		printf("by CPU time (ops per CPU-second of the workers, less sensitive to a loaded "
		       "machine):\n");
		for (int t = 0; t < 2; t++)
			printf("%7d  %14s  %14s  %8.2fx\n", t + 1, fmt_rate(mvc[t], b1, sizeof(b1)),
			       fmt_rate(mac[t], b2, sizeof(b2)), mac[t] / mvc[t]);
	}
	if (!o.no_append) {
		char b3[32];
		printf("\nescrow: a %zu-event KEL appended in order %s, in reverse %s (each event "
		       "escrowed, then promoted when the icp arrives last): %.2fx; in a random "
		       "order %s: %.2fx\n", esc_n, fmt_rate(esc[0], b1, sizeof(b1)),
		       fmt_rate(esc[1], b2, sizeof(b2)), esc[1] / esc[0],
		       fmt_rate(esc[2], b3, sizeof(b3)), esc[2] / esc[0]);
		printf("witnessed: a %zu-event KEL with %d witnesses (bt %d), each event with its "
		       "%d witness signatures attached, in order %s: %.2fx the verify bound for "
		       "%d signatures per event (%s / %d)\n", esc_n, NWIT, NWIT, NWIT,
		       fmt_rate(wit, b1, sizeof(b1)), wit / (mv[0] / (1 + NWIT)), 1 + NWIT,
		       fmt_rate(mv[0], b2, sizeof(b2)), 1 + NWIT);
	}
	printf("\ntargets:\n");
	if (!o.no_hit) {
		double hr = mh[1] / mr[1]; /* kel_lens[1] = 100 */
		printf("  keystate hit >= 1000x replay at 100 events: %.0fx  %s  (by CPU time %.0fx)\n",
		       hr, hr >= 1000 ? "MET" : "MISSED", mhc[1] / mrc[1]);
	}
	if (!o.no_append) {
		for (int t = 0; t < 2; t++) {
			double x = ma[0][t] / mv[t];
			printf("  append (wal) >= 0.8x verify-bound, %d thread%s: %.2fx  %s  (by CPU "
			       "time %.2fx)\n", t + 1, t ? "s" : "", x, x >= 0.8 ? "MET" : "MISSED",
			       mac[t] / mvc[t]);
		}
		printf("  (append with sync durability, for information: %.3fx / %.3fx of the "
		       "verify rate; an fsync per append dominates)\n", ma[1][0] / mv[0],
		       ma[1][1] / mv[1]);
	}
	printf("correctness: every event accepted; final key states and replays agree\n");

	if (o.json) {
		struct bench_buf b = {0};
		bench_buf_printf(&b, "{\"bench\":\"keri\",\"results\":[");
		const char *sep = "";
		for (int l = 0; l < NLENS && !o.no_hit; l++) {
			bench_buf_printf(&b, "%s{\"op\":\"keystate_hit\",\"kel_len\":%zu,"
			                 "\"threads\":1,\"ops_per_s\":%.1f}", sep, kel_lens[l], mh[l]);
			sep = ",";
			bench_buf_printf(&b, ",{\"op\":\"replay\",\"kel_len\":%zu,\"threads\":1,"
			                 "\"ops_per_s\":%.3f}", kel_lens[l], mr[l]);
		}
		for (int t = 0; t < 2 && !o.no_append; t++) {
			bench_buf_printf(&b, "%s{\"op\":\"verify_bare\",\"kel_len\":%u,"
			                 "\"threads\":%d,\"ops_per_s\":%.1f}", sep, PRELOAD, t + 1,
			                 mv[t]);
			sep = ",";
			for (int d = 0; d < 2; d++)
				bench_buf_printf(&b, ",{\"op\":\"append\",\"kel_len\":%u,\"threads\":%d,"
				                 "\"ops_per_s\":%.1f,\"durability\":\"%s\"}", PRELOAD,
				                 t + 1, ma[d][t], dname[d]);
		}
		if (!o.no_append)
			bench_buf_printf(&b, "%s{\"op\":\"append_in_order\",\"kel_len\":%zu,"
			                 "\"threads\":1,\"ops_per_s\":%.1f},{\"op\":"
			                 "\"append_reversed_escrow\",\"kel_len\":%zu,\"threads\":1,"
			                 "\"ops_per_s\":%.1f},{\"op\":\"append_random_escrow\","
			                 "\"kel_len\":%zu,\"threads\":1,\"ops_per_s\":%.1f}", sep,
			                 esc_n, esc[0], esc_n, esc[1], esc_n, esc[2]);
		if (!o.no_append)
			bench_buf_printf(&b, ",{\"op\":\"append_witnessed\",\"kel_len\":%zu,"
			                 "\"witnesses\":%d,\"threads\":1,\"ops_per_s\":%.1f}", esc_n,
			                 NWIT, wit);
		bench_buf_printf(&b, "]}");
		printf("%s\n", b.s);
		bench_buf_free(&b);
	}

	hc_close(cw);
	hc_close(cs);
	for (int d = 0; d < 2; d++)
		for (int t = 0; t < 2; t++)
			evq_free(&q[d][t]);
	cleanup();
	return 0;
}
