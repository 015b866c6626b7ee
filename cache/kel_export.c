/*
 * cache/kel_export.c: hc_kel_export, an identifier's stored KEL as a CESR stream that
 * hc_kel_import (and keripy's Kevery) ingests: each event as it was received and
 * accepted, with the attachments it came with (its controller signatures and any
 * witness signatures), in first-seen order. The store keeps one accepted event per sn
 * and accepts them only in sn order, so first-seen order is sn order.
 */
#include <stdint.h>
#include <string.h>

#include "backing/backing.h"
#include "cache/cache.h"
#include "cache/error.h"
#include "cache/kel.h"

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
	uint64_t sn = 0;
	int rc = 0;
	for (;; sn++) {
		char key[KEL_KEY + 1];
		size_t kl = kel_key(prefix, sn, key);
		struct backing_pin pin;
		rc = backing_get_raw(c->backing, BACKING_KEL, key, kl, &pin);
		if (rc == HC_ENOTFOUND) {
			rc = 0;
			break;
		}
		if (rc != 0) {
			rc = hc_error_ret(rc, "hc_kel_export: %s", backing_last_error());
			break;
		}
		rc = fn(pin.data, pin.len, arg);
		backing_pin_release(&pin);
		if (rc != 0)
			break;
	}
	if (rc == 0 && sn == 0)
		rc = hc_error_ret(HC_ENOTFOUND, "hc_kel_export: no KEL stored for %s", prefix);
	if (events != NULL)
		*events = sn;
	return rc;
}
