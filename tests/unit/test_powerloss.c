/*
 * Power loss during hc_put with sync durability: no acknowledged write is lost, and what
 * survives is a prefix of each writer's acknowledged writes.
 *
 * A child process (exec'd afresh, with tests/shim/powerloss.c preloaded) opens the cache
 * over RocksDB and runs WRITERS threads; writer w owns SLOTS keys per cycle and its
 * write number s goes to slot s % SLOTS with a value naming (cycle, w, s). After hc_put
 * returned 0 the writer stores s + 1 in an mmap'd acknowledgement file (outside the
 * watched directory: it plays the client that saw the acknowledgement). The parent kills
 * the child with SIGKILL at a random moment (a quarter of the cycles during hc_open,
 * i.e. during RocksDB's recovery, the rest 5..150 ms into the writes), then applies the
 * power loss to the store directory (powerloss_apply: every file back to its last synced
 * size, every create/rename/unlink/mkdir whose directory was not fsync'd afterwards
 * undone; the shim's header states the model), reopens the cache without the shim and
 * checks, per writer, with P = 1 + the highest write number found on any of its keys:
 *
 *   - no acknowledged write lost: P >= acked, and no key holds less than its last
 *     acknowledged write ("lost an acknowledged write");
 *   - prefix: every key holds exactly the last write s < P to its slot, so the survivors
 *     are writes [0, P) with no gap; P <= acked + 1 (at most the one in-flight write);
 *   - every record opens and reads back byte for byte;
 *   - every earlier cycle's keys still hold what was found after their own crash.
 *
 * If the store does not reopen after a simulated power loss, the test fails saying so
 * and keeps the directory and the shim's log for inspection.
 *
 *   test_powerloss [cycles [sync|wal|none [fresh]]]   (default 10 sync)
 *
 * Controls (ctest expects "lost an acknowledged write"): durability none (no WAL) loses
 * the memtable; durability wal survives a plain SIGKILL (test_cache_crash_wal) but not a
 * power loss, so that run shows that the shim really drops unsynced bytes.
 * "fresh" lets the child create the store under the shim instead of the parent creating
 * it beforehand, which checks that store creation itself is durable.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hotcache.h"
#include "tests/unit/crashlog.h"

#ifndef HC_POWERLOSS_SHIM
#error "HC_POWERLOSS_SHIM must name the shim library"
#endif

#define WRITERS 3
#define SLOTS 8
#define VAL_MAX 2048
#define MAX_CYCLES 100000

struct acks {
	atomic_int ready;
	atomic_long acked[WRITERS];
};

struct paths {
	char root[256], store[300], db[320], key[320], acks[300], log[300], grave[300];
};

static void paths_of(const char *root, struct paths *p)
{
	snprintf(p->root, sizeof(p->root), "%s", root);
	snprintf(p->store, sizeof(p->store), "%s/store", root);
	snprintf(p->db, sizeof(p->db), "%s/db", p->store);
	snprintf(p->key, sizeof(p->key), "%s/data.key", p->store);
	snprintf(p->acks, sizeof(p->acks), "%s/acks", root);
	snprintf(p->log, sizeof(p->log), "%s/powerloss.log", root);
	snprintf(p->grave, sizeof(p->grave), "%s/grave", root);
}

static void key_of(int cycle, int w, int slot, char *key, size_t cap)
{
	snprintf(key, cap, "c%d/w%d/k%d", cycle, w, slot);
}

/* Write s of writer w in a cycle: a header naming it, then a pattern; 40 B .. ~1.5 KiB. */
static size_t val_of(int cycle, int w, long s, char *val)
{
	int n = snprintf(val, VAL_MAX, "c=%d w=%d s=%ld;", cycle, w, s);
	size_t len = 40 + (size_t)(s * 37 % 1500);

	for (size_t i = (size_t)n; i < len; i++)
		val[i] = (char)('a' + (s * 7 + (long)i) % 26);
	return len;
}

