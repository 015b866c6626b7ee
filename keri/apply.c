/*
 * keri/apply.c: the rules that need the prior key state (keri_apply).
 *
 * Order of checks, so each rejection names the first rule an event breaks:
 *   1. kind: rct carries no state;
 *   2. presence: an icp or dip needs no state, anything else needs one;
 *   3. identity and order: same prefix; the current or last establishment event
 *      again is a duplicate; a rot or drt after the last establishment event at or below
 *      the current sn is a recovery (KERI_RECOVERY, finished by keri_apply_recover with
 *      the caller's SAID at sn - 1), and so is a delegated identifier's drt at the sn of
 *      its last establishment event (finished by keri_apply_supersede against the
 *      caller's state at sn - 1); another event at the current sn of an ixn is duplicity
 *      if authentic (conflict()), any other sn at or below the current one is
 *      KERI_ESTALE for the caller to decide against its stored KEL; sn > current + 1
 *      is out of order;
 *   4. the identifier can still change: not non-transferable, not abandoned, not EO
 *      for an ixn; `p` is the current SAID;
 *   5. key configuration of an establishment event: thresholds against list sizes,
 *      basic-prefix and non-transferable rules, witness list arithmetic and bt; a dip's
 *      prefix is self-addressing; a delegated identifier rotates with drt only
 *      (delegated());
 *   6. signatures: the attached controller signatures that verify (Ed25519 over the
 *      body) at an index of the current keys count, the others are dropped (keripy's
 *      verifySigs); their distinct indices meet kt; for a rotation, the new keys
 *      exposed by the verified signatures' ondices meet the prior nt (digest of each
 *      key's qb64 text, with the code of the prior digest);
 *   7. witness signatures (-B, with the receipts the caller merged in): those that
 *      verify against the witness at their index count, the others are dropped;
 *      their distinct count reaches bt (KERI_EUNWITNESSED otherwise), unless the
 *      caller says the node owns or witnesses the identifier (KERI_APPLY_LOCAL).
 * Only then is *next written; on any error or duplicate it is left untouched. The
 * delegator's anchor of a dip or drt is the caller's to find (keri.h).
 */
#include <string.h>

#include <sodium.h>

#include "keri/keri.h"

typedef char qb64_t[KERI_QB64 + 1];

static int find(const qb64_t *list, unsigned n, const char *s)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return (int)i;
	return -1;
}

