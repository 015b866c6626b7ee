/*
 * Secrets in memory: after 10 000 entries holding a canary are evicted, replaced and
 * deleted and reclamation has finished, no copy of any canary is left anywhere in the
 * process's writable memory (payload bytes are wiped before their memory is freed:
 * entry_free_now); and the data key sits in guarded memory, where a write one byte past
 * it faults.
 *
 * Canaries: 16 bytes, an 8-byte magic and then tag(i) for entry i, where tag is a
 * bijection on 64-bit words (i + C) * K, K odd, so the scanner recognises a canary by
 * inverting it (i < N) and no table of canaries ever sits in memory. Each value is built
 * on the stack around its canary and wiped (sodium_memzero) right after hc_put, and values
 * read back with hc_get are wiped the same way, so the test itself keeps no copy.
 *
 * The scanner reads every writable mapping of /proc/self/maps through /proc/self/mem
 * (pread: a page that cannot be read is skipped and counted, never a fault), into a
 * buffer of its own mapping, which it leaves out of the scan and wipes afterwards; it
 * reads only the pages /proc/self/pagemap says are present or swapped out, the others
 * being zeros never written (reading them made them resident: read_resident).
 *
 * Checks:
 *   - backing.mode = none: entries replaced (a third), deleted (a third) and evicted by
 *     filler entries (a third), then all deleted; reclaim_drain until nothing is retired;
 *     a scan while the cache is open finds 0 canaries, and another after hc_close;
 *   - backing.mode = rocksdb (sealed at rest): the same, plus misses that load and unseal
 *     a third of the canary entries back into the cache before they are deleted;
 *   - control: a canary in a plain malloc'd buffer freed without wiping IS found, which
 *     shows the scanner sees freed heap memory;
 *   - the data key: in forked children, reading the key works, while writing one byte
 *     past its sodium_malloc allocation, reading one byte past it, or writing inside it
 *     (read-only after load) end the child with SIGSEGV/SIGBUS; control: the same write
 *     past a 33-byte object at the end of an unguarded page does not fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#define BACKING_INTERNAL
#include "backing/backing.h"
#include "cache/cache.h"

#define N 10000u
#define VMAX 256
#define MAGIC_ENTRY 0x5ec7e7ca4a41e5c1ull  /* canaries of cache entries */
#define MAGIC_CONTROL 0x5ec7e7c0417201e7ull /* the control's canary */
#define TAG_C 0x243f6a8885a308d3ull
#define TAG_K 0x9e3779b97f4a7c15ull /* odd: invertible mod 2^64 */

static uint64_t tag_k_inv;

static uint64_t tag(uint64_t i)
{
	return (i + TAG_C) * TAG_K;
}

static uint64_t untag(uint64_t t)
{
	return t * tag_k_inv - TAG_C;
}

static uint64_t inverse_odd(uint64_t k)
{
	uint64_t x = k; /* Newton: each step doubles the correct low bits */
	for (int i = 0; i < 6; i++)
		x *= 2 - k * x;
	return x;
}

/* ---- the scanner --------------------------------------------------------------------- */

#define CHUNK (4u << 20)
#define MAX_REGIONS 16384

struct scan {
	long found;
	uint64_t bytes, unreadable, vanished;
	uint64_t absent; /* of bytes: pages never touched (neither present nor swapped) */
	unsigned regions, skipped;
};

/* Larger writable mappings are address-space reserves, not memory anyone wrote to:
 * in sanitizer builds, ASan's shadow (about 15 TiB). Release builds have none. */
#define HUGE_MAPPING (64ull << 30)

static unsigned char *scanbuf; /* its own mapping, CHUNK + 16 bytes */

/* Counts canaries starting in p[0, own) (the rest of len is the overlap). */
static void scan_chunk(const unsigned char *p, size_t len, size_t own, uint64_t magic,
                       uint64_t n, struct scan *s)
{
	const unsigned char *end = p + len, *stop = p + own;

	while (p + 16 <= end) {
		const unsigned char *hit = memmem(p, (size_t)(end - p), &magic, 8);
		uint64_t t;

		if (hit == NULL || hit + 16 > end || hit >= stop)
			break;
		memcpy(&t, hit + 8, 8);
		if (untag(t) < n)
			s->found++;
		p = hit + 1;
	}
}

static uint64_t lo[MAX_REGIONS], hi[MAX_REGIONS];

