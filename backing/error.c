/*
 * backing/error.c: the calling thread's last failure sentence.
 *
 * Each fallible backing call that fails writes one sentence here before returning its
 * code; the cache copies it into hc_last_error(). Thread-local, so no call ever contends
 * on it and a sentence cannot be torn by another thread.
 */
#define BACKING_INTERNAL
#include "backing/backing.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[512];

const char *backing_last_error(void)
{
	return last_error;
}

int backing_set_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return code;
}

int backing_rocks_error(char *rocks_err, const char *what)
{
	int code = HC_EIO;

	/* RocksDB reports a held LOCK file as an IO error naming the lock. */
	if (rocks_err != NULL && strstr(rocks_err, "lock ") != NULL &&
	    strstr(rocks_err, "LOCK") != NULL)
		code = HC_EBUSY;
	backing_set_error(code, "%s: %s", what, rocks_err != NULL ? rocks_err : "unknown error");
	free(rocks_err);
	return code;
}
