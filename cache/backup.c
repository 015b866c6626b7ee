/* cache/backup.c: hc_checkpoint, an online copy of the store (backing/checkpoint.c). */
#include <stddef.h>

#include "backing/backing.h"
#include "cache/cache.h"
#include "cache/error.h"

int hc_checkpoint(hc_cache *c, const char *dir, const char *key_file)
{
	if (c == NULL || dir == NULL)
		return hc_error_ret(HC_EINVAL, "hc_checkpoint: NULL argument");
	if (c->backing == NULL)
		return hc_error_ret(HC_ENOTSUP, "hc_checkpoint: the cache has no store "
		                    "(backing.mode = none)");
	int rc = backing_checkpoint(c->backing, dir, key_file);
	if (rc != 0)
		return hc_error_ret(rc, "hc_checkpoint: %s", backing_last_error());
	return 0;
}
