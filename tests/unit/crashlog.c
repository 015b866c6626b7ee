/* The kill -9 tests' process plumbing (see crashlog.h). */
#include "tests/unit/crashlog.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hotcache.h"

int crashlog_mode(const char *mode)
{
	if (strcmp(mode, "wal") == 0)
		return HC_DURABILITY_WAL;
	if (strcmp(mode, "none") == 0)
		return HC_DURABILITY_NONE;
	return HC_DURABILITY_SYNC;
}

void *crashlog_create(const char *path, size_t size)
{
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		return NULL;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd); /* the mapping keeps the file */
	return p == MAP_FAILED ? NULL : p;
}

void *crashlog_attach(const char *path, size_t size)
{
	int fd = open(path, O_RDWR);
	if (fd < 0)
		return NULL;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

pid_t crashlog_spawn(const char *argv0, const char *root, int cycle, const char *mode,
                     char *const envp[])
{
	extern char **environ;
	char cyc[16];
	snprintf(cyc, sizeof(cyc), "%d", cycle);
	char *args[] = {(char *)argv0, "--child", (char *)root, cyc, (char *)mode, NULL};
	char *const *env = envp != NULL ? envp : environ;
	pid_t pid = fork();
	if (pid == 0) {
		execve("/proc/self/exe", args, env);
		_exit(127);
	}
	return pid;
}

int crashlog_wait_ready(pid_t pid, atomic_int *ready, int tries, unsigned step_us,
                        int *status)
{
	for (int i = 0; i < tries && !atomic_load(ready); i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return -1;
		usleep(step_us);
	}
	return atomic_load(ready) ? 0 : 1;
}

int crashlog_kill(pid_t pid, int *status)
{
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL ? 0 : -1;
}

void crashlog_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}
