/*
 * cache/kel_history.c: what the kel family keeps beside the accepted branch.
 *
 *   "<prefix>.<sn 16 hex>"              the accepted event at sn (kel.c; what replay by
 *                                       sn walks and hc_kel_export exports)
 *   "<prefix>:f.<fn 16 hex>"            first-seen log: "<sn 16 hex> <SAID> <dt>", one
 *                                       per accepted event, fn = 0, 1, 2, ... in the
 *                                       order they were accepted (keripy's .fels and
 *                                       .dtss); superseded events keep their entries
 *   "<prefix>:x.<sn 16 hex>.<SAID>"     an event a recovery rotation superseded, as
 *                                       received (it left the accepted branch in the
 *                                       rotation's own write batch)
 *   "<prefix>:d.<sn 16 hex>.<SAID>"     duplicity evidence: the accepted event's SAID
 *                                       at that sn (44 characters), then the
 *                                       conflicting message as received, signatures
 *                                       included; SAID in the key is the conflicting one
 *
 * '.' (0x2e) sorts before ':' (0x3a), so "<prefix>." ranges hold only accepted events.
 * A store written before the first-seen log existed has no ":f." keys for its older
 * events; their fn was their sn (no recovery was accepted then), and the walk below
 * falls back to the accepted event at sn = fn while no log entry has been seen. A
 * recovery rotation would take such an event off the accepted branch, so before it
 * supersedes anything the log of that identifier is filled in (kel_fel_backfill).
 *
 * Threads: any thread; every function reads or writes RocksDB directly (no cache
 * entry), takes no lock and blocks on the store's I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backing/backing.h"
#include "cache/cache.h"
#include "cache/error.h"
#include "cache/kel.h"

size_t kel_fel_key(const char *pre, uint64_t fn, char key[KEL_SIDE_KEY + 1])
{
	return (size_t)snprintf(key, KEL_SIDE_KEY + 1, "%.44s:f.%016llx", pre,
	                        (unsigned long long)fn);
}

size_t kel_side_key(const char *pre, char kind, uint64_t sn, const char *said,
                    char key[KEL_SIDE_KEY + 1])
{
	return (size_t)snprintf(key, KEL_SIDE_KEY + 1, "%.44s:%c.%016llx.%.44s", pre, kind,
	                        (unsigned long long)sn, said);
}

int kel_msg_said(const void *msg, size_t len, char said[KEL_SAID + 1])
{
	/* Canonical field order puts d third, after v (fixed size) and t: within 64 bytes. */
	static const char tag[] = ",\"d\":\"";
	const char *m = msg;
	size_t lim = len < 64 ? len : 64;
	for (size_t i = 0; i + sizeof(tag) - 1 + KEL_SAID <= len && i < lim; i++)
		if (memcmp(m + i, tag, sizeof(tag) - 1) == 0) {
			memcpy(said, m + i + sizeof(tag) - 1, KEL_SAID);
			said[KEL_SAID] = '\0';
			return 0;
		}
	return -1;
}

int kel_said_at(struct hc_cache *c, const char *pre, uint64_t sn, char said[KEL_SAID + 1])
{
	char key[KEL_KEY + 1];
	size_t kl = kel_key(pre, sn, key);
	struct backing_pin pin;
	int rc = backing_get_raw(c->backing, BACKING_KEL, key, kl, &pin);
	if (rc == HC_ENOTFOUND)
		return rc;
	if (rc != 0)
		return hc_error_ret(rc, "%s", backing_last_error());
	rc = kel_msg_said(pin.data, pin.len, said);
	backing_pin_release(&pin);
	return rc == 0 ? 0 : hc_error_ret(HC_ECORRUPT, "stored event %s has no SAID", key);
}

size_t kel_fel_encode(const struct kel_fel *f, char out[KEL_FEL_MAX + 1])
{
	return (size_t)snprintf(out, KEL_FEL_MAX + 1, "%016llx %.44s %s",
	                        (unsigned long long)f->sn, f->said, f->dt);
}