static int open_cache(const struct paths *p, int durability, hc_cache **c)
{
	struct hc_config cfg;

	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_ROCKSDB;
	snprintf(cfg.backing_path, sizeof(cfg.backing_path), "%s", p->db);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s", p->key);
	cfg.durability = durability;
	cfg.memory_limit = 8u << 20;
	cfg.max_entry = 64u << 10;
	cfg.block_cache = 1u << 20;
	cfg.write_buffer = 1u << 20; /* small memtables: flushes, SSTs and MANIFEST edits */
	cfg.create_if_missing = 1;
	return hc_open(&cfg, c);
}

/* ---- the child --------------------------------------------------------------------- */

struct writer {
	hc_cache *c;
	struct acks *acks;
	int cycle, w;
};

static void *writer_main(void *arg)
{
	struct writer *wr = arg;
	char key[64], val[VAL_MAX];

	for (long s = 0;; s++) {
		size_t n = val_of(wr->cycle, wr->w, s, val);
		int rc;

		key_of(wr->cycle, wr->w, (int)(s % SLOTS), key, sizeof(key));
		rc = hc_put(wr->c, key, strlen(key), val, n);
		if (rc != HC_OK) {
			fprintf(stderr, "child: hc_put: %s: %s\n", hc_strerror(rc), hc_last_error());
			_exit(3);
		}
		/* Acknowledged: only now may the parent count on it. */
		atomic_store_explicit(&wr->acks->acked[wr->w], s + 1, memory_order_release);
	}
	return NULL;
}

static int child_main(const char *root, int cycle, int durability)
{
	struct paths p;
	struct writer wr[WRITERS];
	pthread_t th[WRITERS];
	struct acks *acks;
	hc_cache *c;
	int rc;

	paths_of(root, &p);
	acks = crashlog_attach(p.acks, sizeof(*acks));
	if (acks == NULL)
		return 2;
	rc = open_cache(&p, durability, &c);
	if (rc != 0) {
		fprintf(stderr, "child: hc_open: %s: %s\n", hc_strerror(rc), hc_last_error());
		return 2;
	}
	for (int w = 0; w < WRITERS; w++) {
		wr[w] = (struct writer){.c = c, .acks = acks, .cycle = cycle, .w = w};
		if (pthread_create(&th[w], NULL, writer_main, &wr[w]) != 0)
			return 2;
	}
	atomic_store(&acks->ready, 1);
	for (;;)
		pause(); /* until SIGKILL */
}

/* ---- the power loss ------------------------------------------------------------------ */

struct pl_stats {
	long files_truncated, bytes_dropped, creates_undone, renames_undone, unlinks_undone,
	    mkdirs_undone, model_errors, log_lines;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void parent_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 0 : (size_t)(slash - path);

	snprintf(out, cap, "%.*s", (int)(n == 0 ? 1 : n), n == 0 ? "/" : path);
}

/* Directories fsync'd later in the log than the line being undone. */
struct dirset {
	char (*d)[PATH_MAX];
	size_t n, cap;
	int all;
};

static int dirset_has(const struct dirset *s, const char *dir)
{
	if (s->all)
		return 1;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->d[i], dir) == 0)
			return 1;
	return 0;
}

static void dirset_add(struct dirset *s, const char *dir)
{
	if (dirset_has(s, dir))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->d = realloc(s->d, s->cap * sizeof(*s->d));
		if (s->d == NULL)
			abort();
	}
	snprintf(s->d[s->n++], PATH_MAX, "%s", dir);
}

static int durable_in(const struct dirset *s, const char *path)
{
	char dir[PATH_MAX];

	parent_of(path, dir, sizeof(dir));
	return dirset_has(s, dir);
}

