/*
 * Crash safety of the cache's writes (hc_put, hc_delete over backing.mode = rocksdb): a
 * child process opens the cache and runs writer threads, each doing puts and deletes of
 * keys it owns and appending every acknowledgement (after the call returned 0) to an
 * mmap'd log; the parent kills it with SIGKILL at a random moment (10..200 ms of
 * writing), opens the cache again and checks, key by key:
 *
 *   - every acknowledged write is there: the key holds the value of the last
 *     acknowledged write to it (absent when that was a delete), or the result of the
 *     writer's one operation that was in flight at the kill (it may have become durable
 *     without being acknowledged); a value older than the last acknowledged write is a
 *     lost acknowledged write, and so is a missing one;
 *   - every record opens: hc_get is never HC_ECORRUPT (or any other error), and every
 *     value read is byte for byte the value its header names (key, writer, sequence);
 *   - nothing else appears: no value the writer never wrote to that key;
 *   - what earlier cycles left (each cycle writes its own keys) is unchanged.
 *
 *   test_cache_crash [cycles [sync|wal|none]]  (default 20 sync; HC_CRASH_CYCLES overrides)
 *
 * With wal durability only a process crash is survivable (the page cache keeps the
 * WAL), which is what SIGKILL is. "none" (no WAL) is the negative control: it must lose
 * acknowledged writes, and ctest expects that run to print "lost an acknowledged write",
 * which shows the checker catches one. The child is exec'd afresh (never just forked),
 * so it does not inherit RocksDB's threads or the parent's cmocka state.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/crashlog.h"
#include "tests/unit/test_backing_util.h"

#define WRITERS 3
#define SLOTS 8           /* keys per writer per cycle */
#define LOG_CAP (1 << 18) /* log entries per writer per cycle */
#define VAL_MAX 4096

enum { OP_PUT = 1, OP_DEL = 2 };

/* One operation of a writer, logged before it is issued. */
struct entry {
	uint32_t slot, kind;
};

/*
 * The mmap'd acknowledgement log, per writer: entries [0, intents) were issued in order
 * (each written before its call), entries [0, acked) returned 0. acked is stored with
 * release after the call returned, so the parent, which reads it after the child is
 * dead, counts only acknowledged operations; at most entry `acked` is in flight.
 */
struct wlog {
	atomic_long intents, acked;
	struct entry e[LOG_CAP];
};

struct acklog {
	atomic_int ready;
	struct wlog w[WRITERS];
};

static void key_of(int cycle, int w, int slot, char *key, size_t cap)
{
	snprintf(key, cap, "c%d/w%d/s%d", cycle, w, slot);
}

/* The value of writer w's operation seq on key: a header naming them, then a pattern;
 * the length varies with seq (40 B .. ~1 KiB, every 16th one ~3 KiB). */
static size_t val_of(const char *key, int w, long seq, char *val)
{
	int n = snprintf(val, VAL_MAX, "key=%s w=%d seq=%ld;", key, w, seq);
	size_t len = 40 + (size_t)(seq * 37 % 1000) + (seq % 16 == 0 ? 2000 : 0);
	for (size_t i = (size_t)n; i < len; i++)
		val[i] = (char)('a' + (seq * 7 + (long)i) % 26);
	return len;
}

static struct tb_dir dir_of(const char *root)
{
	struct tb_dir d;
	snprintf(d.root, sizeof(d.root), "%s", root);
	snprintf(d.db, sizeof(d.db), "%s/db", root);
	snprintf(d.key, sizeof(d.key), "%s/data.key", root);
	return d;
}

static int open_cache(const struct tb_dir *d, int durability, hc_cache **c)
{
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_ROCKSDB;
	snprintf(cfg.backing_path, sizeof(cfg.backing_path), "%s", d->db);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s", d->key);
	cfg.durability = durability;
	cfg.memory_limit = 8u << 20;
	cfg.max_entry = 64u << 10;
	cfg.block_cache = 1u << 20;
	cfg.write_buffer = 1u << 20;
	return hc_open(&cfg, c);
}