static int fel_decode(const char *key, const unsigned char *v, size_t len, struct kel_fel *f)
{
	char hex[17];
	if (len < 16 + 1 + KEL_SAID + 1 || len > KEL_FEL_MAX || v[16] != ' ' ||
	    v[17 + KEL_SAID] != ' ' || len - (18 + KEL_SAID) >= sizeof(f->dt))
		return hc_error_ret(HC_ECORRUPT, "first-seen record %s is malformed", key);
	memcpy(hex, v, 16);
	hex[16] = '\0';
	char *end;
	f->sn = strtoull(hex, &end, 16);
	if (end != hex + 16)
		return hc_error_ret(HC_ECORRUPT, "first-seen record %s has a bad sn", key);
	memcpy(f->said, v + 17, KEL_SAID);
	f->said[KEL_SAID] = '\0';
	memset(f->dt, 0, sizeof(f->dt));
	memcpy(f->dt, v + 18 + KEL_SAID, len - (18 + KEL_SAID));
	return 0;
}

/* The message first seen as f: the accepted event at f->sn when its SAID is f->said,
 * else the superseded one. Pinned in *pin on success. */
static int fel_message(struct hc_cache *c, const char *pre, const struct kel_fel *f,
                       struct backing_pin *pin)
{
	char key[KEL_SIDE_KEY + 1], said[KEL_SAID + 1];
	size_t kl = kel_key(pre, f->sn, key);
	int rc = backing_get_raw(c->backing, BACKING_KEL, key, kl, pin);
	if (rc == 0) {
		if (kel_msg_said(pin->data, pin->len, said) == 0 && strcmp(said, f->said) == 0)
			return 0;
		backing_pin_release(pin);
	} else if (rc != HC_ENOTFOUND) {
		return hc_error_ret(rc, "%s", backing_last_error());
	}
	kl = kel_side_key(pre, 'x', f->sn, f->said, key);
	rc = backing_get_raw(c->backing, BACKING_KEL, key, kl, pin);
	if (rc == HC_ENOTFOUND)
		return hc_error_ret(HC_ECORRUPT, "the first-seen log of %s names event %s at sn "
		                    "%llu, which the KEL does not hold", pre, f->said,
		                    (unsigned long long)f->sn);
	return rc == 0 ? 0 : hc_error_ret(rc, "%s", backing_last_error());
}

int kel_each_first_seen(struct hc_cache *c, const char *pre, kel_fs_fn fn, void *arg,
                        uint64_t *n)
{
	int rc = 0, logged = 0;
	uint64_t fno;
	for (fno = 0;; fno++) {
		char key[KEL_SIDE_KEY + 1];
		size_t kl = kel_fel_key(pre, fno, key);
		struct backing_pin pin;
		struct kel_fel f;
		rc = backing_get_raw(c->backing, BACKING_KEL, key, kl, &pin);
		if (rc == 0) {
			rc = fel_decode(key, pin.data, pin.len, &f);
			backing_pin_release(&pin);
			logged = 1;
			if (rc == 0)
				rc = fel_message(c, pre, &f, &pin);
		} else if (rc == HC_ENOTFOUND && !logged) {
			/* An event stored before the log: fn was sn, its dt is not known. */
			memset(&f, 0, sizeof(f));
			f.sn = fno;
			kl = kel_key(pre, fno, key);
			rc = backing_get_raw(c->backing, BACKING_KEL, key, kl, &pin);
			if (rc == 0 && kel_msg_said(pin.data, pin.len, f.said) != 0) {
				backing_pin_release(&pin);
				rc = hc_error_ret(HC_ECORRUPT, "stored event %s has no SAID", key);
			}
		}
		if (rc == HC_ENOTFOUND) {
			rc = 0;
			break;
		}
		if (rc != 0) {
			if (rc == HC_EIO)
				hc_error_set("%s", backing_last_error());
			break;
		}
		rc = fn(pin.data, pin.len, fno, &f, arg);
		backing_pin_release(&pin);
		if (rc != 0)
			break;
	}
	*n = fno;
	return rc;
}

