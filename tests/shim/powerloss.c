/*
 * hc_powerloss: an LD_PRELOAD shim that records what a process made durable in one
 * directory, so that a test can simulate a power loss after killing it.
 *
 * Model (the one RocksDB's own FaultInjectionTestEnv uses, utilities/fault_injection_env.cc,
 * extended to renames over existing files, unlinks and mkdir): a file's bytes are durable
 * up to its size at its last fsync/fdatasync; a directory entry created, renamed or
 * removed in directory d is durable once d itself is fsync'd (or sync/syncfs ran).
 * sync_file_range, msync and fallocate make nothing durable. Everything else is lost at
 * the power cut.
 *
 * Design: the shim never holds data back. Every call goes through to the real file
 * system, and the shim appends one line per durability-relevant event to a log (one
 * write(2) per line on an O_APPEND descriptor, so lines from concurrent threads never
 * interleave and a SIGKILL loses at most the line being formatted). After the process
 * is killed, a separate step (powerloss_apply() in tests/unit/test_powerloss.c) replays
 * the log and rolls the directory back to its durable state: it truncates each file to
 * its last synced size and undoes, newest first, every namespace operation whose
 * directory was not synced afterwards. To undo a rename over an existing file or an
 * unlink, the shim first hard-links the victim into a "grave" directory on the same
 * file system and names the link in the log.
 *
 * Namespace operations are logged before they are made (an intent: the undo checks
 * whether it happened); syncs are logged after they succeeded and before the call
 * returns, so nothing the caller could acknowledge depends on an unlogged sync.
 *
 * Log lines (paths are absolute; inode numbers are decimal):
 *   C <path>                   a new regular file (open O_CREAT of an absent name, link)
 *   K <path>                   a new directory (mkdir)
 *   R <old> <new> <grave|->    rename; grave holds the replaced target, if any
 *   U <path> <grave>           unlink; grave holds the removed file
 *   O <ino> <size>             opened for writing (size after O_TRUNC)
 *   S <ino> <size>             fsync/fdatasync of a regular file returned 0 (size before
 *                              the call: what it certainly covered)
 *   T <ino> <len>              ftruncate returned 0
 *   D <dir>                    fsync of a directory returned 0
 *   A                          sync()/syncfs() returned
 *   X <ino> <off>              a write below the synced size: the model cannot undo it
 *
 * Not modelled: writes through shared mmaps (RocksDB's allow_mmap_writes is off by
 * default, and the store does not turn it on) and O_SYNC descriptors (not used).
 *
 * Environment (unset: the shim passes everything through untouched):
 *   HC_POWERLOSS_DIR    the directory to watch (absolute, resolved)
 *   HC_POWERLOSS_LOG    the log file (outside the directory)
 *   HC_POWERLOSS_GRAVE  an existing directory on the same file system, outside it
 *
 * Test-only; plain builds only (a sanitizer runtime would have to be preloaded first).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static char watch[PATH_MAX];
static size_t watch_len;
static char grave[PATH_MAX];
static int log_fd = -1;
static atomic_long grave_seq;

/* Synced sizes by inode, for the overwrite check: a small open-addressing table. */
#define INO_SLOTS 4096
static struct {
	ino_t ino;
	off_t synced;
} ino_tab[INO_SLOTS];
static pthread_mutex_t ino_mu = PTHREAD_MUTEX_INITIALIZER;

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

typedef int (*open_t)(const char *, int, ...);
typedef int (*openat_t)(int, const char *, int, ...);
typedef int (*creat_t)(const char *, mode_t);
typedef int (*mkdir_t)(const char *, mode_t);
typedef int (*mkdirat_t)(int, const char *, mode_t);
typedef int (*rename_t)(const char *, const char *);
typedef int (*renameat_t)(int, const char *, int, const char *);
typedef int (*renameat2_t)(int, const char *, int, const char *, unsigned int);
typedef int (*unlink_t)(const char *);
typedef int (*unlinkat_t)(int, const char *, int);
typedef int (*link_t)(const char *, const char *);
typedef int (*sync_t)(int);
typedef void (*syncall_t)(void);
typedef int (*ftruncate_t)(int, off_t);
typedef ssize_t (*write_t)(int, const void *, size_t);
typedef ssize_t (*pwrite_t)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_t)(int, const struct iovec *, int);
typedef ssize_t (*pwritev_t)(int, const struct iovec *, int, off_t);

