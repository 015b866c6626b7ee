/*
 * Crash safety of the store alone (no cache): a child process runs writer threads doing
 * puts and deletes with the chosen durability and records each acknowledgement in an
 * mmap'd file; the parent kills it with SIGKILL at a random moment, reopens the store,
 * and checks that every acknowledged write is there with its value (or, for the one
 * operation per thread that may have been in flight, that one's result) and that every
 * record opens. The cache's crash test (hc_put) follows the same scheme.
 *
 *   test_backing_crash [cycles [sync|wal|none]]  (default 20 sync; HC_CRASH_CYCLES overrides)
 *
 * "none" (no WAL) is the negative control: it must lose writes, and ctest expects that
 * run to fail, which shows the checker catches a lost acknowledged write.
 *
 * With wal durability only a process crash is survivable (the page cache keeps the WAL),
 * which is what SIGKILL is. The child is exec'd afresh, never just forked, so it does not
 * inherit RocksDB's background threads from the parent.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/crashlog.h"
#include "tests/unit/test_backing_util.h"

#define THREADS 4
#define SLOTS 8

/* The acknowledgement file: per thread, the number of operations acknowledged. */
struct acks {
	atomic_long done[THREADS];
	atomic_int ready;
};

struct child {
	struct backing *b;
	struct acks *acks;
	int cycle, t;
};

static void key_of(int cycle, int t, long op, char *key, size_t cap)
{
	snprintf(key, cap, "c%d/t%d/s%ld", cycle, t, op % SLOTS);
}

/* Operation op of a thread: every fifth is a delete, the others put a value naming op. */
static int op_is_delete(long op)
{
	return op % 5 == 4;
}

static size_t val_of(int cycle, int t, long op, char *val, size_t cap)
{
	int n = snprintf(val, cap, "cycle %d thread %d op %ld ", cycle, t, op);

	/* pad to a size that varies with op so records differ in length */
	while ((size_t)n < 40 + (size_t)(op % 97) && (size_t)n + 1 < cap)
		val[n++] = (char)('a' + op % 26);
	val[n] = '\0';
	return (size_t)n;
}

static void *child_writer(void *arg)
{
	struct child *c = arg;
	char key[64], val[256];
	long op;

	for (op = 0;; op++) {
		int rc;

		key_of(c->cycle, c->t, op, key, sizeof(key));
		if (op_is_delete(op)) {
			rc = backing_delete(c->b, BACKING_PAYLOAD, key, strlen(key));
		} else {
			size_t n = val_of(c->cycle, c->t, op, val, sizeof(val));

			rc = backing_put(c->b, BACKING_PAYLOAD, key, strlen(key), val, n);
		}
		if (rc != HC_OK) {
			fprintf(stderr, "child: write failed: %d %s\n", rc, backing_last_error());
			_exit(3);
		}
		/* acknowledged: only now may the parent count on it */
		atomic_store_explicit(&c->acks->done[c->t], op + 1, memory_order_release);
	}
	return NULL;
}

static int child_main(const char *root, int cycle, int durability)
{
	struct tb_dir d;
	struct backing_opts o;
	struct child c[THREADS];
	pthread_t th[THREADS];
	char ackpath[320], err[512];
	struct acks *acks;
	struct backing *b;
	int t;

	snprintf(d.root, sizeof(d.root), "%s", root);
	snprintf(d.db, sizeof(d.db), "%s/db", root);
	snprintf(d.key, sizeof(d.key), "%s/data.key", root);
	snprintf(ackpath, sizeof(ackpath), "%s/acks", root);
	acks = crashlog_attach(ackpath, sizeof(*acks));
	if (acks == NULL)
		return 2;
	o = tb_opts(&d, durability);
	if (backing_open(&o, &b, err, sizeof(err)) != HC_OK) {
		fprintf(stderr, "child: open: %s\n", err);
		return 2;
	}
	for (t = 0; t < THREADS; t++) {
		c[t].b = b;
		c[t].acks = acks;
		c[t].cycle = cycle;
		c[t].t = t;
		if (pthread_create(&th[t], NULL, child_writer, &c[t]) != 0)
			return 2;
	}
	atomic_store(&acks->ready, 1);
	for (;;)
		pause(); /* until SIGKILL */
}

/* The expected state of one slot given op count `done` (ops [0, done) acknowledged). */
static long last_op_on_slot(long slot, long done)
{
	long op;

	if (done <= slot)
		return -1;
	op = slot + ((done - 1 - slot) / SLOTS) * SLOTS;
	return op;
}

