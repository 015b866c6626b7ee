/*
 * fork under load (issue 11, defect 3). A child forked while another thread was inside
 * a read section never completed a grace period again (every put paid the 2 ms drain,
 * retired bytes grew until puts were refused), and one forked while a shard, stripe or
 * poll mutex was held blocked for ever. The cache's pthread_atfork handlers quiesce in
 * prepare and reset the child: here the child must put, get, drain and close.
 *
 * The parent runs a reader that spends most of its time inside sections (a callback
 * that spins) and a writer that replaces and deletes, and forks while they run. Each
 * child has 20 s (alarm) to do its work and exits 0 only if all of it went right.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hotcache.h"
#include "tests/unit/testutil.h"

struct load {
	hc_cache *c;
	_Atomic int stop;
	_Atomic long reads, writes;
};

static void spin_cb(const void *val, size_t vlen, void *arg)
{
	(void)val;
	(void)vlen;
	(void)arg;
	uint64_t end = testutil_now_ns() + 50000; /* 50 us inside the section */
	while (testutil_now_ns() < end)
		;
}

static void *reader(void *arg)
{
	struct load *l = arg;
	char k[16];
	for (unsigned i = 0; !atomic_load(&l->stop); i++) {
		int kl = snprintf(k, sizeof(k), "k%u", i % 64);
		if (hc_read(l->c, k, (size_t)kl, spin_cb, NULL) == 0)
			atomic_fetch_add(&l->reads, 1);
	}
	return NULL;
}

static void *writer(void *arg)
{
	struct load *l = arg;
	char k[16], v[256];
	memset(v, 'w', sizeof(v));
	for (unsigned i = 0; !atomic_load(&l->stop); i++) {
		int kl = snprintf(k, sizeof(k), "k%u", i % 64);
		int rc = i % 7 == 0 ? hc_delete(l->c, k, (size_t)kl)
		                    : hc_put(l->c, k, (size_t)kl, v, sizeof(v));
		if (rc == 0)
			atomic_fetch_add(&l->writes, 1);
	}
	return NULL;
}

/* The child's work: 3000 replaces of a few keys (every one retires the old value, so
 * without grace periods the retired allowance runs out), gets, a drain to 0 retired
 * bytes, close. Returns the exit status. */
static int child_work(hc_cache *c)
{
	alarm(20);
	char k[16], v[2048], buf[2048];
	size_t n;
	for (int i = 0; i < 3000; i++) {
		int kl = snprintf(k, sizeof(k), "child%d", i % 8);
		memset(v, 'a' + i % 26, sizeof(v));
		int rc = hc_put(c, k, (size_t)kl, v, sizeof(v));
		if (rc != 0) {
			fprintf(stderr, "child: put %d: %s: %s\n", i, hc_strerror(rc), hc_last_error());
			return 2;
		}
		if (hc_get(c, k, (size_t)kl, buf, sizeof(buf), &n) != 0 || n != sizeof(v) ||
		    buf[0] != v[0]) {
			fprintf(stderr, "child: get %d did not return the put\n", i);
			return 3;
		}
	}
	struct hc_stats st;
	for (int i = 0; i < 100; i++) {
		if (hc_stats(c, &st) != 0)
			return 4;
		if (st.retired_bytes == 0)
			break;
		usleep(10000);
	}
	if (st.retired_bytes != 0) {
		fprintf(stderr, "child: %llu retired bytes never reclaimed\n",
		        (unsigned long long)st.retired_bytes);
		return 5;
	}
	hc_close(c);
	return 0;
}

static void a_child_forked_under_load_can_put_get_and_close(void **state)
{
	(void)state;
	hc_cache *c = testutil_open_mem(8u << 20, 2, 64 << 10);
	struct load l = {.c = c};
	pthread_t th[2];
	assert_int_equal(pthread_create(&th[0], NULL, reader, &l), 0);
	assert_int_equal(pthread_create(&th[1], NULL, writer, &l), 0);
	int bad = 0;
	for (int f = 0; f < 10; f++) {
		usleep(20000);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(child_work(c));
		int status = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			print_message("fork %d: child %s %d\n", f,
			              WIFSIGNALED(status) ? "killed by signal" : "exited with",
			              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			bad++;
		}
	}
	atomic_store(&l.stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	print_message("10 forks under load (%ld reads, %ld writes): %d children failed\n",
	              atomic_load(&l.reads), atomic_load(&l.writes), bad);
	assert_int_equal(bad, 0);
	hc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_child_forked_under_load_can_put_get_and_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