REAL(open, open_t)
REAL(open64, open_t)
REAL(openat, openat_t)
REAL(openat64, openat_t)
REAL(creat, creat_t)
REAL(creat64, creat_t)
REAL(mkdir, mkdir_t)
REAL(mkdirat, mkdirat_t)
REAL(rename, rename_t)
REAL(renameat, renameat_t)
REAL(renameat2, renameat2_t)
REAL(unlink, unlink_t)
REAL(unlinkat, unlinkat_t)
REAL(link, link_t)
REAL(fsync, sync_t)
REAL(fdatasync, sync_t)
REAL(syncfs, sync_t)
REAL(sync, syncall_t)
REAL(ftruncate, ftruncate_t)
REAL(ftruncate64, ftruncate_t)
REAL(write, write_t)
REAL(pwrite, pwrite_t)
REAL(pwrite64, pwrite_t)
REAL(writev, writev_t)
REAL(pwritev, pwritev_t)

static int armed(void)
{
	return log_fd >= 0;
}

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
	char buf[3 * PATH_MAX + 64];
	va_list ap;
	int n;
	int saved = errno;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)syscall(SYS_write, log_fd, buf, (size_t)n); /* O_APPEND: one atomic line */
	errno = saved;
}

static int under_watch(const char *abs)
{
	return strncmp(abs, watch, watch_len) == 0 &&
	       (abs[watch_len] == '/' || abs[watch_len] == '\0');
}

/* abs = the absolute form of path relative to dirfd (no symlink resolution). */
static int absolute(int dirfd, const char *path, char *abs, size_t cap)
{
	char base[PATH_MAX];

	if (path == NULL)
		return -1;
	if (path[0] == '/') {
		snprintf(abs, cap, "%s", path);
		return 0;
	}
	if (dirfd == AT_FDCWD) {
		if (getcwd(base, sizeof(base)) == NULL)
			return -1;
	} else {
		char link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		n = readlink(link, base, sizeof(base) - 1);
		if (n < 0)
			return -1;
		base[n] = '\0';
	}
	if ((size_t)snprintf(abs, cap, "%s/%s", base, path) >= cap)
		return -1;
	return 0;
}

/* The watched path fd refers to, in out; 0 if it is watched. */
static int fd_path(int fd, char *out, size_t cap)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, cap - 1);
	if (n < 0)
		return -1;
	out[n] = '\0';
	return under_watch(out) ? 0 : -1;
}

static size_t ino_slot(ino_t ino)
{
	size_t i = (size_t)(ino * 0x9e3779b97f4a7c15ull >> 52) % INO_SLOTS;

	for (int k = 0; k < INO_SLOTS && ino_tab[i].ino != 0 && ino_tab[i].ino != ino; k++)
		i = (i + 1) % INO_SLOTS;
	return i;
}

static void ino_set(ino_t ino, off_t synced, int only_lower)
{
	pthread_mutex_lock(&ino_mu);
	size_t i = ino_slot(ino);
	if (ino_tab[i].ino == 0 || !only_lower || synced < ino_tab[i].synced) {
		ino_tab[i].ino = ino;
		ino_tab[i].synced = synced;
	}
	pthread_mutex_unlock(&ino_mu);
}

static off_t ino_synced(ino_t ino)
{
	pthread_mutex_lock(&ino_mu);
	size_t i = ino_slot(ino);
	off_t s = ino_tab[i].ino == ino ? ino_tab[i].synced : -1;
	pthread_mutex_unlock(&ino_mu);
	return s;
}

/* ---- opens ------------------------------------------------------------------------ */

static int before_open(int dirfd, const char *path, int flags, char *abs)
{
	struct stat st;

	if (!armed() || absolute(dirfd, path, abs, PATH_MAX) != 0 || !under_watch(abs))
		return 0;
	if ((flags & O_CREAT) && stat(abs, &st) != 0)
		log_line("C %s\n", abs);
	return 1;
}

static void after_open(int fd, int flags, int watched)
{
	struct stat st;

	if (!watched || fd < 0 || (flags & O_ACCMODE) == O_RDONLY || fstat(fd, &st) != 0 ||
	    !S_ISREG(st.st_mode))
		return;
	/* A file seen before keeps the lower of its synced size and its size now. */
	ino_set(st.st_ino, st.st_size, 1);
	log_line("O %lu %lld\n", (unsigned long)st.st_ino, (long long)st.st_size);
}