/* ---- the child ----------------------------------------------------------------------- */

struct child {
	hc_cache *c;
	struct wlog *log;
	int cycle, w;
};

static void *child_writer(void *arg)
{
	struct child *ch = arg;
	unsigned seed = (unsigned)(ch->cycle * 7919 + ch->w * 104729) ^ (unsigned)getpid();
	char key[64], val[VAL_MAX], buf[VAL_MAX];

	for (long seq = 0; seq < LOG_CAP; seq++) {
		struct entry *e = &ch->log->e[seq];
		int rc;

		e->slot = (uint32_t)(rand_r(&seed) % SLOTS);
		e->kind = rand_r(&seed) % 5 == 0 ? OP_DEL : OP_PUT;
		atomic_store_explicit(&ch->log->intents, seq + 1, memory_order_release);
		key_of(ch->cycle, ch->w, (int)e->slot, key, sizeof(key));
		if (e->kind == OP_DEL) {
			rc = hc_delete(ch->c, key, strlen(key));
		} else {
			size_t n = val_of(key, ch->w, seq, val);
			rc = hc_put(ch->c, key, strlen(key), val, n);
		}
		if (rc != HC_OK) {
			fprintf(stderr, "child: %s failed: %s: %s\n", e->kind == OP_DEL ? "hc_delete"
			        : "hc_put", hc_strerror(rc), hc_last_error());
			_exit(3);
		}
		/* acknowledged: only now may the parent count on it */
		atomic_store_explicit(&ch->log->acked, seq + 1, memory_order_release);
		/* now and then read it back (a hit, or a load after eviction) */
		if (seq % 4 == 0) {
			size_t vlen = 0, n = e->kind == OP_PUT ? val_of(key, ch->w, seq, val) : 0;
			rc = hc_get(ch->c, key, strlen(key), buf, sizeof(buf), &vlen);
			if (e->kind == OP_DEL ? rc != HC_ENOTFOUND
			                      : rc != HC_OK || vlen != n || memcmp(buf, val, n) != 0) {
				fprintf(stderr, "child: %s does not read back its own write (%s)\n", key,
				        hc_strerror(rc));
				_exit(4);
			}
		}
	}
	for (;;)
		pause(); /* the log is full: wait for the kill */
	return NULL;
}

static int child_main(const char *root, int cycle, int durability)
{
	struct tb_dir d = dir_of(root);
	char logpath[1024];
	struct child ch[WRITERS];
	pthread_t th[WRITERS];
	struct acklog *log;
	hc_cache *c = NULL;
	int rc;

	snprintf(logpath, sizeof(logpath), "%s/acks", root);
	log = crashlog_attach(logpath, sizeof(*log));
	if (log == NULL)
		return 2;
	rc = open_cache(&d, durability, &c);
	if (rc != 0) {
		fprintf(stderr, "child: hc_open: %s: %s\n", hc_strerror(rc), hc_last_error());
		return 2;
	}
	for (int w = 0; w < WRITERS; w++) {
		ch[w] = (struct child){.c = c, .log = &log->w[w], .cycle = cycle, .w = w};
		if (pthread_create(&th[w], NULL, child_writer, &ch[w]) != 0)
			return 2;
	}
	atomic_store(&log->ready, 1);
	for (;;)
		pause(); /* until SIGKILL */
}

/* ---- the parent ---------------------------------------------------------------------- */

struct run {
	const char *mode;
	int durability, cycles;
	struct tb_dir d;
	struct acklog *log;
	/* resolved[cycle][w][slot]: the seq whose value the key held after its cycle's
	 * check, or -1 when absent; later cycles check it did not change */
	long (*resolved)[WRITERS][SLOTS];
	long acked_total, inflight_durable, reads;
	int reported;
};

static struct run g_run;

#define report(r, ...)                                                                    \
	do {                                                                              \
		if ((r)->reported++ < 8)                                                  \
			fprintf(stderr, __VA_ARGS__);                                     \
	} while (0)

