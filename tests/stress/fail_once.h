/*
 * Failures seen by worker threads: the first one's sentence is kept, the rest counted;
 * the test's main thread asserts failures == 0 and prints first_failure otherwise.
 */
#ifndef HC_TESTS_FAIL_ONCE_H
#define HC_TESTS_FAIL_ONCE_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static _Atomic long failures;
static char first_failure[256];

#define CHECK(cond, ...)                                                                  \
	do {                                                                              \
		if (__builtin_expect(!(cond), 0))                                         \
			fail_once(__LINE__, __VA_ARGS__);                                 \
	} while (0)

static void fail_once(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_once(int line, const char *fmt, ...)
{
	if (atomic_fetch_add(&failures, 1) != 0)
		return;
	int n = snprintf(first_failure, sizeof(first_failure), "line %d: ", line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(first_failure + n, sizeof(first_failure) - (size_t)n, fmt, ap);
	va_end(ap);
}

#endif
