/*
 * cache/kel_supersede.c: finding delegating events, and keripy's superseding rules for
 * delegated recovery (Kever.validateDelegation and fetchDelegatingEvent).
 *
 * A delegating event is the delegator's event whose `a` list holds the seal {i, s, d} of
 * the delegated event. A new delegated event needs one on the delegator's accepted
 * branch (keripy's getKeLast: a superseded event no longer approves anything new); the
 * delegating event of an event accepted earlier is looked for among every event the
 * delegator's KEL ever accepted, superseded ones included (the first-seen log, keripy's
 * .fons check), since the delegator may have superseded it since.
 *
 * When a drt of a delegated identifier would supersede its accepted drt at the same sn
 * (rule B), the two delegating events are compared (keri_supersede_rule): the new one
 * must be later. Two establishment events of the delegator at one sn tie, and the rule
 * climbs (rule C) to the delegator's own delegator, comparing the delegating events of
 * those two events, and so on; a root (not delegated) delegator ends the climb refused
 * (C1). The climb is bounded by KEL_CLIMB_MAX levels.
 *
 * Unlike keripy, nothing stores which event approved which (keripy's .aes couples): the
 * delegating events are found again by walking the delegator's KEL, O(its length) per
 * level, and only when a drt supersedes a drt.
 *
 * Threads: any thread; reads RocksDB directly (no cache entry, no lock), so it may run
 * inside an append's durable step.
 */
#include <stdlib.h>
#include <string.h>

#include "backing/backing.h"
#include "cache/cache.h"
#include "cache/error.h"
#include "cache/kel.h"

#define KEL_CLIMB_MAX 16

struct anchor_walk {
	const char *pre, *said; /* the delegated event's seal */
	uint64_t sn;
	struct keri_event *ev;  /* scratch */
	struct keri_anchor *out;
	int found;
};

/* 1 (and *w->out) when msg holds the seal. */
static int anchor_in(struct anchor_walk *w, const void *msg, size_t len)
{
	size_t used;
	char why[256];
	if (keri_parse(msg, len, w->ev, &used, why, sizeof(why)) != KERI_OK)
		return 0;
	int at = keri_seal_index(w->ev, w->pre, w->sn, w->said);
	if (at < 0)
		return 0;
	w->out->sn = w->ev->sn;
	memcpy(w->out->said, w->ev->said, sizeof(w->out->said));
	w->out->ilk = (uint8_t)w->ev->ilk;
	w->out->index = at;
	w->found = 1;
	return 1;
}

static int on_branch(const void *msg, size_t len, const char *key, void *arg)
{
	(void)key;
	return anchor_in(arg, msg, len); /* 1 stops the walk: the first in sn order */
}

static int on_log(const void *msg, size_t len, uint64_t fn, const struct kel_fel *f,
                  void *arg)
{
	(void)fn, (void)f;
	return anchor_in(arg, msg, len); /* the first in first-seen order */
}

int kel_anchor_find(struct hc_cache *c, const char *di, const char *pre, uint64_t sn,
                    const char *said, int ever, struct keri_anchor *out)
{
	struct anchor_walk w = {pre, said, sn, malloc(sizeof(struct keri_event)), out, 0};
	if (w.ev == NULL)
		return hc_error_ret(HC_ENOMEM, "out of memory");
	uint64_t n;
	int rc = ever ? kel_each_first_seen(c, di, on_log, &w, &n)
	              : kel_each_event(c, di, on_branch, &w, &n);
	free(w.ev);
	if (rc == 1 || (rc == 0 && w.found))
		return 1;
	return rc;
}