static int ordering(const struct keri_state *prior, const struct keri_event *ev, int skip,
                    char *why, size_t whylen)
{
	if (strcmp(prior->pre, ev->pre) != 0)
		return keri_fail(why, whylen, KERI_EPREFIX,
		                 "prefix rule: event prefix i %s is not the state's %s", ev->pre,
		                 prior->pre);
	if (ev->sn == prior->sn && strcmp(ev->said, prior->d) == 0)
		return KERI_DUPLICATE;
	if (ev->sn == prior->ee_sn && strcmp(ev->said, prior->ee_d) == 0)
		return KERI_DUPLICATE;
	/* keripy's Kevery: a rot with lastEst.s < sn <= sn + 1 goes to Kever.update; below
	 * the next sn it is a recovery, which needs the KEL (keri_apply_recover). A drt
	 * goes there with lastEst.s <= sn: a delegated identifier's drt may also supersede
	 * its last establishment event, a drt (keri_apply_supersede; rules B and C are
	 * the caller's). A drt without a delegator is an ordinary rotation (rot's range). */
	if ((ev->ilk == KERI_ILK_ROT || ev->ilk == KERI_ILK_DRT) && ev->sn > prior->ee_sn &&
	    ev->sn <= prior->sn)
		return KERI_RECOVERY;
	if (ev->ilk == KERI_ILK_DRT && prior->di[0] && ev->sn == prior->ee_sn && ev->sn > 0)
		return KERI_RECOVERY;
	/* Another event at the current sn: conflict() judges it when the state holds the
	 * keys that governed that sn (the current event is an ixn); a replay of stored
	 * events (skip) names any conflict the state can see. */
	if (ev->sn == prior->sn && (prior->et == KERI_ILK_IXN || skip))
		return KERI_EDUPLICITY;
	if (ev->sn == prior->ee_sn && skip)
		return KERI_EDUPLICITY;
	if (ev->sn <= prior->sn)
		return keri_fail(why, whylen, KERI_ESTALE,
		                 "sn rule: field s %llx is %s the current sn %llx; compare with "
		                 "the stored event at that sn", (unsigned long long)ev->sn,
		                 ev->sn == prior->sn ? "at" : "below",
		                 (unsigned long long)prior->sn);
	if (ev->sn != prior->sn + 1 || ev->ilk == KERI_ILK_ICP ||
	    ev->ilk == KERI_ILK_DIP)
		return keri_fail(why, whylen, KERI_ESN,
		                 "sn rule: field s %llx out of order, expected %llx",
		                 (unsigned long long)ev->sn, (unsigned long long)prior->sn + 1);
	if (prior->pre[0] == 'B')
		return keri_fail(why, whylen, KERI_ENONTRANS,
		                 "non-transferable rule: prefix %s (code B) accepts no event after "
		                 "its inception", prior->pre);
	if (prior->nn == 0)
		return keri_fail(why, whylen, KERI_EABANDONED,
		                 "abandonment rule: %s committed to no next keys (n empty) at sn "
		                 "%llx; no further event is accepted", prior->pre,
		                 (unsigned long long)prior->ee_sn);
	if (ev->ilk == KERI_ILK_IXN)
		for (unsigned i = 0; i < prior->nc; i++)
			if (prior->c[i] == KERI_TRAIT_EO)
				return keri_fail(why, whylen, KERI_EESTONLY,
				                 "EO rule: %s is establishment-only (c has EO); ixn at "
				                 "sn %llx refused", prior->pre, (unsigned long long)ev->sn);
	if (strcmp(ev->prior, prior->d) != 0)
		return keri_fail(why, whylen, KERI_EPRIOR,
		                 "prior rule: field p is %s but the event at sn %llx is %s",
		                 ev->prior, (unsigned long long)prior->sn, prior->d);
	return KERI_OK;
}

static int distinct(const qb64_t *list, unsigned n, const char *field, char *why,
                    size_t whylen)
{
	for (unsigned i = 1; i < n; i++)
		if (find(list, i, list[i]) >= 0)
			return keri_fail(why, whylen, KERI_EWITNESS,
			                 "witness rule: field %s lists %s twice", field, list[i]);
	return KERI_OK;
}

static int toad(uint32_t bt, unsigned nw, char *why, size_t whylen)
{
	if (nw ? (bt < 1 || bt > nw) : bt != 0)
		return keri_fail(why, whylen, KERI_EWITNESS,
		                 "witness rule: bt %u is outside %s for %u witnesses", bt,
		                 nw ? "1..len(b)" : "0", nw);
	return KERI_OK;
}

static int keys(const struct keri_event *ev, char *why, size_t whylen)
{
	int rc;
	if (ev->nk == 0)
		return keri_fail(why, whylen, KERI_EFIELD, "key rule: field k is empty");
	if ((rc = keri_tholder_check(&ev->kt, ev->nk, 0, "kt", why, whylen)) ||
	    (rc = keri_tholder_check(&ev->nt, ev->nn, 1, "nt", why, whylen)))
		return rc;
	return KERI_OK;
}

static int inception(const struct keri_event *ev, char *why, size_t whylen)
{
	int rc;
	if (ev->sn != 0)
		return keri_fail(why, whylen, KERI_ESN, "sn rule: icp must have s \"0\"");
	if ((rc = keys(ev, why, whylen)))
		return rc;
	if (ev->pre[0] == 'B' || ev->pre[0] == 'D') {
		if (ev->nk != 1 || strcmp(ev->k[0], ev->pre) != 0)
			return keri_fail(why, whylen, KERI_EPREFIX,
			                 "basic prefix rule: prefix %s must be the single key in k",
			                 ev->pre);
	} else if (strcmp(ev->pre, ev->said) != 0) {
		return keri_fail(why, whylen, KERI_EPREFIX,
		                 "self-addressing prefix rule: i %s must equal d %s", ev->pre,
		                 ev->said);
	}
	/* keripy SerderKERI._verify: a non-transferable prefix commits to nothing beyond
	 * its one key, so n, b and a are empty (a D basic prefix may have all three). */
	if (ev->pre[0] == 'B' && (ev->nn != 0 || ev->nb != 0 || ev->a_len > 2))
		return keri_fail(why, whylen, KERI_ENONTRANS,
		                 "non-transferable rule: prefix %s (code B) must have empty n, b "
		                 "and a (it has %u, %u and %s)", ev->pre, ev->nn, ev->nb,
		                 ev->a_len > 2 ? "some" : "none");
	if ((rc = distinct(ev->b, ev->nb, "b", why, whylen)))
		return rc;
	return toad(ev->bt, ev->nb, why, whylen);
}