/*
 * Reads key; on success *seq is the seq its value names (-1 when absent). A read error,
 * HC_ECORRUPT above all, or a value that is not exactly what its header names (or names
 * another key or writer) is reported and returns -1.
 */
static int read_key(struct run *r, hc_cache *c, const char *key, int w, long *seq)
{
	static char buf[VAL_MAX], want[VAL_MAX];
	size_t vlen = 0;
	int rc, hw;
	char hkey[64];

	r->reads++;
	rc = hc_get(c, key, strlen(key), buf, sizeof(buf), &vlen);
	if (rc == HC_ENOTFOUND) {
		*seq = -1;
		return 0;
	}
	if (rc != HC_OK) {
		report(r, "%s: a record does not open: %s: %s\n", key, hc_strerror(rc),
		       hc_last_error());
		return -1;
	}
	buf[vlen < sizeof(buf) ? vlen : sizeof(buf) - 1] = '\0';
	if (sscanf(buf, "key=%63[^ ] w=%d seq=%ld;", hkey, &hw, seq) != 3 ||
	    strcmp(hkey, key) != 0 || hw != w || *seq < 0 || *seq >= LOG_CAP ||
	    val_of(key, w, *seq, want) != vlen || memcmp(buf, want, vlen) != 0) {
		report(r, "%s: a value that was never written to it (%zu bytes: %.40s)\n", key,
		       vlen, buf);
		return -1;
	}
	return 0;
}

/* Checks writer w's slot in this cycle against its log; records what it resolved to. */
static int check_slot(struct run *r, hc_cache *c, int cycle, int w, int slot)
{
	const struct wlog *lg = &r->log->w[w];
	long acked = atomic_load_explicit(&lg->acked, memory_order_acquire);
	long intents = atomic_load_explicit(&lg->intents, memory_order_acquire);
	long last = -1, inflight = -1, got;
	char key[64];

	for (long i = 0; i < acked; i++)
		if ((int)lg->e[i].slot == slot)
			last = i;
	if (intents > acked && (int)lg->e[acked].slot == slot)
		inflight = acked;
	key_of(cycle, w, slot, key, sizeof(key));
	if (read_key(r, c, key, w, &got) != 0)
		return -1;
	r->resolved[cycle][w][slot] = got;
	long want = last >= 0 && lg->e[last].kind == OP_PUT ? last : -1;
	if (got == want)
		return 0;
	if (inflight >= 0 && got == (lg->e[inflight].kind == OP_PUT ? inflight : -1)) {
		r->inflight_durable++; /* the unacknowledged in-flight write became durable */
		return 0;
	}
	if (got < 0)
		report(r, "cycle %d %s: lost an acknowledged write: its last acknowledged write "
		       "(seq %ld, a put) is missing\n", cycle, key, last);
	else if (got < last)
		report(r, "cycle %d %s: lost an acknowledged write: the older seq %ld is back "
		       "instead of the acknowledged %s seq %ld\n", cycle, key, got,
		       lg->e[last].kind == OP_PUT ? "put" : "delete", last);
	else
		report(r, "cycle %d %s: holds seq %ld, which was never acknowledged nor in flight "
		       "(last acknowledged %ld, %ld of %ld acknowledged)\n", cycle, key, got, last,
		       acked, intents);
	return -1;
}

/* Keys of earlier cycles hold what their own check found. */
static int check_earlier(struct run *r, hc_cache *c, int cycle)
{
	char key[64];
	long got;
	int bad = 0;

	for (int k = 0; k < cycle; k++)
		for (int w = 0; w < WRITERS; w++)
			for (int s = 0; s < SLOTS; s++) {
				key_of(k, w, s, key, sizeof(key));
				if (read_key(r, c, key, w, &got) != 0) {
					bad = -1;
				} else if (got != r->resolved[k][w][s]) {
					report(r, "%s: changed after its cycle (seq %ld, now %ld): lost an "
					       "acknowledged write\n", key, r->resolved[k][w][s], got);
					bad = -1;
				}
			}
	return bad;
}

