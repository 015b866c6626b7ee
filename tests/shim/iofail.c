/*
 * tests/shim/iofail.c: the I/O-failure shim (see iofail.h).
 *
 * The armed configuration is an immutable struct published with a release store and read
 * with an acquire load, so RocksDB's background threads may write while a test re-arms;
 * old configurations are never freed (a few bytes per arm, test-only), which is what
 * keeps that lock-free read safe.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tests/shim/iofail.h"

#define EXPORT __attribute__((visibility("default")))

struct conf {
	char dir[PATH_MAX];
	size_t dirlen;
	unsigned ops;
	int err;
	atomic_long skip;
	atomic_long limit;
};

static _Atomic(struct conf *) armed;
static atomic_long injected;

EXPORT void hc_iofail_arm(const char *dir, unsigned ops, int err, long skip, long limit);
EXPORT void hc_iofail_disarm(void);
EXPORT long hc_iofail_injected(void);

void hc_iofail_arm(const char *dir, unsigned ops, int err, long skip, long limit)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (c == NULL)
		abort();
	if (realpath(dir, c->dir) == NULL)
		snprintf(c->dir, sizeof(c->dir), "%s", dir);
	c->dirlen = strlen(c->dir);
	c->ops = ops;
	c->err = err;
	atomic_init(&c->skip, skip);
	atomic_init(&c->limit, limit);
	atomic_store_explicit(&armed, c, memory_order_release);
}

void hc_iofail_disarm(void)
{
	atomic_store_explicit(&armed, NULL, memory_order_release);
}

long hc_iofail_injected(void)
{
	return atomic_load(&injected);
}

/* 0 to let the call through; else the errno to fail it with. */
static int should_fail(int fd, unsigned op)
{
	struct conf *c = atomic_load_explicit(&armed, memory_order_acquire);
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (c == NULL || !(c->ops & op))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = '\0';
	if (strncmp(path, c->dir, c->dirlen) != 0 ||
	    (path[c->dirlen] != '/' && path[c->dirlen] != '\0'))
		return 0;
	if (atomic_fetch_sub(&c->skip, 1) > 0)
		return 0;
	if (atomic_load(&c->limit) >= 0 && atomic_fetch_sub(&c->limit, 1) <= 0)
		return 0;
	atomic_fetch_add(&injected, 1);
	return c->err;
}

#define REAL(name, type)                                                                  \
	static type real_##name(void)                                                     \
	{                                                                                 \
		static _Atomic(type) fn;                                                  \
		type f = atomic_load_explicit(&fn, memory_order_relaxed);                 \
		if (f == NULL) {                                                          \
			f = (type)dlsym(RTLD_NEXT, #name);                                \
			atomic_store_explicit(&fn, f, memory_order_relaxed);              \
		}                                                                         \
		return f;                                                                 \
	}

typedef ssize_t (*write_t)(int, const void *, size_t);
typedef ssize_t (*pwrite_t)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_t)(int, const struct iovec *, int);
typedef ssize_t (*pwritev_t)(int, const struct iovec *, int, off_t);
typedef int (*sync_t)(int);
typedef int (*sfr_t)(int, off_t, off_t, unsigned int);

REAL(write, write_t)
REAL(pwrite, pwrite_t)
REAL(pwrite64, pwrite_t)
REAL(writev, writev_t)
REAL(pwritev, pwritev_t)
REAL(fsync, sync_t)
REAL(fdatasync, sync_t)
REAL(sync_file_range, sfr_t)

#define FAIL_IF(fd, op)                                                                   \
	do {                                                                              \
		int e_ = should_fail(fd, op);                                             \
		if (e_ != 0) {                                                            \
			errno = e_;                                                       \
			return -1;                                                        \
		}                                                                         \
	} while (0)

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	FAIL_IF(fd, HC_IOFAIL_WRITE);
	return real_write()(fd, buf, n);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	FAIL_IF(fd, HC_IOFAIL_WRITE);
	return real_pwrite()(fd, buf, n, off);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	FAIL_IF(fd, HC_IOFAIL_WRITE);
	return real_pwrite64()(fd, buf, n, off);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	FAIL_IF(fd, HC_IOFAIL_WRITE);
	return real_writev()(fd, iov, cnt);
}

EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	FAIL_IF(fd, HC_IOFAIL_WRITE);
	return real_pwritev()(fd, iov, cnt, off);
}

EXPORT int fsync(int fd)
{
	FAIL_IF(fd, HC_IOFAIL_SYNC);
	return real_fsync()(fd);
}

EXPORT int fdatasync(int fd)
{
	FAIL_IF(fd, HC_IOFAIL_SYNC);
	return real_fdatasync()(fd);
}

EXPORT int sync_file_range(int fd, off_t off, off_t n, unsigned int flags)
{
	/* flags 0 is a no-op that RocksDB uses as a probe (and asserts on its failure) */
	if (flags != 0)
		FAIL_IF(fd, HC_IOFAIL_SYNC);
	return real_sync_file_range()(fd, off, n, flags);
}

static int parse_errno(const char *s)
{
	if (s == NULL || strcmp(s, "EIO") == 0)
		return EIO;
	if (strcmp(s, "ENOSPC") == 0)
		return ENOSPC;
	return atoi(s) > 0 ? atoi(s) : EIO;
}

__attribute__((constructor)) static void iofail_from_env(void)
{
	const char *dir = getenv("HC_IOFAIL_DIR"), *ops = getenv("HC_IOFAIL_OPS");
	const char *skip = getenv("HC_IOFAIL_SKIP");
	unsigned mask = 0;

	if (dir == NULL || ops == NULL)
		return;
	if (strstr(ops, "write") != NULL)
		mask |= HC_IOFAIL_WRITE;
	if (strstr(ops, "sync") != NULL)
		mask |= HC_IOFAIL_SYNC;
	hc_iofail_arm(dir, mask, parse_errno(getenv("HC_IOFAIL_ERRNO")),
	              skip != NULL ? atol(skip) : 0, -1);
}