/* New witness list of a rotation: prior b minus br, plus ba (keripy's order). */
static int rotate_wits(const struct keri_state *prior, const struct keri_event *ev,
                       qb64_t *out, uint8_t *nout, char *why, size_t whylen)
{
	int rc;
	if ((rc = distinct(ev->br, ev->nbr, "br", why, whylen)) ||
	    (rc = distinct(ev->ba, ev->nba, "ba", why, whylen)))
		return rc;
	for (unsigned i = 0; i < ev->nbr; i++)
		if (find(prior->b, prior->nb, ev->br[i]) < 0)
			return keri_fail(why, whylen, KERI_EWITNESS,
			                 "witness rule: br removes %s, which is not a witness",
			                 ev->br[i]);
	for (unsigned i = 0; i < ev->nba; i++) {
		if (find(ev->br, ev->nbr, ev->ba[i]) >= 0)
			return keri_fail(why, whylen, KERI_EWITNESS,
			                 "witness rule: %s is both in br and in ba", ev->ba[i]);
		if (find(prior->b, prior->nb, ev->ba[i]) >= 0)
			return keri_fail(why, whylen, KERI_EWITNESS,
			                 "witness rule: ba adds %s, which is already a witness",
			                 ev->ba[i]);
	}
	unsigned n = 0;
	for (unsigned i = 0; i < prior->nb; i++)
		if (find(ev->br, ev->nbr, prior->b[i]) < 0)
			memcpy(out[n++], prior->b[i], sizeof(qb64_t));
	if (n + ev->nba > KERI_MAX_WITS)
		return keri_fail(why, whylen, KERI_ELIMIT, "limit: more than %d witnesses",
		                 KERI_MAX_WITS);
	for (unsigned i = 0; i < ev->nba; i++)
		memcpy(out[n++], ev->ba[i], sizeof(qb64_t));
	*nout = (uint8_t)n;
	return toad(ev->bt, n, why, whylen);
}

/*
 * The delegated events' own rules (keripy Kever.incept/update and SerderKERI): a dip's
 * prefix is a digest of the event (a delegated identifier cannot be a basic prefix); an
 * identifier with a delegator rotates with drt only. A drt of an identifier without
 * one is an ordinary rotation, as keripy has it (its delpre is None: nothing to
 * approve).
 */
static int delegated(const struct keri_state *prior, const struct keri_event *ev, char *why,
                     size_t whylen)
{
	if (ev->ilk == KERI_ILK_DIP && !strchr("EFI", ev->pre[0]))
		return keri_fail(why, whylen, KERI_EPREFIX,
		                 "self-addressing prefix rule: a dip's prefix %s must be a digest "
		                 "(code E, F or I)", ev->pre);
	if (ev->ilk == KERI_ILK_ROT && prior && prior->di[0])
		return keri_fail(why, whylen, KERI_EDELEGATION,
		                 "delegation rule: %s is delegated by %s and rotates with drt, not "
		                 "rot", prior->pre, prior->di);
	return KERI_OK;
}

int keri_verify_raw(const struct keri_event *ev, const uint8_t sig[64], const char *key)
{
	struct keri_prim p;
	if (keri_prim_decode(key, KERI_QB64, &p, NULL, 0) || p.rawlen != 32 ||
	    (p.code[0] != 'B' && p.code[0] != 'D'))
		return -1;
	return crypto_sign_verify_detached(sig, ev->body, ev->size, p.raw);
}

