/*
 * recovery_bench: how long a store takes to come back after kill -9 (issue 13, point 5).
 *
 * Each point forks a child that opens a fresh store, writes, tells the parent how far it
 * got through a pipe and waits; the parent kills it with SIGKILL (no close, no flush),
 * then times hc_open on the same store and the first served read after it:
 *  - WAL points: 64 KiB payloads with `sync` or `wal` durability until 1, 16, 64 and
 *    256 MiB of WAL are unflushed (the write buffer is sized so that nothing flushes);
 *    the first read is the last value the child had acknowledged, which must be there.
 *  - KEL points: 10^4, 10^5 and 10^6 KEL events (100 identifiers, rotations and
 *    interactions, `wal` durability) appended through hc_kel_append; the first read is
 *    identifier 0's key state, which must be at the child's last sn. Next to them, the
 *    child's append rate and the parent's replay rate (hc_kel_verify reads identifier
 *    0's whole KEL back from RocksDB and verifies every event).
 * No target yet: the figures go into the README's performance table.
 *
 * --quick: 1 and 16 MiB, 10^4 events (about half a minute). --dir DIR: where the stores
 * go (default /tmp). --json prints, as the last line,
 *   {"bench":"recovery","results":[{"kind":"wal"|"kel","durability":...,"wal_mib":...,
 *    "events":...,"open_ms":...,"first_read_ms":...,"append_per_s":...,
 *    "replay_per_s":...}, ...]}
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/common.h"
#include "hotcache.h"
#include "tools/kelgen.h"

#define VALUE (64u << 10)
#define IDS 100
#define ROT_EVERY 10
#define SEED 7

static const char *g_base = "/tmp";

static BENCH_PRINTF(1, 2) void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "recovery_bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static hc_cache *open_store(const char *path, const char *durability, uint64_t wbuf)
{
	struct hc_config cfg;
	char err[256], wb[32];
	snprintf(wb, sizeof wb, "%llu MiB", (unsigned long long)(wbuf >> 20));
	if (hc_config_default(&cfg) != 0 ||
	    hc_config_set(&cfg, "backing.mode", "rocksdb", err, sizeof err) != 0 ||
	    hc_config_set(&cfg, "backing.path", path, err, sizeof err) != 0 ||
	    hc_config_set(&cfg, "backing.durability", durability, err, sizeof err) != 0 ||
	    hc_config_set(&cfg, "backing.write_buffer", wb, err, sizeof err) != 0 ||
	    hc_config_set(&cfg, "cache.memory_limit", "64 MiB", err, sizeof err) != 0)
		die("config: %s", err);
	hc_cache *c = NULL;
	if (hc_open(&cfg, &c) != 0)
		die("hc_open %s: %s", path, hc_last_error());
	return c;
}

static void value_key(uint64_t i, char *key)
{
	snprintf(key, 32, "v%010llu", (unsigned long long)i);
}

/* The child of a WAL point: writes until `mib` MiB of WAL, reports the count, waits. */
static void child_wal(int fd, const char *path, const char *dur, uint64_t mib)
{
	hc_cache *c = open_store(path, dur, 4 * (mib << 20) + (64u << 20));
	static unsigned char val[VALUE];
	uint64_t x = 88172645463325252ull, n = 0;
	for (uint64_t bytes = 0; bytes < (mib << 20); bytes += VALUE, n++) {
		for (size_t k = 0; k < VALUE; k += 8) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			memcpy(val + k, &x, 8);
		}
		char key[32];
		value_key(n, key);
		if (hc_put(c, key, strlen(key), val, VALUE) != 0)
			die("child put: %s", hc_last_error());
	}
	if (write(fd, &n, sizeof n) != (ssize_t)sizeof n)
		_exit(3);
	for (;;)
		pause();
}

/* The child of a KEL point: `events` events over IDS identifiers, in rounds. */
static void child_kel(int fd, const char *path, uint64_t events)
{
	hc_cache *c = open_store(path, "wal", 32u << 20);
	kelgen_init();
	struct kelgen_id *ids = bench_xcalloc(IDS, sizeof *ids);
	char msg[KELGEN_MSG_MAX], said[45];
	uint64_t t0 = bench_now_ns(), done = 0;
	for (uint64_t sn = 0; done < events; sn++) {
		for (unsigned i = 0; i < IDS && done < events; i++, done++) {
			size_t m;
			if (sn == 0)
				m = kelgen_icp(&ids[i], SEED, i, msg, sizeof msg);
			else if (sn % ROT_EVERY == 0)
				m = kelgen_rot(&ids[i], msg, sizeof msg);
			else
				m = kelgen_ixn(&ids[i], msg, sizeof msg, said);
			size_t used = 0;
			if (m == 0 || hc_kel_append(c, msg, m, &used) != 0)
				die("child append: %s", hc_last_error());
			if (sn != 0 && sn % ROT_EVERY != 0)
				kelgen_advance(&ids[i], said);
		}
	}
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	uint64_t out[2] = {ids[0].sn, (uint64_t)((double)events / secs)};
	if (write(fd, out, sizeof out) != (ssize_t)sizeof out)
		_exit(3);
	for (;;)
		pause();
}

struct point {
	const char *kind, *dur;
	uint64_t wal_mib, events;
	double open_ms, first_ms, append_per_s, replay_per_s;
};