int kel_fel_backfill(struct hc_cache *c, const char *pre, uint64_t last_fn,
                     const char *last_dt, struct backing_batch *bt)
{
	char key[KEL_SIDE_KEY + 1];
	size_t kl = kel_fel_key(pre, last_fn, key);
	struct backing_pin pin;
	int rc = backing_get_raw(c->backing, BACKING_KEL, key, kl, &pin);
	if (rc == 0) {
		backing_pin_release(&pin);
		return 0; /* the log covers this identifier */
	}
	if (rc != HC_ENOTFOUND)
		return hc_error_ret(rc, "%s", backing_last_error());
	/* No record for the current event, so none for any (every append since the log
	 * writes one): an identifier from an older store, whose fn were its sn. */
	for (uint64_t fn = 0; fn <= last_fn; fn++) {
		struct kel_fel f = {.sn = fn};
		char rec[KEL_FEL_MAX + 1];
		if ((rc = kel_said_at(c, pre, fn, f.said)) != 0)
			return rc == HC_ENOTFOUND
			               ? hc_error_ret(HC_ECORRUPT, "the KEL of %s has no event at sn "
			                              "%llu", pre, (unsigned long long)fn)
			               : rc;
		if (fn == last_fn)
			snprintf(f.dt, sizeof(f.dt), "%s", last_dt);
		kl = kel_fel_key(pre, fn, key);
		size_t rl = kel_fel_encode(&f, rec);
		if ((rc = backing_batch_put_raw(bt, BACKING_KEL, key, kl, rec, rl)) != 0)
			return hc_error_ret(rc, "%s", backing_last_error());
	}
	return 0;
}

/* ---- rollback at rest --------------------------------------------------------------- */

struct tip {
	const char *pre;
	uint64_t sn;
	const char *said;
	char want[KEL_KEY + 1];
	int seen;
	int rc;
};

static int tip_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct tip *t = arg;
	char said[KEL_SAID + 1];
	const char *k = key;
	if (t->seen++ == 0) {
		if (klen != KEL_KEY || memcmp(k, t->want, KEL_KEY) != 0) {
			t->rc = hc_error_ret(HC_ECORRUPT, "the stored key state of %s names event %s "
			                     "at sn %llu, but its KEL holds no event there: the state "
			                     "does not match the KEL (an older or foreign record?); "
			                     "hotcache kel verify %s rebuilds it by replay", t->pre,
			                     t->said, (unsigned long long)t->sn, t->pre);
			return 1;
		}
		if (kel_msg_said(val, vlen, said) != 0 || strcmp(said, t->said) != 0) {
			t->rc = hc_error_ret(HC_ECORRUPT, "the stored key state of %s names event %s "
			                     "at sn %llu, but its KEL holds %s there: the state does "
			                     "not match the KEL (an older record restored?); hotcache "
			                     "kel verify %s rebuilds it by replay", t->pre, t->said,
			                     (unsigned long long)t->sn, said, t->pre);
			return 1;
		}
		return 0;
	}
	t->rc = hc_error_ret(HC_ECORRUPT, "the stored key state of %s ends at sn %llu, but its "
	                     "KEL holds a later event (%.*s): the state is older than the KEL "
	                     "(an older record restored?); hotcache kel verify %s rebuilds it "
	                     "by replay", t->pre, (unsigned long long)t->sn,
	                     (int)(klen > KERI_PRE_LEN ? klen - KERI_PRE_LEN - 1 : 0),
	                     k + (klen > KERI_PRE_LEN ? KERI_PRE_LEN + 1 : 0), t->pre);
	return 1;
}