static int verify(const struct keri_event *ev, const struct keri_sig *s, const char *key)
{
	return keri_verify_raw(ev, s->sig, key);
}

/*
 * keripy's verifySigs: a signature whose index is outside the key list, or that does
 * not verify, is dropped (a relay can append junk to any event); the ones that verify
 * must meet the threshold. *ok marks the attached signatures (by position) that
 * verified, the only ones that may expose prior next keys.
 */
static int controller_sigs(const struct keri_event *ev, const qb64_t *k, unsigned nk,
                           const struct keri_tholder *kt, uint32_t *ok, int unmet, char *why,
                           size_t whylen)
{
	uint32_t have = 0;
	*ok = 0;
	for (unsigned i = 0; i < ev->nsigs; i++) {
		const struct keri_sig *s = &ev->sigs[i];
		if (s->index >= nk || verify(ev, s, k[s->index]))
			continue;
		have |= UINT32_C(1) << s->index;
		*ok |= UINT32_C(1) << i;
	}
	if (!have && ev->nsigs)
		return keri_fail(why, whylen, KERI_ESIG,
		                 "signature rule: none of the %u attached signature(s) verifies "
		                 "against the %u current key(s)", ev->nsigs, nk);
	if (!keri_tholder_satisfied(kt, have))
		return keri_fail(why, whylen, unmet,
		                 "threshold rule: %d verified signature(s) do not satisfy kt "
		                 "(keripy holds such an event as partially signed)",
		                 __builtin_popcount(have));
	return KERI_OK;
}

/* Does key text k match the prior next digest dig (with dig's own code)? */
static int commits(const char *dig, const char *k)
{
	char got[KERI_QB64 + 1];
	return keri_digest_qb64(dig[0], (const uint8_t *)k, KERI_QB64, got) == KERI_OK &&
	       memcmp(got, dig, KERI_QB64) == 0;
}

static int prerotation(const struct keri_state *prior, const struct keri_event *ev,
                       int skip_sigs, uint32_t ok, char *why, size_t whylen)
{
	uint32_t ohave = 0;
	if (skip_sigs) {
		/* Every committed key counts, but only within the weights: the signatures
		 * that once exposed them did (an index past them would have failed). */
		unsigned on = prior->nt.weighted && prior->nt.size < prior->nn ? prior->nt.size
		                                                               : prior->nn;
		for (unsigned j = 0; j < ev->nk; j++)
			for (unsigned o = 0; o < on; o++)
				if (commits(prior->n[o], ev->k[j]))
					ohave |= UINT32_C(1) << o;
	} else {
		for (unsigned i = 0; i < ev->nsigs; i++) {
			const struct keri_sig *s = &ev->sigs[i];
			if ((ok & (UINT32_C(1) << i)) && s->has_ondex && s->ondex < prior->nn &&
			    commits(prior->n[s->ondex], ev->k[s->index]))
				ohave |= UINT32_C(1) << s->ondex;
		}
	}
	if (!keri_tholder_satisfied(&prior->nt, ohave))
		return keri_fail(why, whylen, KERI_ENEXT,
		                 "pre-rotation rule: the new keys exposed by the signatures match "
		                 "%d prior next digest(s), which does not satisfy the prior nt",
		                 __builtin_popcount(ohave));
	return KERI_OK;
}

/*
 * Witness signatures (keripy's valSigsWigsDel): those out of range or failing are
 * dropped like controller ones; the distinct witnesses whose signatures verify must
 * reach bt. Fewer is KERI_EUNWITNESSED, which the cache escrows as partially witnessed
 * until receipts arrive. A node that owns or witnesses the identifier (local) does not
 * wait for bt, as keripy's locallyOwned/locallyMembered/locallyWitnessed exemption.
 */