int kel_delegator_of(struct hc_cache *c, const char *pre, char di[KERI_QB64 + 1])
{
	char key[KEL_KEY + 1];
	size_t kl = kel_key(pre, 0, key);
	struct backing_pin pin;
	di[0] = 0;
	int rc = backing_get_raw(c->backing, BACKING_KEL, key, kl, &pin);
	if (rc == HC_ENOTFOUND)
		return rc;
	if (rc != 0)
		return hc_error_ret(rc, "%s", backing_last_error());
	struct keri_event *ev = malloc(sizeof(*ev));
	size_t used;
	char why[256];
	if (ev == NULL)
		rc = hc_error_ret(HC_ENOMEM, "out of memory");
	else if (keri_parse(pin.data, pin.len, ev, &used, why, sizeof(why)) != KERI_OK)
		rc = hc_error_ret(HC_ECORRUPT, "stored event %s does not parse: %s", key, why);
	else if (ev->ilk == KERI_ILK_DIP)
		memcpy(di, ev->di, KERI_QB64 + 1);
	backing_pin_release(&pin);
	free(ev);
	return rc;
}

/* The delegating event of (pre, sn, said) in di's KEL: 1 found, 0 not (a sentence is
 * set, *waiting = 1: it may come), or an error. */
static int delegating(struct hc_cache *c, const char *di, const char *pre, uint64_t sn,
                      const char *said, int ever, struct keri_anchor *out, int *waiting)
{
	int rc = kel_anchor_find(c, di, pre, sn, said, ever, out);
	if (rc == 0) {
		*waiting = 1;
		hc_error_set("delegated recovery: the delegating event of %s at sn %llx (%s) is "
		             "not %s the KEL of %s here", pre, (unsigned long long)sn, said,
		             ever ? "in" : "on the accepted branch of", di);
	}
	return rc;
}

int kel_supersede_check(struct hc_cache *c, const struct keri_event *ev,
                        const struct keri_state *cur, const struct keri_anchor *an,
                        int *waiting)
{
	*waiting = 0;
	/* Rule A0: above the last establishment event only interaction events go. */
	if (ev->ilk != KERI_ILK_DRT || ev->sn != cur->ee_sn)
		return 0;
	char dn[KERI_QB64 + 1], up[KERI_QB64 + 1], why[256];
	struct keri_anchor n = *an, o, n2, o2;
	memcpy(dn, cur->di, sizeof(dn));
	int rc = delegating(c, dn, cur->pre, cur->ee_sn, cur->ee_d, 1, &o, waiting);
	if (rc != 1)
		return rc == 0 ? HC_EKERI_DELEGATION : rc;
	for (int level = 0;; level++) {
		int krc = keri_supersede_rule(&n, &o, why, sizeof(why));
		if (krc == KERI_OK)
			return 0;
		if (krc != KERI_CLIMB)
			return hc_error_ret(HC_EKERI_DELEGATION, "drt %llx of %s (%s) does not "
			                    "supersede the accepted drt %s%s: %s",
			                    (unsigned long long)ev->sn, ev->pre, ev->said, cur->ee_d,
			                    level ? " (rule C, up the delegation chain)" : "", why);
		/* Rule C: n and o are two establishment events of dn at one sn. */
		if ((rc = kel_delegator_of(c, dn, up)) != 0)
			return rc == HC_ENOTFOUND
			               ? hc_error_ret(HC_ECORRUPT, "the KEL of delegator %s has no "
			                              "inception", dn)
			               : rc;
		if (up[0] == 0 || level + 1 == KEL_CLIMB_MAX)
			return hc_error_ret(HC_EKERI_DELEGATION, "drt %llx of %s (%s) does not "
			                    "supersede the accepted drt %s: rule C reached %s, %s, "
			                    "with the two delegating events tied at sn %llx (rule C1)",
			                    (unsigned long long)ev->sn, ev->pre, ev->said, cur->ee_d,
			                    dn, up[0] ? "the climb's limit" : "a root delegator",
			                    (unsigned long long)n.sn);
		if ((rc = delegating(c, up, dn, n.sn, n.said, 1, &n2, waiting)) != 1 ||
		    (rc = delegating(c, up, dn, o.sn, o.said, 1, &o2, waiting)) != 1)
			return rc == 0 ? HC_EKERI_DELEGATION : rc;
		n = n2;
		o = o2;
		memcpy(dn, up, sizeof(dn));
	}
}
