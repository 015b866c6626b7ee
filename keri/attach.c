/*
 * keri/attach.c: CESR text attachments after an event body.
 *
 * Counters are '-' + letter + 2 base64 chars of count, or '-0' + letter + 5 chars for
 * the big forms (keripy 1.1's v1 text domain). Understood:
 *   -A  controller indexed signatures      -> ev->sigs
 *   -B  witness indexed signatures         -> ev->wigs
 *   -V, -0V  attached material quadlets: a wrapper whose count is in 4-char units;
 *       its content is parsed with the same rules and must end exactly at its size
 *   -C  non-transferable receipt couples   -> ev->cigs (verfer + cigar)
 *   -D  transferable receipt quadruples    -> ev->trcs (prefix + sn + digest + siger)
 *   -E  first-seen replay couples          (skipped: sn + datetime)
 *   -F  transferable indexed sig groups    -> ev->trcs, one per signature (prefix +
 *                                             sn + digest + -A group)
 *   -G  seal source couples: sn + digest of the delegator's anchoring event; the last
 *       couple goes to ev->src_* (keripy uses the last one)
 *   -H  trans last indexed sig groups      (skipped: prefix + -A group)
 *   -I  seal source triples                (skipped: prefix + sn + digest)
 *   -L, -0L  pathed material quadlets      (skipped by their declared size)
 * keri_apply uses none of the receipts (the cache verifies and stores them) nor the
 * skipped groups. -J and -K (SAD path signatures) belong to exn and ACDC
 * messages, and are refused by name.
 * The attachments end at the next '{' (the next event) or at the end of the input.
 * Skipped groups are still parsed primitive by primitive, so their extent is exact
 * and their pad bits are checked.
 */
#include <string.h>

#include "keri/keri.h"

struct cur {
	const char *t;
	size_t len, pos;
};

/* Reads a counter: -X + 2 count chars, or -0X + 5 count chars (the big forms). */
static int counter(struct cur *c, char *letter, unsigned *count, int *big, char *why,
                   size_t whylen)
{
	const char *t = c->t + c->pos;
	size_t avail = c->len - c->pos;

	if (avail < 2)
		return keri_fail(why, whylen, KERI_ETRUNCATED, "CESR: truncated counter");
	if (t[0] != '-')
		return keri_fail(why, whylen, KERI_ECESR,
		                 "CESR: expected a counter ('-') in the attachments at offset %zu",
		                 c->pos);
	*big = t[1] == '0';
	size_t hs = *big ? 3 : 2, fs = *big ? 8 : 4;
	if (*big && avail < 3)
		return keri_fail(why, whylen, KERI_ETRUNCATED, "CESR: truncated counter");
	char l = t[hs - 1];
	if (!strchr(*big ? "LV" : "ABCDEFGHIJKLV", l) || l == 0)
		return keri_fail(why, whylen, KERI_ECESR,
		                 "CESR: unsupported counter code -%s%c", *big ? "0" : "",
		                 keri_b64_val((unsigned char)l) >= 0 ? l : '?');
	if (l == 'J' || l == 'K')
		return keri_fail(why, whylen, KERI_ECESR,
		                 "CESR: counter -%c (SAD path signatures) belongs to exn and ACDC "
		                 "messages, not to key events", l);
	if (avail < fs)
		return keri_fail(why, whylen, KERI_ETRUNCATED, "CESR: truncated counter");
	*count = 0;
	for (size_t i = hs; i < fs; i++) {
		int v = keri_b64_val((unsigned char)t[i]);
		if (v < 0)
			return keri_fail(why, whylen, KERI_ECESR, "CESR: bad counter count");
		*count = *count * 64 + (unsigned)v;
	}
	*letter = l;
	c->pos += fs;
	return KERI_OK;
}

static int skip_prims(struct cur *c, unsigned n, char *why, size_t whylen)
{
	for (unsigned i = 0; i < n; i++) {
		struct keri_prim p;
		int rc = keri_prim_decode(c->t + c->pos, c->len - c->pos, &p, why, whylen);
		if (rc)
			return rc;
		c->pos += p.fs;
	}
	return KERI_OK;
}