static int witness_sigs(const struct keri_event *ev, const qb64_t *w, unsigned nw,
                        uint32_t bt, int local, char *why, size_t whylen)
{
	uint32_t have = 0;
	if (local || nw == 0)
		return KERI_OK;
	for (unsigned i = 0; i < ev->nwigs; i++) {
		const struct keri_sig *s = &ev->wigs[i];
		if (s->index < nw && verify(ev, s, w[s->index]) == 0)
			have |= UINT32_C(1) << s->index;
	}
	if ((uint32_t)__builtin_popcount(have) < bt)
		return keri_fail(why, whylen, KERI_EUNWITNESSED,
		                 "witness rule: %d of %u witness signature(s) verify, bt requires "
		                 "%u (keripy holds such an event as partially witnessed until "
		                 "receipts arrive)", __builtin_popcount(have), ev->nwigs, bt);
	return KERI_OK;
}

/* A rot's own rules against prior (in order or recovering): key lists, the new witness
 * list into wits/nw, the new keys' signatures to kt, pre-rotation, witness signatures. */
static int rotation(const struct keri_state *prior, const struct keri_event *ev, int skip,
                    int unmet, int local, qb64_t *wits, uint8_t *nw, char *why,
                    size_t whylen)
{
	uint32_t ok = 0;
	int rc;
	if ((rc = keys(ev, why, whylen)) ||
	    (rc = rotate_wits(prior, ev, wits, nw, why, whylen)))
		return rc;
	if (!skip && (rc = controller_sigs(ev, ev->k, ev->nk, &ev->kt, &ok, unmet, why,
	                                   whylen)))
		return rc;
	if ((rc = prerotation(prior, ev, skip, ok, why, whylen)))
		return rc;
	if (!skip && (rc = witness_sigs(ev, wits, *nw, ev->bt, local, why, whylen)))
		return rc;
	return KERI_OK;
}

static void establish(const struct keri_state *prior, const struct keri_event *ev,
                      const qb64_t *wits, uint8_t nw, struct keri_state *next);

/*
 * ev, an ixn, claims the current sn, held by an ixn, with another SAID (a rot there is
 * a recovery, never this). Duplicity is reported only for an authentic event: signed
 * to threshold by the current keys (they signed that sn). Anything else is an ordinary
 * rejection (issue 10 rule 8).
 * With skip_sigs (a replay of stored events) the conflict is named as it stands.
 */
static int conflict(const struct keri_state *prior, const struct keri_event *ev,
                    int skip_sigs, char *why, size_t whylen)
{
	uint32_t ok;
	int rc = KERI_OK;
	if (!skip_sigs)
		rc = controller_sigs(ev, prior->k, prior->nk, &prior->kt, &ok, KERI_ETHRESHOLD,
		                     why, whylen);
	if (rc)
		return rc;
	return keri_fail(why, whylen, KERI_EDUPLICITY,
	                 "duplicity rule: sn %llx already holds event %s, this one is %s%s",
	                 (unsigned long long)ev->sn,
	                 ev->sn == prior->sn ? prior->d : prior->ee_d, ev->said,
	                 skip_sigs ? "" : ", signed by the keys that governed that sn");
}

