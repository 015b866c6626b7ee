/*
 * cache/log.c: what the library reports goes to the embedder's hc_config.log_fn, or
 * nowhere. The library never writes to stderr or stdout by itself (issue 12).
 */
#include "cache/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "cache/cache.h"

void cache_log(const struct hc_cache *c, int level, const char *fmt, ...)
{
	if (c == NULL || c->cfg.log_fn == NULL)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->cfg.log_fn(level, line, c->cfg.log_arg);
}