/* The 44-char primitive at c (a prefix or digest) into out, codes in `codes`. */
static int prim44(struct cur *c, const char *codes, char *out, char *why, size_t whylen)
{
	struct keri_prim p;
	int rc = keri_prim_decode(c->t + c->pos, c->len - c->pos, &p, why, whylen);
	if (rc)
		return rc;
	if (p.fs != KERI_QB64 || !strchr(codes, p.code[0]))
		return keri_fail(why, whylen, KERI_ECESR,
		                 "CESR: a receipt needs a 44-char primitive with code in [%s] here, "
		                 "found code %s", codes, p.code);
	memcpy(out, c->t + c->pos, KERI_QB64);
	out[KERI_QB64] = 0;
	c->pos += p.fs;
	return KERI_OK;
}

/* A Seqner (0A, 128 bits) that must fit 64 bits. */
static int seqner(struct cur *c, uint64_t *sn, char *why, size_t whylen)
{
	struct keri_prim p;
	int rc = keri_prim_decode(c->t + c->pos, c->len - c->pos, &p, why, whylen);
	if (rc)
		return rc;
	if (strcmp(p.code, "0A") != 0)
		return keri_fail(why, whylen, KERI_ECESR,
		                 "CESR: a receipt needs a sequence number (0A) here, found %s",
		                 p.code);
	*sn = 0;
	for (unsigned i = 0; i < 16; i++) {
		if (i < 8 && p.raw[i])
			return keri_fail(why, whylen, KERI_ELIMIT,
			                 "limit: a receipt's sequence number exceeds 64 bits");
		if (i >= 8)
			*sn = (*sn << 8) | p.raw[i];
	}
	c->pos += p.fs;
	return KERI_OK;
}

static int couples(struct cur *c, unsigned n, struct keri_event *ev, char *why, size_t whylen)
{
	for (unsigned i = 0; i < n; i++) {
		struct keri_cig g;
		struct keri_prim p;
		int rc = prim44(c, "BD", g.pre, why, whylen);
		if (rc || (rc = keri_prim_decode(c->t + c->pos, c->len - c->pos, &p, why, whylen)))
			return rc;
		if (strcmp(p.code, "0B") != 0)
			return keri_fail(why, whylen, KERI_ECESR,
			                 "CESR: a -C receipt couple needs an Ed25519 signature (0B), "
			                 "found %s", p.code);
		c->pos += p.fs;
		memcpy(g.sig, p.raw, 64);
		if (ev->ncigs >= KERI_MAX_SIGS)
			return keri_fail(why, whylen, KERI_ELIMIT, "limit: more than %d receipt couples",
			                 KERI_MAX_SIGS);
		ev->cigs[ev->ncigs++] = g;
	}
	return KERI_OK;
}

/* -D (one signature each) or -F (a -A group each): transferable receipts. */
static int trans_receipts(struct cur *c, char l, unsigned n, struct keri_event *ev, char *why,
                          size_t whylen)
{
	for (unsigned i = 0; i < n; i++) {
		struct keri_trc t;
		unsigned ns = 1;
		int rc = prim44(c, "BDEFI", t.pre, why, whylen);
		if (rc || (rc = seqner(c, &t.sn, why, whylen)) ||
		    (rc = prim44(c, "EFI", t.said, why, whylen)))
			return rc;
		if (l == 'F') {
			char l2;
			int big2;
			if ((rc = counter(c, &l2, &ns, &big2, why, whylen)))
				return rc;
			if (l2 != 'A' || big2)
				return keri_fail(why, whylen, KERI_ECESR,
				                 "CESR: -F group needs a -A counter, found -%c", l2);
		}
		for (unsigned k = 0; k < ns; k++) {
			size_t fs;
			if ((rc = keri_siger_decode(c->t + c->pos, c->len - c->pos, &t.sig, &fs, why,
			                            whylen)))
				return rc;
			c->pos += fs;
			if (ev->ntrcs >= KERI_MAX_SIGS)
				return keri_fail(why, whylen, KERI_ELIMIT,
				                 "limit: more than %d transferable receipt signatures",
				                 KERI_MAX_SIGS);
			ev->trcs[ev->ntrcs++] = t;
		}
	}
	return KERI_OK;
}