int keri_apply_flags(const struct keri_state *prior, const struct keri_event *ev,
                     unsigned flags, struct keri_state *next, char *why, size_t whylen)
{
	qb64_t wits[KERI_MAX_WITS];
	uint8_t nw = 0;
	uint32_t ok = 0;
	int rc, skip = (flags & KERI_APPLY_SKIP_SIGS) != 0;
	int local = (flags & KERI_APPLY_LOCAL) != 0;
	int unmet = flags & KERI_APPLY_PARTIAL ? KERI_EUNSIGNED : KERI_ETHRESHOLD;

	if (why && whylen)
		why[0] = 0;
	if (!ev || !next || prior == next || !ev->body)
		return keri_fail(why, whylen, KERI_EINVAL, "keri_apply: bad arguments");
	if (ev->ilk == KERI_ILK_RCT)
		return keri_fail(why, whylen, KERI_EILK, "ilk rule: rct carries no key state");
	if (ev->ilk < KERI_ILK_ICP || ev->ilk > KERI_ILK_DRT)
		return keri_fail(why, whylen, KERI_EINVAL, "keri_apply: bad ilk");
	int incept = ev->ilk == KERI_ILK_ICP || ev->ilk == KERI_ILK_DIP;
	if (!prior && !incept)
		return keri_fail(why, whylen, KERI_ENOSTATE,
		                 "state rule: no key state for %s; its first event must be icp "
		                 "or dip", ev->pre);
	if (prior && (rc = ordering(prior, ev, skip, why, whylen)))
		return rc == KERI_EDUPLICITY ? conflict(prior, ev, skip, why, whylen) : rc;
	if ((rc = delegated(prior, ev, why, whylen)))
		return rc;

	if (incept) {
		if ((rc = inception(ev, why, whylen)))
			return rc;
		memcpy(wits, ev->b, sizeof(qb64_t) * ev->nb);
		nw = ev->nb;
		if (!skip && ((rc = controller_sigs(ev, ev->k, ev->nk, &ev->kt, &ok, unmet, why,
		                                    whylen)) ||
		              (rc = witness_sigs(ev, wits, nw, ev->bt, local, why, whylen))))
			return rc;
		memset(next, 0, sizeof(*next));
		/* keripy's Kever keeps two booleans, estOnly and doNotDelegate, and its
		 * state() lists them in that order; every other trait is dropped. */
		static const uint8_t kept[] = {KERI_TRAIT_EO, KERI_TRAIT_DND};
		for (unsigned t = 0; t < sizeof(kept); t++)
			if (memchr(ev->c, kept[t], ev->nc))
				next->c[next->nc++] = kept[t];
		memcpy(next->pre, ev->pre, sizeof(next->pre));
		if (ev->ilk == KERI_ILK_DIP)
			memcpy(next->di, ev->di, sizeof(next->di));
	} else if (ev->ilk == KERI_ILK_ROT || ev->ilk == KERI_ILK_DRT) {
		if ((rc = rotation(prior, ev, skip, unmet, local, wits, &nw, why, whylen)))
			return rc;
		*next = *prior;
	} else {
		if (!skip && ((rc = controller_sigs(ev, prior->k, prior->nk, &prior->kt, &ok, unmet,
		                                   why, whylen)) ||
		              (rc = witness_sigs(ev, prior->b, prior->nb, prior->bt, local, why,
		                                   whylen))))
			return rc;
		*next = *prior;
		next->sn = ev->sn;
		next->fn = prior->fn + 1;
		memcpy(next->d, ev->said, sizeof(next->d));
		memcpy(next->p, ev->prior, sizeof(next->p));
		next->et = KERI_ILK_IXN;
		return KERI_OK;
	}

	establish(prior, ev, wits, nw, next);
	return KERI_OK;
}

/* An establishment event's state: replace the key configuration. next holds *prior (a
 * rot) or zeros and the traits (an icp). */
static void establish(const struct keri_state *prior, const struct keri_event *ev,
                      const qb64_t *wits, uint8_t nw, struct keri_state *next)
{
	next->sn = ev->sn;
	next->fn = prior ? prior->fn + 1 : 0;
	memcpy(next->d, ev->said, sizeof(next->d));
	memcpy(next->p, ev->prior, sizeof(next->p));
	next->et = (uint8_t)ev->ilk;
	next->kt = ev->kt;
	next->nt = ev->nt;
	memset(next->k, 0, sizeof(next->k));
	memset(next->n, 0, sizeof(next->n));
	memset(next->b, 0, sizeof(next->b));
	memset(next->ee_br, 0, sizeof(next->ee_br));
	memset(next->ee_ba, 0, sizeof(next->ee_ba));
	memcpy(next->k, ev->k, sizeof(qb64_t) * ev->nk);
	memcpy(next->n, ev->n, sizeof(qb64_t) * ev->nn);
	memcpy(next->b, wits, sizeof(qb64_t) * nw);
	memcpy(next->ee_br, ev->br, sizeof(qb64_t) * ev->nbr);
	memcpy(next->ee_ba, ev->ba, sizeof(qb64_t) * ev->nba);
	next->nk = ev->nk;
	next->nn = ev->nn;
	next->nb = nw;
	next->bt = ev->bt;
	next->ee_nbr = ev->nbr;
	next->ee_nba = ev->nba;
	next->ee_sn = ev->sn;
	memcpy(next->ee_d, ev->said, sizeof(next->ee_d));
}