/* The writable mappings now, but the buffer's, in lo/hi; returns their number. */
static unsigned read_maps(struct scan *s)
{
	unsigned nr = 0;
	char line[512], perms[8];
	FILE *maps = fopen("/proc/self/maps", "r");

	assert_non_null(maps);
	while (fgets(line, sizeof(line), maps) != NULL && nr < MAX_REGIONS) {
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx %7s", &a, &b, perms) != 3 || perms[0] != 'r' ||
		    perms[1] != 'w')
			continue;
		if ((uintptr_t)scanbuf >= a && (uintptr_t)scanbuf < b)
			continue; /* the scanner's own copies */
		if (b - a > HUGE_MAPPING) {
			s->skipped++; /* ASan's shadow (terabytes of reserve): metadata, no data */
			continue;
		}
		lo[nr] = a;
		hi[nr] = b;
		nr++;
	}
	fclose(maps);
	return nr;
}

/* Pages that failed to read, retried once against a fresh map (see below). */
#define MAX_RETRY 65536
static uint64_t retry_pg[MAX_RETRY];

/*
 * Reads want bytes at off into scanbuf as pread would, but only the pages that are
 * present or swapped out (/proc/self/pagemap's bits 63 and 62); a page never touched
 * reads as the zeros it holds, without reading it: a read through /proc/self/mem faults
 * such a page in, so a large writable reservation became resident memory (the ASan
 * build's run once reached 24 GB resident and the kernel killed it, against 0.9 GB
 * normally; which reservation it read was not caught). A canary is written memory, on
 * a present or swapped page. Returns want, or -1 when a
 * present page could not be read (the caller then goes page by page).
 */
#define PM_PAGES ((CHUNK + 16) / 4096 + 2)
static uint64_t pm_entry[PM_PAGES];
static ssize_t read_resident(int mem, int pm, uint64_t off, size_t want, struct scan *s)
{
	uint64_t first = off / 4096, last = (off + want - 1) / 4096;
	size_t np = (size_t)(last - first + 1);
	if (np > PM_PAGES ||
	    pread(pm, pm_entry, np * 8, (off_t)(first * 8)) != (ssize_t)(np * 8))
		return pread(mem, scanbuf, want, (off_t)off); /* no map: read it all */
	for (size_t i = 0; i < np;) {
		int in = (pm_entry[i] >> 62) != 0;
		size_t j = i + 1;
		while (j < np && ((pm_entry[j] >> 62) != 0) == in)
			j++;
		uint64_t a = (first + i) * 4096, b = (first + j) * 4096;
		a = a < off ? off : a;
		b = b > off + want ? off + want : b;
		if (in) {
			if (pread(mem, scanbuf + (a - off), b - a, (off_t)a) != (ssize_t)(b - a))
				return -1;
		} else {
			memset(scanbuf + (a - off), 0, b - a);
			uint64_t own_end = off + (want < CHUNK ? want : CHUNK); /* not the overlap */
			if (a < own_end)
				s->absent += (b < own_end ? b : own_end) - a;
		}
		i = j;
	}
	return (ssize_t)want;
}

/* Counts canaries (magic, tag(i) for i < n) in every writable mapping but the buffer's. */
static struct scan scan_memory(uint64_t magic, uint64_t n)
{
	struct scan s = {0};
	size_t nretry = 0;
	int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	assert_true(mem >= 0);
	assert_true(pm >= 0);
	unsigned nr = read_maps(&s);
	for (unsigned r = 0; r < nr; r++) {
		s.regions++;
		for (uint64_t off = lo[r]; off < hi[r]; off += CHUNK) {
			/* 15 bytes of overlap: a canary across two chunks is seen once. */
			uint64_t want = hi[r] - off < CHUNK + 15 ? hi[r] - off : CHUNK + 15;
			ssize_t got = read_resident(mem, pm, off, (size_t)want, &s);
			if (got == (ssize_t)want) {
				size_t own = want < CHUNK ? (size_t)want : CHUNK;
				s.bytes += own;
				scan_chunk(scanbuf, (size_t)want, own, magic, n, &s);
				continue;
			}
			/* A page in the chunk cannot be read: page by page, skipping those. */
			uint64_t end = want < CHUNK ? off + want : off + CHUNK;
			for (uint64_t pg = off; pg < end; pg += 4096) {
				size_t w = end - pg < 4096 ? (size_t)(end - pg) : 4096;
				size_t extra = pg + w + 15 <= hi[r] ? 15 : 0;
				got = pread(mem, scanbuf, w + extra, (off_t)pg);
				if (got < (ssize_t)w)
					got = pread(mem, scanbuf, w, (off_t)pg);
				if (got < (ssize_t)w) {
					if (nretry < MAX_RETRY)
						retry_pg[nretry++] = pg;
					else
						s.unreadable += w;
					continue;
				}
				s.bytes += w;
				scan_chunk(scanbuf, (size_t)got, w, magic, n, &s);
			}
		}
	}
	/* A page unmapped after the map was read (RocksDB's threads free memory meanwhile)
	 * holds nothing any more; one still mapped writable is read again, and counted as
	 * unreadable if it still fails. */
	struct scan again = {0};
	nr = read_maps(&again);
	for (size_t i = 0; i < nretry; i++) {
		unsigned r = 0;
		while (r < nr && !(retry_pg[i] >= lo[r] && retry_pg[i] < hi[r]))
			r++;
		if (r == nr) {
			s.vanished += 4096;
			continue;
		}
		if (pread(mem, scanbuf, 4096, (off_t)retry_pg[i]) != 4096) {
			s.unreadable += 4096;
			continue;
		}
		s.bytes += 4096;
		scan_chunk(scanbuf, 4096, 4096, magic, n, &s);
	}
	close(pm);
	close(mem);
	sodium_memzero(scanbuf, CHUNK + 16);
	return s;
}

