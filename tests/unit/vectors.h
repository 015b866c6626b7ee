/*
 * keripy's byte-exact KERI vectors, kept in the repository at tests/data/keri/ (see the
 * README there for their origin and licence). The directory is $HC_SOURCE/tests/data/keri
 * (ctest sets HC_SOURCE), else the source tree this test was compiled from; nothing
 * outside the repository is read. Header-only.
 *
 * Test-only; any thread; fails the running cmocka test when the file cannot be read
 * or does not fit.
 */
#ifndef HC_TESTS_UNIT_VECTORS_H
#define HC_TESTS_UNIT_VECTORS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

/* Reads vector NAME into buf (at most cap - 1 bytes), NUL-terminates it, returns its
 * length. A file as large as the buffer fails the test rather than being cut short. */
static inline size_t vectors_read(const char *name, void *buf, size_t cap)
{
	const char *src = getenv("HC_SOURCE");
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/data/keri/%s", src ? src : HC_SOURCE_DIR, name);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open KERI vector %s", path);
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	if (n >= cap)
		fail_msg("KERI vector %s is larger than the test's %zu-byte buffer", path, cap);
	((char *)buf)[n] = 0;
	return n;
}

#endif
