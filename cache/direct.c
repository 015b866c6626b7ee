/*
 * cache/direct.c: the backing store without the cache, for embedders and tools:
 * hc_store_get (a read that bypasses memory), hc_store_property (RocksDB's
 * diagnostics). None touches the cache's maps,
 * counters or policy.
 *
 * Threads: any thread, concurrently with anything but hc_close.
 */
#include <string.h>

#include "backing/backing.h"
#include "cache/cache.h"
#include "cache/error.h"

/* A load straight into the caller's buffer; need records the value's size. */
struct direct {
	struct cache_load ld;
	void *buf;
	size_t cap, need;
};

static void *direct_alloc(struct cache_load *ld, size_t vlen)
{
	static unsigned char empty;
	struct direct *d = (struct direct *)ld;
	d->need = vlen;
	if (vlen > d->cap)
		return NULL;
	return vlen == 0 ? &empty : d->buf;
}

int hc_store_get(hc_cache *c, const void *key, size_t klen, void *buf, size_t cap,
                 size_t *vlen)
{
	if (c == NULL || key == NULL || vlen == NULL || (buf == NULL && cap > 0))
		return hc_error_ret(HC_EINVAL, "hc_store_get: NULL argument");
	if (klen == 0 || klen > HC_KEY_MAX)
		return hc_error_ret(HC_EINVAL, "hc_store_get: key length %zu not in 1..%u", klen,
		                    HC_KEY_MAX);
	if (c->store.load == NULL || c->backing == NULL)
		return hc_error_ret(HC_ENOTSUP, "hc_store_get: no backing store (backing.mode = none)");
	struct direct d = {.ld = {.alloc = direct_alloc}, .buf = buf, .cap = cap};
	d.ld.arg = &d;
	int rc = c->store.load(c->store.ctx, key, klen, &d.ld);
	if (rc != 0 && d.need > cap) {
		*vlen = d.need;
		return hc_error_ret(HC_ERANGE, "hc_store_get: the value is %zu bytes, buffer holds %zu",
		                    d.need, cap);
	}
	if (rc == 0)
		*vlen = d.need;
	return rc;
}

int hc_store_property(hc_cache *c, const char *name, char *buf, size_t cap, size_t *len)
{
	if (c == NULL || name == NULL || len == NULL || (buf == NULL && cap > 0))
		return hc_error_ret(HC_EINVAL, "hc_store_property: NULL argument");
	if (c->backing == NULL)
		return hc_error_ret(HC_ENOTSUP, "hc_store_property: no backing store");
	char *s = backing_property(c->backing, name);
	if (s == NULL)
		return HC_ENOTFOUND;
	size_t n = strlen(s);
	*len = n;
	int rc = 0;
	if (n >= cap)
		rc = hc_error_ret(HC_ERANGE, "hc_store_property: %zu bytes needed, %zu given", n + 1,
		                  cap);
	else
		memcpy(buf, s, n + 1);
	backing_property_free(s);
	return rc;
}
