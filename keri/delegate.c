/*
 * keri/delegate.c: the pure parts of delegation (keripy Kever.validateDelegation).
 *
 * A delegated event (dip, or a drt of a delegated identifier) is valid only when its
 * delegator approves it: the delegator's KEL holds an event whose `a` list has the
 * event seal {i, s, d} of the delegated event, and the delegator does not carry the DND
 * (do not delegate) trait. Finding the delegator's events is the caller's (it keeps the
 * KELs); this file judges a state and an event it hands in.
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

int keri_seal_anchors(const struct keri_event *ev, const char *pre, uint64_t sn,
                      const char *said)
{
	char seal[3 * KERI_QB64 + 64];
	if (!ev || !ev->body || !pre || !said || ev->a_len < 2)
		return 0;
	int n = snprintf(seal, sizeof(seal), "{\"i\":\"%s\",\"s\":\"%llx\",\"d\":\"%s\"}", pre,
	                 (unsigned long long)sn, said);
	if (n <= 0 || (size_t)n >= sizeof(seal))
		return 0;
	/* Walk the top-level elements of `a`: a seal nested deeper is not an anchor. */
	struct keri_json j = {ev->body + ev->a_off, ev->a_len, 1};
	if (j.b[0] != '[' || j.b[1] == ']')
		return 0;
	for (;;) {
		size_t start = j.pos;
		if (keri_json_skip(&j, 1, NULL, 0) != KERI_OK)
			return 0;
		if (j.pos - start == (size_t)n && memcmp(j.b + start, seal, (size_t)n) == 0)
			return 1;
		if (j.pos >= j.len || j.b[j.pos] != ',')
			return 0;
		j.pos++;
	}
}