/* Undoes one namespace operation that its directory's sync never covered. */
static void undo(char op, const char *a, const char *b, const char *g, struct pl_stats *st)
{
	switch (op) {
	case 'C':
		if (exists(a) && unlink(a) == 0)
			st->creates_undone++;
		break;
	case 'K':
		if (exists(a)) {
			rm_tree(a);
			st->mkdirs_undone++;
		}
		break;
	case 'R':
		if (exists(a)) { /* the rename never happened */
			if (strcmp(g, "-") != 0)
				unlink(g);
			break;
		}
		if (rename(b, a) != 0) {
			fprintf(stderr, "powerloss: cannot undo rename %s -> %s: %s\n", a, b,
			        strerror(errno));
			st->model_errors++;
			break;
		}
		if (strcmp(g, "-") != 0 && rename(g, b) != 0) {
			fprintf(stderr, "powerloss: cannot restore %s: %s\n", b, strerror(errno));
			st->model_errors++;
		}
		st->renames_undone++;
		break;
	case 'U':
		if (exists(a)) /* the unlink never happened */
			unlink(g);
		else if (rename(g, a) == 0)
			st->unlinks_undone++;
		break;
	}
}

struct inode {
	unsigned long ino;
	long long synced;
};
static struct inode *inodes;
static size_t ninodes, inodes_cap;
static struct pl_stats *walk_stats;

static struct inode *inode_find(unsigned long ino, int add)
{
	for (size_t i = 0; i < ninodes; i++)
		if (inodes[i].ino == ino)
			return &inodes[i];
	if (!add)
		return NULL;
	if (ninodes == inodes_cap) {
		inodes_cap = inodes_cap ? 2 * inodes_cap : 64;
		inodes = realloc(inodes, inodes_cap * sizeof(*inodes));
		if (inodes == NULL)
			abort();
	}
	inodes[ninodes] = (struct inode){.ino = ino, .synced = -1};
	return &inodes[ninodes++];
}

static int truncate_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	struct inode *in = inode_find((unsigned long)st->st_ino, 0);
	if (in == NULL || in->synced < 0)
		return 0; /* not written in this run: durable from before */
	if (st->st_size > in->synced) {
		if (truncate(path, in->synced) != 0) {
			walk_stats->model_errors++;
			return 0;
		}
		walk_stats->files_truncated++;
		walk_stats->bytes_dropped += (long)(st->st_size - in->synced);
	} else if (st->st_size < in->synced) {
		fprintf(stderr, "powerloss: %s is %lld bytes, shorter than its synced %lld\n", path,
		        (long long)st->st_size, in->synced);
		walk_stats->model_errors++;
	}
	return 0;
}

/*
 * Rolls dir back to what the log says was durable (see tests/shim/powerloss.c), then
 * empties the grave. Runs after the logging process is dead. Returns 0, or -1 when the
 * log cannot be read.
 */
static int powerloss_apply(const char *dir, const char *log, const char *grave,
                           struct pl_stats *st)
{
	FILE *f = fopen(log, "r");
	char **lines = NULL, buf[4 * PATH_MAX];
	size_t n = 0, cap = 0;
	struct dirset synced = {0};