int kel_tip_check(struct hc_cache *c, const char *pre, uint64_t sn, const char *said)
{
	struct tip t = {.pre = pre, .sn = sn, .said = said};
	char until[KERI_PRE_LEN + 1];
	size_t wl = kel_key(pre, sn, t.want);
	memcpy(until, pre, KERI_PRE_LEN);
	until[KERI_PRE_LEN] = '.' + 1; /* just past every "<prefix>." key */
	int rc = backing_each_range(c->backing, BACKING_KEL, t.want, wl, until,
	                            sizeof(until), tip_one, &t);
	if (rc == 1)
		return t.rc;
	if (rc != 0)
		return hc_error_ret(rc, "%s", backing_last_error());
	if (t.seen == 0)
		return hc_error_ret(HC_ECORRUPT, "the stored key state of %s names event %s at sn "
		                    "%llu, but its KEL holds no event there: the state does not "
		                    "match the KEL; hotcache kel verify %s rebuilds it by replay",
		                    pre, said, (unsigned long long)sn, pre);
	return 0;
}

/* ---- duplicity evidence -------------------------------------------------------------- */

int kel_duplicity_keep(struct hc_cache *c, const char *pre, uint64_t sn, const char *held,
                       const char *said, const void *msg, size_t len)
{
	char key[KEL_SIDE_KEY + 1];
	size_t kl = kel_side_key(pre, 'd', sn, said, key);
	unsigned char *v = malloc(KEL_SAID + len);
	if (v == NULL)
		return HC_ENOMEM;
	memcpy(v, held, KEL_SAID);
	memcpy(v + KEL_SAID, msg, len);
	int rc = backing_put_raw(c->backing, BACKING_KEL, key, kl, v, KEL_SAID + len);
	free(v);
	return rc;
}

struct dup_walk {
	struct hc_cache *c;
	const char *pre;
	hc_kel_duplicity_fn fn;
	void *arg;
	uint64_t n;
};

static int dup_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct dup_walk *w = arg;
	const char *k = key;
	char held[KEL_SAID + 1], hex[17];
	if (klen != KEL_SIDE_KEY || vlen <= KEL_SAID)
		return hc_error_ret(HC_ECORRUPT, "duplicity record %.*s is malformed", (int)klen, k);
	memcpy(hex, k + KERI_PRE_LEN + 3, 16);
	hex[16] = '\0';
	struct kel_fel f = {.sn = strtoull(hex, NULL, 16)};
	memcpy(held, val, KEL_SAID);
	held[KEL_SAID] = '\0';
	memcpy(f.said, held, sizeof(held));
	struct backing_pin pin;
	int rc = fel_message(w->c, w->pre, &f, &pin);
	if (rc != 0)
		return rc;
	rc = w->fn(f.sn, pin.data, pin.len, (const unsigned char *)val + KEL_SAID,
	           vlen - KEL_SAID, w->arg);
	backing_pin_release(&pin);
	if (rc == 0)
		w->n++;
	return rc;
}

int hc_kel_duplicity(hc_cache *c, const char *prefix, hc_kel_duplicity_fn fn, void *arg,
                     uint64_t *count)
{
	if (count != NULL)
		*count = 0;
	if (c == NULL || prefix == NULL || fn == NULL)
		return hc_error_ret(HC_EINVAL, "hc_kel_duplicity: NULL argument");
	if (strlen(prefix) != KERI_PRE_LEN)
		return hc_error_ret(HC_EINVAL, "hc_kel_duplicity: a prefix is 44 qb64 characters, "
		                    "not %zu", strlen(prefix));
	if (c->backing == NULL)
		return hc_error_ret(HC_ENOTSUP, "hc_kel_duplicity: KERI needs backing.mode = "
		                    "rocksdb");
	char from[KERI_PRE_LEN + 3], until[KERI_PRE_LEN + 3];
	memcpy(from, prefix, KERI_PRE_LEN);
	memcpy(from + KERI_PRE_LEN, ":d.", 3);
	memcpy(until, from, sizeof(until));
	until[KERI_PRE_LEN + 2] = '.' + 1;
	struct dup_walk w = {c, prefix, fn, arg, 0};
	int rc = backing_each_range(c->backing, BACKING_KEL, from, sizeof(from), until,
	                            sizeof(until), dup_one, &w);
	if (rc == HC_EIO || rc == HC_ENOMEM)
		rc = hc_error_ret(rc, "hc_kel_duplicity: %s", backing_last_error());
	if (count != NULL)
		*count = w.n;
	return rc;
}