static int reported;

static int check_slot(struct backing *b, int cycle, int t, long slot, long done)
{
	char key[64], want[256], buf[256];
	long acked = last_op_on_slot(slot, done), inflight = done; /* op `done` may be durable */
	size_t vlen, n;
	int rc;

	key_of(cycle, t, slot, key, sizeof(key));
	rc = backing_get(b, BACKING_PAYLOAD, key, strlen(key), buf, sizeof(buf), &vlen);
	if (rc != HC_OK && rc != HC_ENOTFOUND) {
		fprintf(stderr, "cycle %d %s: %d %s\n", cycle, key, rc, backing_last_error());
		return -1;
	}
	/* candidates: the last acknowledged op on the slot, or the in-flight op if it is ours */
	for (int pass = 0; pass < 2; pass++) {
		long op = pass == 0 ? acked : (inflight % SLOTS == slot ? inflight : -2);

		if (op == -2)
			continue;
		if (op < 0 || op_is_delete(op)) {
			if (rc == HC_ENOTFOUND)
				return 0;
			continue;
		}
		n = val_of(cycle, t, op, want, sizeof(want));
		if (rc == HC_OK && vlen == n && memcmp(buf, want, n) == 0)
			return 0;
	}
	if (reported++ < 5)
		fprintf(stderr, "cycle %d %s: lost an acknowledged write (acked op %ld, rc %d)\n",
		        cycle, key, acked, rc);
	return -1;
}

static int run_cycle(const char *self, struct tb_dir *d, struct acks *acks, int cycle,
                     const char *mode, int durability, long *total)
{
	char err[512];
	struct backing_opts o;
	struct backing *b;
	pid_t pid;
	int status, t, bad = 0;
	long s;

	memset(acks, 0, sizeof(*acks));
	pid = crashlog_spawn(self, d->root, cycle, mode, NULL);
	if (pid < 0)
		return -1;
	/* 20 s at most; a child still not ready is killed and checked all the same */
	if (crashlog_wait_ready(pid, &acks->ready, 20000, 1000, &status) < 0) {
		fprintf(stderr, "cycle %d: child exited early (%d)\n", cycle, status);
		return -1;
	}
	crashlog_sleep_ms(5 + rand() % 120); /* 5..125 ms of writing */
	if (crashlog_kill(pid, &status) != 0) {
		fprintf(stderr, "cycle %d: child ended otherwise (%d)\n", cycle, status);
		return -1;
	}
	o = tb_opts(d, durability);
	if (backing_open(&o, &b, err, sizeof(err)) != HC_OK) {
		fprintf(stderr, "cycle %d: reopen: %s\n", cycle, err);
		return -1;
	}
	for (t = 0; t < THREADS; t++) {
		long done = atomic_load(&acks->done[t]);

		*total += done;
		for (s = 0; s < SLOTS; s++)
			bad |= check_slot(b, cycle, t, s, done);
	}
	backing_close(b);
	return bad;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[2] : "sync";
	int durability = crashlog_mode(mode);
	int cycles = argc > 1 ? atoi(argv[1]) : 20, cycle;
	char ackpath[320];
	struct tb_dir d;
	struct acks *acks;
	long total = 0;

	if (argc == 5 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2], atoi(argv[3]), crashlog_mode(argv[4]));
	if (getenv("HC_CRASH_CYCLES") != NULL)
		cycles = atoi(getenv("HC_CRASH_CYCLES"));
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	tb_dir_make(&d);
	snprintf(ackpath, sizeof(ackpath), "%s/acks", d.root);
	acks = crashlog_create(ackpath, sizeof(*acks));
	if (acks == NULL)
		return 2;
	for (cycle = 0; cycle < cycles; cycle++) {
		if (run_cycle("/proc/self/exe", &d, acks, cycle, mode, durability, &total) != 0) {
			fprintf(stderr, "FAIL: cycle %d of %d (%s); store kept at %s\n", cycle, cycles,
			        mode, durability == HC_DURABILITY_NONE ? "(removed)" : d.root);
			if (durability == HC_DURABILITY_NONE) /* the expected failure */
				tb_dir_remove(&d);
			return 1;
		}
	}
	printf("crash test (%s): %d cycles, %ld acknowledged operations, the last one on each of "
	       "%d keys per cycle checked: none lost\n", mode, cycles, total, THREADS * SLOTS);
	tb_dir_remove(&d);
	return 0;
}