	if (f == NULL)
		return errno == ENOENT ? 0 : -1; /* nothing logged: nothing done */
	while (fgets(buf, sizeof(buf), f) != NULL) {
		size_t len = strlen(buf);
		if (len == 0 || buf[len - 1] != '\n')
			break; /* a torn last line cannot happen (one write per line); stop */
		buf[len - 1] = '\0';
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			lines = realloc(lines, cap * sizeof(*lines));
			if (lines == NULL)
				abort();
		}
		lines[n++] = strdup(buf);
	}
	fclose(f);
	st->log_lines += (long)n;

	/* Namespace: newest first, undo what no later directory sync covered. */
	for (size_t i = n; i-- > 0;) {
		char op = lines[i][0], a[PATH_MAX] = "", b[PATH_MAX] = "", g[PATH_MAX] = "";
		const char *rest = lines[i] + 2;

		switch (op) {
		case 'A':
			synced.all = 1;
			break;
		case 'D':
			dirset_add(&synced, rest);
			break;
		case 'C':
		case 'K':
			if (!durable_in(&synced, rest))
				undo(op, rest, NULL, NULL, st);
			break;
		case 'R':
			if (sscanf(rest, "%4095s %4095s %4095s", a, b, g) == 3 &&
			    !(durable_in(&synced, a) && durable_in(&synced, b)))
				undo(op, a, b, g, st);
			break;
		case 'U':
			if (sscanf(rest, "%4095s %4095s", a, g) == 2 && !durable_in(&synced, a))
				undo(op, a, NULL, g, st);
			break;
		}
	}
	/* Contents: each inode's synced size, in log order. */
	ninodes = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned long ino;
		long long sz;
		char op = lines[i][0];

		if ((op == 'O' || op == 'S' || op == 'T' || op == 'X') &&
		    sscanf(lines[i] + 2, "%lu %lld", &ino, &sz) == 2) {
			struct inode *in = inode_find(ino, 1);
			if (op == 'S')
				in->synced = sz;
			else if (op == 'O' || op == 'T')
				in->synced = in->synced < 0 || sz < in->synced ? sz : in->synced;
			else {
				fprintf(stderr, "powerloss: write at %lld below the synced size of "
				        "inode %lu: the model cannot undo it\n", sz, ino);
				st->model_errors++;
			}
		}
		free(lines[i]);
	}
	free(lines);
	free(synced.d);
	walk_stats = st;
	nftw(dir, truncate_one, 16, FTW_PHYS);
	rm_tree(grave);
	char keep[PATH_MAX];
	snprintf(keep, sizeof(keep), "%s.last", log);
	rename(log, keep); /* kept for a post-mortem of the last cycle */
	return 0;
}

/* ---- the parent ---------------------------------------------------------------------- */

static long final_p[MAX_CYCLES][WRITERS]; /* what each cycle left, found after its crash */
static int losses_reported;

/* The write number a key holds (-1: absent), checking its bytes; -2 on an error. */
static long read_slot(hc_cache *c, int cycle, int w, int slot)
{
	char key[64], buf[VAL_MAX], want[VAL_MAX];
	size_t vlen = 0;
	long s;
	int rc;

	key_of(cycle, w, slot, key, sizeof(key));
	rc = hc_get(c, key, strlen(key), buf, sizeof(buf), &vlen);
	if (rc == HC_ENOTFOUND)
		return -1;
	if (rc != HC_OK) {
		fprintf(stderr, "cycle %d %s: hc_get: %s: %s\n", cycle, key, hc_strerror(rc),
		        hc_last_error());
		return -2;
	}
	int cy, ww;
	if (vlen >= VAL_MAX || sscanf(buf, "c=%d w=%d s=%ld;", &cy, &ww, &s) != 3 || cy != cycle ||
	    ww != w || s % SLOTS != slot || val_of(cycle, w, s, want) != vlen ||
	    memcmp(want, buf, vlen) != 0) {
		fprintf(stderr, "cycle %d %s: holds a value that was never written to it\n", cycle,
		        key);
		return -2;
	}
	return s;
}

/* The last write s < p to slot, or -1. */
static long last_before(long p, int slot)
{
	if (p <= slot)
		return -1;
	return slot + ((p - 1 - slot) / SLOTS) * SLOTS;
}