static int sigs(struct cur *c, unsigned n, struct keri_sig *out, uint8_t *nout,
                const char *kind, char *why, size_t whylen)
{
	for (unsigned i = 0; i < n; i++) {
		struct keri_sig s;
		size_t fs;
		int rc = keri_siger_decode(c->t + c->pos, c->len - c->pos, &s, &fs, why, whylen);
		if (rc)
			return rc;
		c->pos += fs;
		if (out) {
			if (*nout >= KERI_MAX_SIGS)
				return keri_fail(why, whylen, KERI_ELIMIT,
				                 "limit: more than %d %s signatures", KERI_MAX_SIGS,
				                 kind);
			out[(*nout)++] = s;
		}
	}
	return KERI_OK;
}

/*
 * -G couples: a 0A number (128 bits, big-endian) and a digest. The last couple is kept;
 * an sn beyond 64 bits names no event this module can hold, and a digest other than a
 * 44-character one no SAID, so such a couple is kept as none (the anchor is then looked
 * up, as keripy does when a couple does not lead to the seal).
 */
static int source_couples(struct cur *c, unsigned n, struct keri_event *ev, char *why,
                          size_t whylen)
{
	for (unsigned i = 0; i < n; i++) {
		struct keri_prim sn, dig;
		int rc = keri_prim_decode(c->t + c->pos, c->len - c->pos, &sn, why, whylen);
		if (rc)
			return rc;
		if (strcmp(sn.code, "0A") != 0)
			return keri_fail(why, whylen, KERI_ECESR,
			                 "CESR: a -G couple starts with a 0A number, not code %s",
			                 sn.code);
		c->pos += sn.fs;
		if ((rc = keri_prim_decode(c->t + c->pos, c->len - c->pos, &dig, why, whylen)))
			return rc;
		ev->has_src = 0;
		int fits = 1;
		uint64_t v = 0;
		for (unsigned b = 0; b < 16; b++) {
			if (b < 8 && sn.raw[b])
				fits = 0;
			v = (v << 8) | sn.raw[b];
		}
		if (fits && dig.fs == KERI_QB64 && strchr("EFI", c->t[c->pos])) {
			ev->has_src = 1;
			ev->src_sn = v;
			memcpy(ev->src_said, c->t + c->pos, KERI_QB64);
			ev->src_said[KERI_QB64] = 0;
		}
		c->pos += dig.fs;
	}
	return KERI_OK;
}

static int groups(struct cur *c, struct keri_event *ev, int in_v, char *why, size_t whylen);

static int group(struct cur *c, struct keri_event *ev, int in_v, char *why, size_t whylen)
{
	char l;
	unsigned n;
	int big;
	int rc = counter(c, &l, &n, &big, why, whylen);
	if (rc)
		return rc;
	switch (l) {
	case 'A':
		return sigs(c, n, ev->sigs, &ev->nsigs, "controller", why, whylen);
	case 'B':
		ev->has_wigs = 1;
		return sigs(c, n, ev->wigs, &ev->nwigs, "witness", why, whylen);
	case 'C':
		return couples(c, n, ev, why, whylen);
	case 'E':
		return skip_prims(c, 2 * n, why, whylen);
	case 'G':
		return source_couples(c, n, ev, why, whylen);
	case 'D':
	case 'F':
		return trans_receipts(c, l, n, ev, why, whylen);
	case 'I':
		return skip_prims(c, 3 * n, why, whylen);
	case 'H':
		/* -H: prefix, then a -A group. */
		for (unsigned i = 0; i < n; i++) {
			char l2;
			unsigned n2;
			int big2;
			if ((rc = skip_prims(c, 1, why, whylen)) ||
			    (rc = counter(c, &l2, &n2, &big2, why, whylen)))
				return rc;
			if (l2 != 'A' || big2)
				return keri_fail(why, whylen, KERI_ECESR,
				                 "CESR: -%c group needs a -A counter, found -%c", l, l2);
			if ((rc = sigs(c, n2, NULL, NULL, "", why, whylen)))
				return rc;
		}
		return KERI_OK;
	case 'L': {
		/* Pathed material: opaque to key events, skipped by its declared size. */
		size_t size = (size_t)n * 4;
		if (c->len - c->pos < size)
			return keri_fail(why, whylen, KERI_ETRUNCATED,
			                 "CESR: -%sL group of %zu chars truncated", big ? "0" : "", size);
		for (size_t i = 0; i < size; i++)
			if (keri_b64_val((unsigned char)c->t[c->pos + i]) < 0)
				return keri_fail(why, whylen, KERI_ECESR,
				                 "CESR: non-base64url character in a -L group");
		c->pos += size;
		return KERI_OK;
	}
	case 'V': {
		if (in_v)
			return keri_fail(why, whylen, KERI_ECESR, "CESR: nested -V group");
		size_t size = (size_t)n * 4;
		if (c->len - c->pos < size)
			return keri_fail(why, whylen, KERI_ETRUNCATED,
			                 "CESR: -%sV group of %zu chars truncated", big ? "0" : "",
			                 size);
		struct cur in = {c->t + c->pos, size, 0};
		if ((rc = groups(&in, ev, 1, why, whylen)))
			return rc == KERI_ETRUNCATED
			               ? keri_fail(why, whylen, KERI_ECESR,
			                           "CESR: -V group size too small for its content")
			               : rc;
		c->pos += size;
		return KERI_OK;
	}
	default:
		return keri_fail(why, whylen, KERI_ECESR, "CESR: unsupported counter");
	}
}