#define OPEN_BODY(call)                                                                   \
	char abs[PATH_MAX];                                                               \
	mode_t mode = 0;                                                                  \
	if (flags & (O_CREAT | O_TMPFILE)) {                                              \
		va_list ap;                                                               \
		va_start(ap, flags);                                                      \
		mode = (mode_t)va_arg(ap, int);                                           \
		va_end(ap);                                                               \
	}                                                                                 \
	int w = before_open(DIRFD, path, flags, abs);                                     \
	int fd = call;                                                                    \
	after_open(fd, flags, w);                                                         \
	return fd;

#define DIRFD AT_FDCWD
EXPORT int open(const char *path, int flags, ...)
{
	OPEN_BODY(real_open()(path, flags, mode))
}

EXPORT int open64(const char *path, int flags, ...)
{
	OPEN_BODY(real_open64()(path, flags, mode))
}
#undef DIRFD
#define DIRFD dirfd
EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY(real_openat()(dirfd, path, flags, mode))
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY(real_openat64()(dirfd, path, flags, mode))
}
#undef DIRFD

EXPORT int creat(const char *path, mode_t mode)
{
	char abs[PATH_MAX];
	int w = before_open(AT_FDCWD, path, O_CREAT, abs);
	int fd = real_creat()(path, mode);

	after_open(fd, O_WRONLY, w);
	return fd;
}

EXPORT int creat64(const char *path, mode_t mode)
{
	char abs[PATH_MAX];
	int w = before_open(AT_FDCWD, path, O_CREAT, abs);
	int fd = real_creat64()(path, mode);

	after_open(fd, O_WRONLY, w);
	return fd;
}

/* ---- namespace ---------------------------------------------------------------------- */

static void before_mkdir(int dirfd, const char *path)
{
	char abs[PATH_MAX];
	struct stat st;

	if (armed() && absolute(dirfd, path, abs, sizeof(abs)) == 0 && under_watch(abs) &&
	    stat(abs, &st) != 0)
		log_line("K %s\n", abs);
}

EXPORT int mkdir(const char *path, mode_t mode)
{
	before_mkdir(AT_FDCWD, path);
	return real_mkdir()(path, mode);
}

EXPORT int mkdirat(int dirfd, const char *path, mode_t mode)
{
	before_mkdir(dirfd, path);
	return real_mkdirat()(dirfd, path, mode);
}

/* Hard-links abs into the grave; out = the grave name, or "-" when abs is absent. */
static void bury(const char *abs, char *out, size_t cap)
{
	struct stat st;

	snprintf(out, cap, "-");
	if (lstat(abs, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	if ((size_t)snprintf(out, cap, "%.4000s/%ld", grave, atomic_fetch_add(&grave_seq, 1)) >=
	        cap ||
	    real_link()(abs, out) != 0)
		snprintf(out, cap, "-");
}

static void before_rename(int ofd, const char *old, int nfd, const char *new)
{
	char a[PATH_MAX], b[PATH_MAX], g[PATH_MAX];

	if (!armed() || absolute(ofd, old, a, sizeof(a)) != 0 ||
	    absolute(nfd, new, b, sizeof(b)) != 0 || (!under_watch(a) && !under_watch(b)))
		return;
	bury(b, g, sizeof(g));
	log_line("R %s %s %s\n", a, b, g);
}

EXPORT int rename(const char *old, const char *new)
{
	before_rename(AT_FDCWD, old, AT_FDCWD, new);
	return real_rename()(old, new);
}

EXPORT int renameat(int ofd, const char *old, int nfd, const char *new)
{
	before_rename(ofd, old, nfd, new);
	return real_renameat()(ofd, old, nfd, new);
}

EXPORT int renameat2(int ofd, const char *old, int nfd, const char *new, unsigned int flags)
{
	before_rename(ofd, old, nfd, new);
	return real_renameat2()(ofd, old, nfd, new, flags);
}

static void before_unlink(int dirfd, const char *path)
{
	char abs[PATH_MAX], g[PATH_MAX];

	if (!armed() || absolute(dirfd, path, abs, sizeof(abs)) != 0 || !under_watch(abs))
		return;
	bury(abs, g, sizeof(g));
	if (strcmp(g, "-") != 0)
		log_line("U %s %s\n", abs, g);
}

EXPORT int unlink(const char *path)
{
	before_unlink(AT_FDCWD, path);
	return real_unlink()(path);
}

EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
	if (!(flags & AT_REMOVEDIR))
		before_unlink(dirfd, path);
	return real_unlinkat()(dirfd, path, flags);
}

EXPORT int link(const char *old, const char *new)
{
	char abs[PATH_MAX];

	if (armed() && absolute(AT_FDCWD, new, abs, sizeof(abs)) == 0 && under_watch(abs))
		log_line("C %s\n", abs);
	return real_link()(old, new);
}

/* ---- syncs ---------------------------------------------------------------------------- */

/*
 * st: fstat taken before the sync call, so the size logged is what the sync certainly
 * covered (bytes another thread appends while it runs may or may not be).
 */
static void after_sync(int fd, const struct stat *st0, int have)
{
	char path[PATH_MAX];
	struct stat st = *st0;

	if (!armed() || !have)
		return;
	if (S_ISDIR(st.st_mode)) {
		char link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, path, sizeof(path) - 1);
		if (n < 0)
			return;
		path[n] = '\0';
		/* The watched directory's parent too: it holds the watched dir's entry. */
		if (under_watch(path) || (strncmp(watch, path, (size_t)n) == 0 &&
		                          (watch[n] == '/' || watch[n] == '\0')))
			log_line("D %s\n", path);
		return;
	}
	if (S_ISREG(st.st_mode) && fd_path(fd, path, sizeof(path)) == 0) {
		ino_set(st.st_ino, st.st_size, 0);
		log_line("S %lu %lld\n", (unsigned long)st.st_ino, (long long)st.st_size);
	}
}