/* Checks writer w of cycle against its acknowledgements; sets *p_out. */
static int check_writer(hc_cache *c, int cycle, int w, long acked, long *p_out, long *lost)
{
	long v[SLOTS], p = 0;
	int bad = 0;

	for (int k = 0; k < SLOTS; k++) {
		v[k] = read_slot(c, cycle, w, k);
		if (v[k] == -2)
			return -1;
		if (v[k] + 1 > p)
			p = v[k] + 1;
	}
	*p_out = p;
	for (int k = 0; k < SLOTS; k++)
		if (v[k] < last_before(acked, k)) {
			if (losses_reported++ < 10)
				fprintf(stderr, "cycle %d writer %d key k%d: lost an acknowledged write "
				        "(holds write %ld, write %ld was acknowledged)\n", cycle, w, k,
				        v[k], last_before(acked, k));
			bad = 1;
		}
	if (p < acked) {
		*lost += acked - p;
		if (losses_reported++ < 10)
			fprintf(stderr, "cycle %d writer %d: lost an acknowledged write: %ld "
			        "acknowledged, writes [0, %ld) survive\n", cycle, w, acked, p);
		bad = 1;
	}
	if (p > acked + 1) {
		fprintf(stderr, "cycle %d writer %d: write %ld survives but only %ld were issued\n",
		        cycle, w, p - 1, acked + 1);
		bad = 1;
	}
	for (int k = 0; k < SLOTS; k++)
		if (v[k] != last_before(p, k)) {
			fprintf(stderr, "cycle %d writer %d: survivors are not a prefix: key k%d holds "
			        "write %ld, expected %ld of writes [0, %ld)\n", cycle, w, k, v[k],
			        last_before(p, k), p);
			bad = 1;
		}
	return bad ? -1 : 0;
}

