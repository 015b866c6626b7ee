/*
 * cache/kel_export.c: hc_kel_export, an identifier's stored KEL as a CESR stream that
 * hc_kel_import (and keripy's Kevery) ingests: each event as it was received and
 * accepted, with the attachments it came with (its controller signatures and any
 * witness signatures), in first-seen order. The store keeps one accepted event per sn
 * and accepts them only in sn order, so first-seen order is sn order.
 */
#include <stdint.h>
#include <string.h>

#include "cache/cache.h"
#include "cache/error.h"
#include "cache/kel.h"

struct export {
	hc_kel_export_fn fn;
	void *arg;
};

static int export_one(const void *msg, size_t len, const char *key, void *arg)
{
	(void)key;
	const struct export *e = arg;
	return e->fn(msg, len, e->arg);
}

int hc_kel_export(hc_cache *c, const char *prefix, hc_kel_export_fn fn, void *arg,
                  uint64_t *events)
{
	if (c == NULL || prefix == NULL || fn == NULL)
		return hc_error_ret(HC_EINVAL, "hc_kel_export: NULL argument");
	if (strlen(prefix) != 44)
		return hc_error_ret(HC_EINVAL, "hc_kel_export: a prefix is 44 qb64 characters, "
		                    "not %zu", strlen(prefix));
	if (c->backing == NULL)
		return hc_error_ret(HC_ENOTSUP, "hc_kel_export: KERI needs backing.mode = rocksdb");
	struct export e = {fn, arg};
	uint64_t sn = 0;
	int rc = kel_each_event(c, prefix, export_one, &e, &sn);
	if (rc == 0 && sn == 0)
		rc = hc_error_ret(HC_ENOTFOUND, "hc_kel_export: no KEL stored for %s", prefix);
	if (events != NULL)
		*events = sn;
	return rc;
}