static int run_cycle(struct run *r, int cycle)
{
	pid_t pid;
	int status = 0, bad = 0;
	hc_cache *c = NULL;

	memset(r->log, 0, sizeof(*r->log));
	pid = crashlog_spawn("test_cache_crash", r->d.root, cycle, r->mode, NULL);
	if (pid < 0)
		return -1;
	/* 30 s at most: a child that never starts (or exits first) fails the cycle */
	if (crashlog_wait_ready(pid, &r->log->ready, 30001, 1000, &status) != 0) {
		fprintf(stderr, "cycle %d: the child did not start (%d)\n", cycle, status);
		return -1;
	}
	crashlog_sleep_ms(10 + rand() % 191); /* 10..200 ms of writing */
	if (crashlog_kill(pid, &status) != 0) {
		fprintf(stderr, "cycle %d: the child ended otherwise (status %d)\n", cycle, status);
		return -1;
	}
	int rc = open_cache(&r->d, r->durability, &c);
	if (rc != 0) {
		fprintf(stderr, "cycle %d: reopen: %s: %s\n", cycle, hc_strerror(rc),
		        hc_last_error());
		return -1;
	}
	for (int w = 0; w < WRITERS; w++) {
		r->acked_total += atomic_load(&r->log->w[w].acked);
		for (int s = 0; s < SLOTS; s++)
			bad |= check_slot(r, c, cycle, w, s);
	}
	bad |= check_earlier(r, c, cycle);
	struct hc_stats st;
	if (hc_stats(c, &st) == 0 && st.corrupt != 0) {
		report(r, "cycle %d: %llu records failed to open\n", cycle,
		       (unsigned long long)st.corrupt);
		bad = -1;
	}
	hc_close(c);
	return bad;
}

static void acknowledged_writes_survive_kill_9(void **state)
{
	struct run *r = &g_run;
	char logpath[1024];

	(void)state;
	tb_dir_make(&r->d);
	snprintf(logpath, sizeof(logpath), "%s/acks", r->d.root);
	r->log = crashlog_create(logpath, sizeof(*r->log));
	assert_non_null(r->log);
	r->resolved = calloc((size_t)r->cycles, sizeof(*r->resolved));
	assert_non_null(r->resolved);
	for (int cycle = 0; cycle < r->cycles; cycle++) {
		if (run_cycle(r, cycle) != 0) {
			fprintf(stderr, "FAIL: cycle %d of %d (%s); store kept at %s\n", cycle,
			        r->cycles, r->mode,
			        r->durability == HC_DURABILITY_NONE ? "(removed)" : r->d.root);
			if (r->durability == HC_DURABILITY_NONE) /* the expected failure */
				tb_dir_remove(&r->d);
			fail_msg("the crash check failed at cycle %d (%s)", cycle, r->mode);
		}
	}
	print_message("crash test (%s): %d cycles killed at random, %ld acknowledged "
	              "operations, %d keys per cycle and every earlier cycle's keys checked "
	              "(%ld reads): none lost, every record opens; %ld in-flight writes had "
	              "become durable\n", r->mode, r->cycles, r->acked_total, WRITERS * SLOTS,
	              r->reads, r->inflight_durable);
	munmap(r->log, sizeof(*r->log));
	free(r->resolved);
	tb_dir_remove(&r->d);
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2], atoi(argv[3]), crashlog_mode(argv[4]));

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(acknowledged_writes_survive_kill_9),
	};
	g_run.cycles = argc > 1 ? atoi(argv[1]) : 20;
	g_run.mode = argc > 2 ? argv[2] : "sync";
	g_run.durability = crashlog_mode(g_run.mode);
	if (getenv("HC_CRASH_CYCLES") != NULL)
		g_run.cycles = atoi(getenv("HC_CRASH_CYCLES"));
	if (g_run.cycles < 1)
		g_run.cycles = 1;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	return cmocka_run_group_tests_name("cache_crash", tests, NULL, NULL);
}
