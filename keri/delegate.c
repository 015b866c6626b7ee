/*
 * keri/delegate.c: the pure parts of delegation (keripy Kever.validateDelegation).
 *
 * A delegated event (dip, or a drt of a delegated identifier) is valid only when its
 * delegator approves it: the delegator's KEL holds an event whose `a` list has the
 * event seal {i, s, d} of the delegated event, and the delegator does not carry the DND
 * (do not delegate) trait. Finding the delegator's events is the caller's (it keeps the
 * KELs); this file judges a state and an event it hands in. A drt superseding an
 * accepted drt at its sn (delegated recovery) needs its delegating event to be later
 * than the old one's: keri_supersede_rule compares the two (rules B1-B3) or says to
 * climb to the delegator's own delegator (rule C).
 */
#include <stdio.h>
#include <string.h>

#include "keri/keri.h"

int keri_delegator_check(const struct keri_state *delegator, const char *di, char *why,
                         size_t whylen)
{
	if (!di)
		return keri_fail(why, whylen, KERI_EINVAL, "keri_delegator_check: di is NULL");
	if (!delegator)
		return keri_fail(why, whylen, KERI_EDELEGATION,
		                 "delegation rule: the delegator %s has no KEL here, so its "
		                 "anchoring event is not seen", di);
	if (memchr(delegator->c, KERI_TRAIT_DND, delegator->nc))
		return keri_fail(why, whylen, KERI_EDELEGATION,
		                 "delegation rule: the delegator %s has the DND trait (do not "
		                 "delegate) and approves no delegated event", di);
	return KERI_OK;
}

int keri_seal_index(const struct keri_event *ev, const char *pre, uint64_t sn,
                    const char *said)
{
	char seal[3 * KERI_QB64 + 64];
	if (!ev || !ev->body || !pre || !said || ev->a_len < 2)
		return -1;
	int n = snprintf(seal, sizeof(seal), "{\"i\":\"%s\",\"s\":\"%llx\",\"d\":\"%s\"}", pre,
	                 (unsigned long long)sn, said);
	if (n <= 0 || (size_t)n >= sizeof(seal))
		return -1;
	/* Walk the top-level elements of `a`: a seal nested deeper is not an anchor. */
	struct keri_json j = {ev->body + ev->a_off, ev->a_len, 1};
	if (j.b[0] != '[' || j.b[1] == ']')
		return -1;
	for (int at = 0;; at++) {
		size_t start = j.pos;
		if (keri_json_skip(&j, 1, NULL, 0) != KERI_OK)
			return -1;
		if (j.pos - start == (size_t)n && memcmp(j.b + start, seal, (size_t)n) == 0)
			return at;
		if (j.pos >= j.len || j.b[j.pos] != ',')
			return -1;
		j.pos++;
	}
}

int keri_seal_anchors(const struct keri_event *ev, const char *pre, uint64_t sn,
                      const char *said)
{
	return keri_seal_index(ev, pre, sn, said) >= 0;
}

/*
 * keripy Kever.validateDelegation's loop over the two delegating events (its "bossn"
 * and "bosso"): later sn, or a rotation against an interaction event, wins; the same
 * event compares the seals' positions (keripy counts only the SealEvent elements of
 * `a`, which orders them as the position among all elements does); two establishment
 * events at one sn climb a level (rule C). Anything else is an earlier approval.
 */
int keri_supersede_rule(const struct keri_anchor *n, const struct keri_anchor *o, char *why,
                        size_t whylen)
{
	if (!n || !o)
		return keri_fail(why, whylen, KERI_EINVAL, "keri_supersede_rule: NULL argument");
	int nrot = n->ilk == KERI_ILK_ROT || n->ilk == KERI_ILK_DRT;
	int orot = o->ilk == KERI_ILK_ROT || o->ilk == KERI_ILK_DRT;
	/* B3 at one sn only: both were accepted there, so n superseded o. (keripy's code
	 * takes a rotation over an interaction event at any sn; at a lower sn the ixn
	 * may well follow the rotation on the delegator's branch.) */
	if (n->sn > o->sn || (n->sn == o->sn && nrot && o->ilk == KERI_ILK_IXN))
		return KERI_OK;
	if (strcmp(n->said, o->said) == 0) {
		if (n->index > o->index)
			return KERI_OK;
		return keri_fail(why, whylen, KERI_EDELEGATION,
		                 "delegated recovery rule B2: both drts are approved by the "
		                 "delegator's event %s, the new seal at position %d of its a list, "
		                 "not after the accepted one's (%d)", n->said, n->index, o->index);
	}
	if (n->sn == o->sn && nrot && orot)
		return KERI_CLIMB;
	return keri_fail(why, whylen, KERI_EDELEGATION,
	                 "delegated recovery rule B: the new drt's delegating event (sn %llx, "
	                 "%s) is not later than the accepted drt's (sn %llx, %s) in the "
	                 "delegator's KEL", (unsigned long long)n->sn, n->said,
	                 (unsigned long long)o->sn, o->said);
}