EXPORT int fsync(int fd)
{
	struct stat st;
	int have = armed() && fstat(fd, &st) == 0;
	int rc = real_fsync()(fd);

	if (rc == 0)
		after_sync(fd, &st, have);
	return rc;
}

EXPORT int fdatasync(int fd)
{
	struct stat st;
	int have = armed() && fstat(fd, &st) == 0;
	int rc = real_fdatasync()(fd);

	if (rc == 0)
		after_sync(fd, &st, have);
	return rc;
}

EXPORT int syncfs(int fd)
{
	int rc = real_syncfs()(fd);

	if (rc == 0 && armed())
		log_line("A\n");
	return rc;
}

EXPORT void sync(void)
{
	real_sync()();
	if (armed())
		log_line("A\n");
}

static void after_truncate(int fd)
{
	char path[PATH_MAX];
	struct stat st;

	if (armed() && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    fd_path(fd, path, sizeof(path)) == 0) {
		ino_set(st.st_ino, st.st_size, 1);
		log_line("T %lu %lld\n", (unsigned long)st.st_ino, (long long)st.st_size);
	}
}

EXPORT int ftruncate(int fd, off_t len)
{
	int rc = real_ftruncate()(fd, len);

	if (rc == 0)
		after_truncate(fd);
	return rc;
}

EXPORT int ftruncate64(int fd, off_t len)
{
	int rc = real_ftruncate64()(fd, len);

	if (rc == 0)
		after_truncate(fd);
	return rc;
}

/* ---- writes: only checked against the model ---------------------------------------- */

/* off < 0: the descriptor's own position. */
static void check_write(int fd, off_t off)
{
	char path[PATH_MAX];
	struct stat st;

	if (!armed() || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	off_t synced = ino_synced(st.st_ino);
	if (synced <= 0 || fd_path(fd, path, sizeof(path)) != 0)
		return;
	if (off < 0) {
		int fl = fcntl(fd, F_GETFL);
		off = (fl >= 0 && (fl & O_APPEND)) ? st.st_size : lseek(fd, 0, SEEK_CUR);
	}
	if (off >= 0 && off < synced)
		log_line("X %lu %lld\n", (unsigned long)st.st_ino, (long long)off);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	check_write(fd, -1);
	return real_write()(fd, buf, n);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	check_write(fd, off);
	return real_pwrite()(fd, buf, n, off);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	check_write(fd, off);
	return real_pwrite64()(fd, buf, n, off);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	check_write(fd, -1);
	return real_writev()(fd, iov, cnt);
}

EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	check_write(fd, off);
	return real_pwritev()(fd, iov, cnt, off);
}

__attribute__((constructor)) static void powerloss_init(void)
{
	const char *d = getenv("HC_POWERLOSS_DIR"), *l = getenv("HC_POWERLOSS_LOG");
	const char *g = getenv("HC_POWERLOSS_GRAVE");

	if (d == NULL || l == NULL || g == NULL)
		return;
	snprintf(watch, sizeof(watch), "%s", d);
	watch_len = strlen(watch);
	while (watch_len > 1 && watch[watch_len - 1] == '/')
		watch[--watch_len] = '\0';
	snprintf(grave, sizeof(grave), "%s", g);
	log_fd = (int)syscall(SYS_open, l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}
