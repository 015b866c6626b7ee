/*
 * cache/kel_export.c: hc_kel_export, an identifier's stored KEL as a CESR stream that
 * hc_kel_import (and keripy's Kevery) ingests: each event as it was received and
 * accepted, with the attachments it came with (its controller signatures and any
 * witness signatures): the accepted branch, in sn order. Events a recovery rotation
 * superseded stay in the store (kel_history.c) but are not exported: the stream is the
 * KEL as it stands, which an importer reaches the same keys and sn from.
 */
#include <stdint.h>
#include <string.h>

#include "backing/backing.h"
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

static int export_fs_one(const void *msg, size_t len, uint64_t fn, const struct kel_fel *f,
                         void *arg)
{
	(void)fn, (void)f;
	const struct export *e = arg;
	return e->fn(msg, len, e->arg);
}

static int export_walk(hc_cache *c, const char *prefix, hc_kel_export_fn fn, void *arg,
                       uint64_t *events, int first_seen, const char *name)
{
	if (c == NULL || prefix == NULL || fn == NULL)
		return hc_error_ret(HC_EINVAL, "%s: NULL argument", name);
	if (strlen(prefix) != 44)
		return hc_error_ret(HC_EINVAL, "%s: a prefix is 44 qb64 characters, not %zu", name,
		                    strlen(prefix));
	if (c->backing == NULL)
		return hc_error_ret(HC_ENOTSUP, "%s: KERI needs backing.mode = rocksdb", name);
	struct export e = {fn, arg};
	uint64_t n = 0;
	int rc = first_seen ? kel_each_first_seen(c, prefix, export_fs_one, &e, &n)
	                    : kel_each_event(c, prefix, export_one, &e, &n);
	if (rc == 0 && n == 0)
		rc = HC_ENOTFOUND; /* an answer: hc_last_error() left alone (README) */
	if (events != NULL)
		*events = n;
	return rc;
}

int hc_kel_export(hc_cache *c, const char *prefix, hc_kel_export_fn fn, void *arg,
                  uint64_t *events)
{
	return export_walk(c, prefix, fn, arg, events, 0, "hc_kel_export");
}

int hc_kel_export_first_seen(hc_cache *c, const char *prefix, hc_kel_export_fn fn,
                             void *arg, uint64_t *events)
{
	return export_walk(c, prefix, fn, arg, events, 1, "hc_kel_export_first_seen");
}

struct prefixes {
	hc_prefix_fn fn;
	void *arg;
	uint64_t n;
};

static int prefix_one(const void *key, size_t klen, void *arg)
{
	struct prefixes *p = arg;
	char pre[45];
	if (klen != 44)
		return 0; /* not a key state's key: nothing else lives in this family today */
	memcpy(pre, key, 44);
	pre[44] = '\0';
	p->n++;
	return p->fn(pre, p->arg);
}

int hc_keystate_foreach(hc_cache *c, hc_prefix_fn fn, void *arg, uint64_t *count)
{
	if (c == NULL || fn == NULL)
		return hc_error_ret(HC_EINVAL, "hc_keystate_foreach: NULL argument");
	if (c->backing == NULL)
		return hc_error_ret(HC_ENOTSUP, "hc_keystate_foreach: KERI needs backing.mode = "
		                    "rocksdb");
	struct prefixes p = {fn, arg, 0};
	int rc = backing_each_key(c->backing, BACKING_KEYSTATE, prefix_one, &p);
	if (rc == HC_EIO || rc == HC_ENOMEM)
		rc = hc_error_ret(rc, "hc_keystate_foreach: %s", backing_last_error());
	if (count != NULL)
		*count = p.n;
	return rc;
}