/* Forks the child, reads its report (n words), kills it with SIGKILL. */
static void run_child(struct point *p, const char *path, uint64_t *report, size_t n)
{
	int fds[2];
	if (pipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		/* A fresh process (exec): RocksDB's background threads do not survive a fork,
		 * and the parent has had stores open, so a forked child would wait for ever
		 * on its first flush. */
		close(fds[0]);
		char fd[16], count[32];
		snprintf(fd, sizeof fd, "%d", fds[1]);
		snprintf(count, sizeof count, "%llu", (unsigned long long)(strcmp(p->kind, "wal") == 0
		                                                      ? p->wal_mib : p->events));
		execl("/proc/self/exe", "recovery_bench", "--child", p->kind, p->dur, count, path, fd,
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	size_t want = n * sizeof *report, got = 0;
	while (got < want) {
		ssize_t r = read(fds[0], (char *)report + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("the child died before reporting");
		got += (size_t)r;
	}
	close(fds[0]);
	kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
}

static void remove_tree(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.key'", path, path);
	if (system(cmd) != 0)
		die("cannot remove %s", path);
}

static void measure(struct point *p)
{
	char path[512];
	snprintf(path, sizeof path, "%s/hc-recovery-%d", g_base, (int)getpid());
	remove_tree(path);
	uint64_t report[2] = {0, 0};
	bool wal = strcmp(p->kind, "wal") == 0;
	run_child(p, path, report, wal ? 1 : 2);

	uint64_t wbuf = wal ? 4 * (p->wal_mib << 20) + (64u << 20) : 32u << 20;
	uint64_t t0 = bench_now_ns();
	hc_cache *c = open_store(path, p->dur, wbuf);
	uint64_t t1 = bench_now_ns(), t2;
	if (wal) {
		static unsigned char buf[VALUE];
		char key[32];
		size_t vl = 0;
		value_key(report[0] - 1, key);
		if (hc_get(c, key, strlen(key), buf, sizeof buf, &vl) != 0 || vl != VALUE)
			die("%s durability: the last acknowledged value %s is gone after kill -9",
			    p->dur, key);
		t2 = bench_now_ns();
	} else {
		struct kelgen_id id;
		char msg[KELGEN_MSG_MAX];
		if (kelgen_icp(&id, SEED, 0, msg, sizeof msg) == 0)
			die("kelgen");
		struct hc_keystate ks;
		if (hc_keystate_get(c, id.pre, &ks) != 0 || ks.sn != report[0])
			die("identifier 0's key state is not at sn %llu after kill -9",
			    (unsigned long long)report[0]);
		t2 = bench_now_ns(); /* the first served read; the replay below is apart */
		p->append_per_s = (double)report[1];
		uint64_t n = 0, r0 = bench_now_ns();
		if (hc_kel_verify(c, id.pre, &n) != 0)
			die("kel verify: %s", hc_last_error());
		p->replay_per_s = (double)n / ((double)(bench_now_ns() - r0) / 1e9);
	}
	p->open_ms = (double)(t1 - t0) / 1e6;
	p->first_ms = (double)(t2 - t0) / 1e6;
	hc_close(c);
	remove_tree(path);
}

int main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "--child") == 0) {
		/* --child KIND DURABILITY N PATH FD: run_child's exec'd child. */
		int fd = atoi(argv[6]);
		uint64_t n = strtoull(argv[4], NULL, 10);
		if (strcmp(argv[2], "wal") == 0)
			child_wal(fd, argv[5], argv[3], n);
		else
			child_kel(fd, argv[5], n);
		return 0;
	}
	bool quick = false, json = false;
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (strcmp(argv[i], "--quick") == 0)
			quick = true;
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if ((v = bench_opt(argc, argv, &i, "--dir")) != NULL)
			g_base = v;
		else {
			fprintf(stderr, "usage: recovery_bench [--quick] [--json] [--dir DIR]\n");
			return 2;
		}
	}
	static const uint64_t wal_full[] = {1, 16, 64, 256}, ev_full[] = {10000, 100000, 1000000};
	size_t nwal = quick ? 2 : 4, nev = quick ? 1 : 3;
	struct point pts[16];
	size_t np = 0;
	for (int d = 0; d < 2; d++)
		for (size_t i = 0; i < nwal; i++)
			pts[np++] = (struct point){.kind = "wal", .dur = d ? "wal" : "sync",
			                           .wal_mib = wal_full[i]};
	for (size_t i = 0; i < nev; i++)
		pts[np++] = (struct point){.kind = "kel", .dur = "wal", .events = ev_full[i]};

	printf("recovery after kill -9: hc_open, then the first served read (%s)\n",
	       quick ? "--quick" : "full");
	printf("%-4s %-5s %9s %9s %9s %14s %10s %10s\n", "kind", "dur", "WAL MiB", "events",
	       "open ms", "first read ms", "append/s", "replay/s");
	struct bench_buf jb = {0};
	bench_buf_printf(&jb, "{\"bench\":\"recovery\",\"results\":[");
	for (size_t i = 0; i < np; i++) {
		struct point *p = &pts[i];
		measure(p);
		printf("%-4s %-5s %9llu %9llu %9.1f %14.1f %10.0f %10.0f\n", p->kind, p->dur,
		       (unsigned long long)p->wal_mib, (unsigned long long)p->events, p->open_ms,
		       p->first_ms, p->append_per_s, p->replay_per_s);
		fflush(stdout);
		bench_buf_printf(&jb, "%s{\"kind\":\"%s\",\"durability\":\"%s\",\"wal_mib\":%llu,"
		                 "\"events\":%llu,\"open_ms\":%.2f,\"first_read_ms\":%.2f,"
		                 "\"append_per_s\":%.0f,\"replay_per_s\":%.0f}", i ? "," : "",
		                 p->kind, p->dur, (unsigned long long)p->wal_mib,
		                 (unsigned long long)p->events, p->open_ms, p->first_ms,
		                 p->append_per_s, p->replay_per_s);
	}
	bench_buf_printf(&jb, "]}");
	if (json)
		printf("%s\n", jb.s);
	bench_buf_free(&jb);
	return 0;
}