/* ---- values ------------------------------------------------------------------------ */

static void key_of(unsigned i, char *key, size_t cap)
{
	snprintf(key, cap, "secret/%u", i);
}

/* Builds entry i's value around its canary in v; returns its length. */
static size_t value_of(unsigned i, unsigned char *v)
{
	size_t len = 48 + i % 64, at = 8 + i % 23; /* at + 16 <= 46 < len */
	uint64_t m = MAGIC_ENTRY, t = tag(i);

	for (size_t j = 0; j < len; j++)
		v[j] = (unsigned char)(i * 31 + j * 7);
	memcpy(v + at, &m, 8);
	memcpy(v + at + 8, &t, 8);
	return len;
}

static void put_canary(hc_cache *c, unsigned i)
{
	char key[32];
	unsigned char v[VMAX];
	size_t len = value_of(i, v);

	key_of(i, key, sizeof(key));
	assert_int_equal(hc_put(c, key, strlen(key), v, len), 0);
	sodium_memzero(v, sizeof(v));
}

static void put_plain(hc_cache *c, const char *key, size_t vlen)
{
	unsigned char v[VMAX];

	memset(v, 0x3c, sizeof(v));
	assert_int_equal(hc_put(c, key, strlen(key), v, vlen), 0);
}

/* ---- the cache cases ------------------------------------------------------------------ */