int keri_apply_recover(const struct keri_state *prior, const struct keri_event *ev,
                       unsigned flags, const char *psaid, struct keri_state *next, char *why,
                       size_t whylen)
{
	qb64_t wits[KERI_MAX_WITS];
	uint8_t nw = 0;
	int rc, skip = (flags & KERI_APPLY_SKIP_SIGS) != 0;
	int local = (flags & KERI_APPLY_LOCAL) != 0;
	int unmet = flags & KERI_APPLY_PARTIAL ? KERI_EUNSIGNED : KERI_ETHRESHOLD;

	if (why && whylen)
		why[0] = 0;
	if (!prior || !ev || !next || !psaid || prior == next || !ev->body ||
	    (ev->ilk != KERI_ILK_ROT && ev->ilk != KERI_ILK_DRT) ||
	    strcmp(prior->pre, ev->pre) != 0 || ev->sn <= prior->ee_sn || ev->sn > prior->sn ||
	    ev->sn == 0)
		return keri_fail(why, whylen, KERI_EINVAL,
		                 "keri_apply_recover: not a recovery rotation of this state");
	/* keripy Kever.update checks this first: a delegated identifier rotates with drt
	 * only, in a recovery too (its delegator must approve it). */
	if ((rc = delegated(prior, ev, why, whylen)))
		return rc;
	/* keripy: "rot recovery may only override ixn state"; with sn above the last
	 * establishment event and at most the current one, the current event is an ixn. */
	if (prior->et != KERI_ILK_IXN)
		return keri_fail(why, whylen, KERI_ESTALE,
		                 "recovery rule: a rot at sn %llx may supersede only interaction "
		                 "events; the current event is a %s",
		                 (unsigned long long)ev->sn, prior->et == KERI_ILK_ROT ? "rot" : "icp");
	if (prior->nn == 0)
		return keri_fail(why, whylen, KERI_EABANDONED,
		                 "abandonment rule: %s committed to no next keys (n empty) at sn "
		                 "%llx; no further event is accepted", prior->pre,
		                 (unsigned long long)prior->ee_sn);
	if (strcmp(ev->prior, psaid) != 0)
		return keri_fail(why, whylen, KERI_EPRIOR,
		                 "recovery rule: field p is %s but the accepted event at sn %llx is "
		                 "%s", ev->prior, (unsigned long long)(ev->sn - 1), psaid);
	if ((rc = rotation(prior, ev, skip, unmet, local, wits, &nw, why, whylen)))
		return rc;
	*next = *prior;
	establish(prior, ev, wits, nw, next);
	return KERI_OK;
}

int keri_apply_supersede(const struct keri_state *cur, const struct keri_state *below,
                         const struct keri_event *ev, unsigned flags, struct keri_state *next,
                         char *why, size_t whylen)
{
	if (why && whylen)
		why[0] = 0;
	if (!cur || !below || !ev || !next || next == cur || next == below || !ev->body ||
	    ev->ilk != KERI_ILK_DRT || !cur->di[0] || strcmp(cur->pre, ev->pre) != 0 ||
	    ev->sn != cur->ee_sn || ev->sn == 0 || below->sn + 1 != ev->sn ||
	    strcmp(below->pre, cur->pre) != 0)
		return keri_fail(why, whylen, KERI_EINVAL,
		                 "keri_apply_supersede: not a drt superseding this state's last "
		                 "establishment event");
	/* The drt answers to the key state the superseded drt answered to (below), as an
	 * in-order event would: p, keys, pre-rotation, witnesses; then takes the next
	 * first-seen ordinal. */
	int rc = keri_apply_flags(below, ev, flags, next, why, whylen);
	if (rc == KERI_DUPLICATE)
		rc = keri_fail(why, whylen, KERI_EINVAL, "keri_apply_supersede: below already "
		               "holds this drt");
	if (rc != KERI_OK)
		return rc;
	next->fn = cur->fn + 1;
	return KERI_OK;
}

int keri_apply(const struct keri_state *prior, const struct keri_event *ev,
               struct keri_state *next, char *why, size_t whylen)
{
	return keri_apply_flags(prior, ev, 0, next, why, whylen);
}
