/*
 * The process plumbing shared by the kill -9 tests (test_backing_crash, test_cache_crash,
 * test_powerloss): an acknowledgement log in a file mmap'd by both the parent and the
 * child, the child exec'd afresh as `<self> --child <root> <cycle> <mode>`, and its
 * SIGKILL and reaping. What the log holds and how the store is checked stay in each
 * test.
 *
 * The child is exec'd, never just forked: the parent may be multithreaded (RocksDB's
 * thread pools outlive hc_close), so between fork and exec the child only calls execve.
 *
 * Test-only; called from the test's main thread (the parent) or the child's main.
 */
#ifndef HC_TESTS_UNIT_CRASHLOG_H
#define HC_TESTS_UNIT_CRASHLOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* HC_DURABILITY_WAL for "wal", HC_DURABILITY_NONE for "none", else HC_DURABILITY_SYNC. */
int crashlog_mode(const char *mode);

/* The parent: creates (or truncates to) path with size bytes of zeros and maps it
 * shared. NULL on failure. */
void *crashlog_create(const char *path, size_t size);

/* The child: maps the existing log at path shared. NULL on failure. */
void *crashlog_attach(const char *path, size_t size);

/* Forks and execs /proc/self/exe with argv {argv0, "--child", root, cycle, mode} and
 * envp (the parent's environment when NULL). Returns the child's pid, or -1. */
pid_t crashlog_spawn(const char *argv0, const char *root, int cycle, const char *mode,
                     char *const envp[]);

/* Polls *ready up to tries times, step_us apart. Returns 0 once it is set, 1 when it
 * never was (the child still running), -1 when the child exited first (its wait status
 * in *status). */
int crashlog_wait_ready(pid_t pid, atomic_int *ready, int tries, unsigned step_us,
                        int *status);

/* Sends SIGKILL and reaps the child. Returns 0 when SIGKILL ended it, else -1 (ended
 * otherwise before the kill); its wait status in *status either way. */
int crashlog_kill(pid_t pid, int *status);

void crashlog_sleep_ms(long ms);

#ifdef __cplusplus
}
#endif

#endif