struct tmpdir {
	char root[256], db[300], key[300];
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static hc_cache *open_cache(int rocks, struct tmpdir *d)
{
	struct hc_config cfg;
	hc_cache *c;

	hc_config_default(&cfg);
	cfg.memory_limit = 8u << 20;
	cfg.max_entry = 4096;
	if (rocks) {
		const char *tmp = getenv("TMPDIR");
		snprintf(d->root, sizeof(d->root), "%s/hc_secrets_XXXXXX", tmp ? tmp : "/tmp");
		assert_non_null(mkdtemp(d->root));
		snprintf(d->db, sizeof(d->db), "%s/db", d->root);
		snprintf(d->key, sizeof(d->key), "%s/data.key", d->root);
		cfg.backing_mode = HC_BACKING_ROCKSDB;
		snprintf(cfg.backing_path, sizeof(cfg.backing_path), "%s", d->db);
		snprintf(cfg.key_file, sizeof(cfg.key_file), "%s", d->key);
		cfg.durability = HC_DURABILITY_WAL; /* the same bytes as sync, without the wait */
		cfg.create_if_missing = 1;
		cfg.block_cache = 1u << 20;
		cfg.write_buffer = 1u << 20;
	} else {
		cfg.backing_mode = HC_BACKING_NONE;
	}
	assert_int_equal(hc_open(&cfg, &c), 0);
	return c;
}

/* Filler entries, three times the memory limit, each read back a few times so that the
 * policy's frequency admission prefers them to the canaries (put once, never read):
 * everything else is evicted. */
static void evict_all(hc_cache *c)
{
	static unsigned next;
	char key[32];
	unsigned char buf[VMAX];
	size_t vlen;

	for (unsigned i = 0; i < 3 * (8u << 20) / 200; i++) {
		snprintf(key, sizeof(key), "filler/%u", next++);
		put_plain(c, key, 160);
		for (int r = 0; r < 4; r++)
			if (hc_get(c, key, strlen(key), buf, sizeof(buf), &vlen) != 0)
				break;
	}
	sodium_memzero(buf, sizeof(buf));
}

static void run_case(int rocks)
{
	struct tmpdir d;
	hc_cache *c = open_cache(rocks, &d);
	struct hc_stats st;
	char key[32];

	for (unsigned i = 0; i < N; i++)
		put_canary(c, i);
	struct scan before = scan_memory(MAGIC_ENTRY, N);
	assert_int_equal(hc_stats(c, &st), 0);
	printf("%s: %u canary entries put, %" PRIu64 " resident: the scanner sees %ld canaries "
	       "in %" PRIu64 " MiB\n", rocks ? "rocksdb" : "none", N, st.entries, before.found,
	       before.bytes >> 20);
	assert_true(before.found >= (long)st.entries); /* the scan does see live entries */

	if (rocks) { /* evict them all, then misses load and unseal a third back in */
		evict_all(c);
		for (unsigned i = 0; i < N; i += 3) {
			unsigned char buf[VMAX];
			size_t vlen;
			key_of(i, key, sizeof(key));
			int rc = hc_get(c, key, strlen(key), buf, sizeof(buf), &vlen);
			assert_int_equal(rc, 0);
			sodium_memzero(buf, sizeof(buf));
		}
		assert_int_equal(hc_stats(c, &st), 0);
		printf("rocksdb: %" PRIu64 " misses loaded and unsealed\n", st.loads);
		assert_true(st.loads >= N / 3 / 2);
	}
	for (unsigned i = 0; i < N; i++) {
		key_of(i, key, sizeof(key));
		if (i % 3 == 0)
			assert_int_equal(hc_delete(c, key, strlen(key)), 0);
		else if (i % 3 == 1)
			put_plain(c, key, 48 + i % 64); /* replaced */
	}
	evict_all(c); /* the rest */
	for (unsigned i = 0; i < N; i++) {
		key_of(i, key, sizeof(key));
		assert_int_equal(hc_delete(c, key, strlen(key)), 0);
	}
	struct reclaim_thread *t = reclaim_self(&c->rc);
	assert_non_null(t);
	assert_int_equal(reclaim_drain(t, 5000000000ull), 0);
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(reclaim_backlog(&c->rc), 0);

	struct scan open_scan = scan_memory(MAGIC_ENTRY, N);
	printf("%s: after replace/delete/evict and reclamation (evictions %" PRIu64 ", retired "
	       "bytes %" PRIu64 "): %ld canaries in %" PRIu64 " MiB of %u writable mappings "
	       "(%u reserves over 64 GiB skipped, %" PRIu64 " bytes unreadable, %" PRIu64 " bytes "
	       "unmapped during the scan, %" PRIu64 " MiB never touched)\n",
	       rocks ? "rocksdb" : "none", st.evictions, st.retired_bytes, open_scan.found,
	       open_scan.bytes >> 20, open_scan.regions, open_scan.skipped, open_scan.unreadable,
	       open_scan.vanished, open_scan.absent >> 20);
	hc_close(c);
	struct scan closed = scan_memory(MAGIC_ENTRY, N);
	printf("%s: after hc_close: %ld canaries in %" PRIu64 " MiB\n", rocks ? "rocksdb" : "none",
	       closed.found, closed.bytes >> 20);
	if (rocks)
		nftw(d.root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	assert_true(st.evictions > 0);
	assert_int_equal(open_scan.found, 0);
	assert_int_equal(closed.found, 0);
	assert_int_equal(open_scan.unreadable, 0); /* every mapped page was looked at */
	assert_int_equal(closed.unreadable, 0);
}

static void test_no_canary_left_cache_only(void **state)
{
	(void)state;
	run_case(0);
}

static void test_no_canary_left_rocksdb(void **state)
{
	(void)state;
	run_case(1);
}

/* The control: memory freed without wiping keeps its canary, and the scanner finds it. */
static void test_scanner_finds_unwiped_free(void **state)
{
	(void)state;
	struct scan s0 = scan_memory(MAGIC_CONTROL, N);
	unsigned char *volatile p = malloc(128);
	uint64_t m = MAGIC_CONTROL, t = tag(7);

	assert_non_null(p);
	memcpy(p + 40, &m, 8); /* past any allocator free-list words */
	memcpy(p + 48, &t, 8);
	free(p);
	struct scan s1 = scan_memory(MAGIC_CONTROL, N);
	printf("control: canaries found before the unwiped free %ld, after %ld\n", s0.found,
	       s1.found);
	assert_int_equal(s0.found, 0);
	assert_true(s1.found >= 1);
}

static long rss_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = atol(line + 6);
	fclose(f);
	return v;
}

/*
 * The scan leaves untouched memory untouched: a 1 GiB writable reservation with one
 * canary written in its middle. The scan finds the canary (a written page is read: one
 * more than before the write, which finds the control's freed one) and
 * the process's resident memory does not grow by the reservation (it grew by 1 GiB when
 * every page was read through /proc/self/mem).
 */
static void test_scan_reads_only_resident_pages(void **state)
{
	(void)state;
	size_t n = (size_t)1 << 30;
	unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
	                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(p != MAP_FAILED);
	long r0 = rss_kib();
	long before = scan_memory(MAGIC_CONTROL, N).found; /* the control's freed canary */
	uint64_t m = MAGIC_CONTROL, t = tag(9);
	memcpy(p + n / 2, &m, 8);
	memcpy(p + n / 2 + 8, &t, 8);
	struct scan sc = scan_memory(MAGIC_CONTROL, N);
	long r1 = rss_kib();
	printf("scan of a 1 GiB reservation with one written page: %ld canaries (%ld before "
	       "the write), %" PRIu64 " MiB absent, resident %ld -> %ld MiB\n", sc.found, before,
	       sc.absent >> 20, r0 >> 10, r1 >> 10);
	sodium_memzero(p + n / 2, 16);
	munmap(p, n);
	assert_int_equal(sc.found, before + 1);
	assert_true(sc.absent >= n - 4096);
	assert_true(r1 - r0 < (128L << 10)); /* KiB: far below the 1 GiB a full read maps */
}

/* ---- the data key in guarded memory --------------------------------------------------- */

enum { TOUCH_READ_IN, TOUCH_WRITE_PAST, TOUCH_READ_PAST, TOUCH_WRITE_IN, TOUCH_CONTROL };

/* Runs one access in a forked child; returns its wait status. */
static int touch_in_child(volatile unsigned char *base, size_t size, int how)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL; /* die of the fault itself, not a handler's report */
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
		switch (how) {
		case TOUCH_READ_IN:
			(void)base[0];
			break;
		case TOUCH_WRITE_PAST:
		case TOUCH_CONTROL:
			base[size] = 0x5a;
			break;
		case TOUCH_READ_PAST:
			(void)base[size];
			break;
		case TOUCH_WRITE_IN:
			base[0] ^= 1;
			break;
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static int faulted(int status)
{
	return WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS);
}

static void test_data_key_is_guarded(void **state)
{
	(void)state;
	struct tmpdir d;
	hc_cache *c = open_cache(1, &d);
	const struct backing_key *k = backing_key_of(c->backing);
	/* struct backing_key (seal.c) is { raw[32], id }: the allocation is 33 bytes and
	 * the raw bytes start it; sodium_malloc puts its end against the guard page. */
	size_t size = BACKING_KEY_BYTES + 1;
	volatile unsigned char *base = (volatile unsigned char *)k;

	assert_non_null(k);
	assert_ptr_equal(backing_key_bytes(k), (const unsigned char *)k);
	int in = touch_in_child(base, size, TOUCH_READ_IN);
	int wpast = touch_in_child(base, size, TOUCH_WRITE_PAST);
	int rpast = touch_in_child(base, size, TOUCH_READ_PAST);
	int win = touch_in_child(base, size, TOUCH_WRITE_IN);

	/* Control: a 33-byte object at the end of a page followed by an ordinary page. */
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *two = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
	                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(two != MAP_FAILED);
	int ctl = touch_in_child(two + pg - size, size, TOUCH_CONTROL);
	munmap(two, 2 * (size_t)pg);

	printf("data key: read inside -> %s; write 1 byte past -> %s; read 1 byte past -> %s; "
	       "write inside -> %s; control (unguarded page) write past -> %s\n",
	       faulted(in) ? "fault" : "ok", faulted(wpast) ? "fault" : "no fault",
	       faulted(rpast) ? "fault" : "no fault", faulted(win) ? "fault" : "no fault",
	       faulted(ctl) ? "fault" : "no fault");
	hc_close(c);
	nftw(d.root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	assert_true(WIFEXITED(in) && WEXITSTATUS(in) == 0);
	assert_true(faulted(wpast));
	assert_true(faulted(rpast));
	assert_true(faulted(win));
	assert_true(WIFEXITED(ctl) && WEXITSTATUS(ctl) == 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	tag_k_inv = inverse_odd(TAG_K);
	scanbuf = mmap(NULL, CHUNK + 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	               0);
	if (scanbuf == MAP_FAILED)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scanner_finds_unwiped_free),
		cmocka_unit_test(test_scan_reads_only_resident_pages),
		cmocka_unit_test(test_no_canary_left_cache_only),
		cmocka_unit_test(test_no_canary_left_rocksdb),
		cmocka_unit_test(test_data_key_is_guarded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