static int groups(struct cur *c, struct keri_event *ev, int in_v, char *why, size_t whylen)
{
	while (c->pos < c->len && c->t[c->pos] != '{') {
		int rc = group(c, ev, in_v, why, whylen);
		if (rc)
			return rc;
	}
	if (in_v && c->pos != c->len)
		return keri_fail(why, whylen, KERI_ECESR, "CESR: -V group ends inside an event");
	return KERI_OK;
}

int keri_attach_parse(const uint8_t *buf, size_t len, struct keri_event *ev, size_t *used,
                      char *why, size_t whylen)
{
	struct cur c = {(const char *)buf, len, 0};
	int rc = groups(&c, ev, 0, why, whylen);
	*used = c.pos;
	return rc;
}

static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t keri_sigs_encode(char counter_letter, const struct keri_sig *s, unsigned n, char *out,
                        size_t cap)
{
	size_t len = 0;
	if (n > 4095 || cap < 4)
		return 0;
	out[len++] = '-';
	out[len++] = counter_letter;
	out[len++] = b64c[n / 64];
	out[len++] = b64c[n % 64];
	for (unsigned i = 0; i < n; i++) {
		const struct keri_sig *g = &s[i];
		int small = g->index < 64 && (!g->has_ondex || g->ondex == g->index);
		size_t need = small ? 88 : 92;
		if (cap - len < need)
			return 0;
		if (small) {
			out[len++] = g->has_ondex ? 'A' : 'B';
			out[len++] = b64c[g->index];
		} else {
			unsigned o = g->has_ondex ? g->ondex : 0;
			out[len++] = '2';
			out[len++] = g->has_ondex ? 'A' : 'B';
			out[len++] = b64c[(g->index / 64) % 64];
			out[len++] = b64c[g->index % 64];
			out[len++] = b64c[(o / 64) % 64];
			out[len++] = b64c[o % 64];
		}
		uint8_t raw[66] = {0};
		char txt[88];
		memcpy(raw + 2, g->sig, 64);
		keri_b64_encode(raw, 66, txt);
		memcpy(out + len, txt + 2, 86);
		len += 86;
	}
	return len;
}

size_t keri_src_encode(uint64_t sn, const char *said, char *out, size_t cap)
{
	if (!said || strlen(said) != KERI_QB64 || cap < 4 + 24 + KERI_QB64)
		return 0;
	/* -GAB, then sn as a 0A number: 16 raw bytes big-endian behind two pad bytes. */
	uint8_t raw[18] = {0};
	char txt[24];
	for (int i = 0; i < 8; i++)
		raw[17 - i] = (uint8_t)(sn >> (8 * i));
	keri_b64_encode(raw, 18, txt);
	memcpy(out, "-GAB0A", 6);
	memcpy(out + 6, txt + 2, 22);
	memcpy(out + 28, said, KERI_QB64);
	return 28 + KERI_QB64;
}