static int run_cycle(const struct paths *p, struct acks *acks, int cycle, const char *mode,
                     int durability, int fresh, struct pl_stats *st, long *total, long *lost)
{
	hc_cache *c;
	pid_t pid;
	int status, bad = 0, rc;

	/* The child's environment, built before fork: RocksDB's thread pools outlive
	 * hc_close, so the parent is multithreaded and the child may only exec. */
	static char envs[4][PATH_MAX + 32];
	static char *envp[256];
	extern char **environ;
	size_t ne = 0;
	for (char **e = environ; *e != NULL && ne < 250; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) != 0 && strncmp(*e, "HC_POWERLOSS_", 13) != 0)
			envp[ne++] = *e;
	snprintf(envs[0], sizeof(envs[0]), "LD_PRELOAD=%s", HC_POWERLOSS_SHIM);
	snprintf(envs[1], sizeof(envs[1]), "HC_POWERLOSS_DIR=%s", p->store);
	snprintf(envs[2], sizeof(envs[2]), "HC_POWERLOSS_LOG=%s", p->log);
	snprintf(envs[3], sizeof(envs[3]), "HC_POWERLOSS_GRAVE=%s", p->grave);
	for (int i = 0; i < 4; i++)
		envp[ne++] = envs[i];
	envp[ne] = NULL;

	memset(acks, 0, sizeof(*acks));
	mkdir(p->grave, 0700);
	pid = crashlog_spawn("test_powerloss", p->root, cycle, mode, envp);
	if (pid < 0)
		return -1;
	if (!fresh && rand() % 4 == 0) {
		crashlog_sleep_ms(rand() % 40); /* during hc_open: RocksDB's recovery, flush, new WAL */
	} else {
		/* 10 s at most; a child still not ready is killed and checked all the same */
		if (crashlog_wait_ready(pid, &acks->ready, 20000, 500, &status) < 0) {
			fprintf(stderr, "cycle %d: child exited early (%d)\n", cycle, status);
			return -1;
		}
		crashlog_sleep_ms(5 + rand() % 146);
		/* A fresh store is checked with at least one acknowledged write. */
		for (int i = 0; fresh && i < 20000 && atomic_load(&acks->acked[0]) == 0; i++)
			usleep(500);
	}
	if (crashlog_kill(pid, &status) != 0) {
		fprintf(stderr, "cycle %d: child ended otherwise (status %d)\n", cycle, status);
		return -1;
	}
	if (powerloss_apply(p->store, p->log, p->grave, st) != 0 || st->model_errors != 0) {
		fprintf(stderr, "cycle %d: the power-loss model could not be applied\n", cycle);
		return -1;
	}
	rc = open_cache(p, durability, &c);
	if (rc != 0) {
		fprintf(stderr, "cycle %d: FINDING: the store does not reopen after a power loss "
		        "(%s durability): %s: %s\n", cycle, mode, hc_strerror(rc), hc_last_error());
		return -1;
	}
	for (int w = 0; w < WRITERS; w++) {
		long acked = atomic_load(&acks->acked[w]);

		*total += acked;
		if (check_writer(c, cycle, w, acked, &final_p[cycle][w], lost) != 0)
			bad = 1;
	}
	/* Earlier cycles: what their own check found must still be there. */
	for (int cy = 0; cy < cycle && !bad; cy++)
		for (int w = 0; w < WRITERS && !bad; w++)
			for (int k = 0; k < SLOTS; k++) {
				long v = read_slot(c, cy, w, k);
				if (v != last_before(final_p[cy][w], k)) {
					fprintf(stderr, "cycle %d: cycle %d writer %d key k%d changed: "
					        "holds %ld, held %ld: lost an acknowledged write\n", cycle,
					        cy, w, k, v, last_before(final_p[cy][w], k));
					bad = 1;
					break;
				}
			}
	hc_close(c);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2], atoi(argv[3]), crashlog_mode(argv[4]));

	int cycles = argc > 1 ? atoi(argv[1]) : 10;
	const char *mode = argc > 2 ? argv[2] : "sync";
	int fresh = argc > 3 && strcmp(argv[3], "fresh") == 0;
	int durability = crashlog_mode(mode);
	const char *tmp = getenv("TMPDIR");
	struct pl_stats st = {0};
	char root[256], real[PATH_MAX];
	struct paths p;
	struct acks *acks;
	struct timespec t0, t1;
	long total = 0, lost = 0;
	int cycle, failed = 0;

	if (cycles < 1 || cycles > MAX_CYCLES)
		cycles = 10;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	snprintf(root, sizeof(root), "%s/hc_powerloss_XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(root) == NULL || realpath(root, real) == NULL)
		return 2;
	paths_of(real, &p);
	if (mkdir(p.store, 0700) != 0)
		return 2;
	acks = crashlog_create(p.acks, sizeof(*acks));
	if (acks == NULL)
		return 2;
	if (!fresh) {
		/* The store exists, closed cleanly, before the first power cut. */
		hc_cache *c;
		if (open_cache(&p, durability, &c) != 0) {
			fprintf(stderr, "cannot create the store: %s\n", hc_last_error());
			return 2;
		}
		hc_close(c);
	}
	for (cycle = 0; cycle < cycles; cycle++)
		if (run_cycle(&p, acks, cycle, mode, durability, fresh, &st, &total, &lost) != 0) {
			failed = 1;
			break;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("power loss (%s%s): %d cycles, %ld acknowledged writes, %ld lost; the power cuts "
	       "dropped %ld bytes from %ld files and undid %ld creates, %ld renames, %ld "
	       "unlinks, %ld mkdirs (%ld log lines); %.1f s\n", mode, fresh ? ", fresh store" : "",
	       failed ? cycle + 1 : cycles, total, lost, st.bytes_dropped, st.files_truncated,
	       st.creates_undone, st.renames_undone, st.unlinks_undone, st.mkdirs_undone,
	       st.log_lines, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	int finding = failed && fresh && st.mkdirs_undone > 0 && lost > 0;
	if (finding)
		printf("FINDING: the store directory's creation was never made durable: no fsync "
		       "of its parent after RocksDB's mkdir, so the power cut removed it with every "
		       "acknowledged write, and hc_open (backing.create) then opened a new empty "
		       "store without a word\n");
	if (failed) {
		int keep = durability == HC_DURABILITY_SYNC && !finding; /* a new failure */
		fprintf(stderr, "FAIL: cycle %d of %d (%s); store kept at %s\n", cycle, cycles, mode,
		        keep ? p.root : "(removed)");
		if (!keep)
			rm_tree(p.root);
		return 1;
	}
	rm_tree(p.root);
	return 0;
}
