/*
 * keri/attach.c: CESR text attachments after an event body.
 *
 * Counters are '-' + letter + 2 base64 chars of count (v1 text domain). Understood:
 *   -A  controller indexed signatures      -> ev->sigs
 *   -B  witness indexed signatures         -> ev->wigs
 *   -V  attached material quadlets: a wrapper whose count is in 4-char units; its
 *       content is parsed with the same rules and must end exactly at its size
 *   -C  non-transferable receipt couples   (skipped: verfer + cigar)
 *   -D  transferable receipt quadruples    (skipped: prefix + sn + digest + siger)
 *   -E  first-seen replay couples          (skipped: sn + datetime)
 *   -F  transferable indexed sig groups    (skipped: prefix + sn + digest + -A group)
 *   -G  seal source couples                (skipped: sn + digest)
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

static int counter(struct cur *c, char *letter, unsigned *count, char *why, size_t whylen)
{
	const char *t = c->t + c->pos;
	size_t avail = c->len - c->pos;

	if (avail < 2)
		return keri_fail(why, whylen, KERI_ETRUNCATED, "CESR: truncated counter");
	if (t[0] != '-')
		return keri_fail(why, whylen, KERI_ECESR,
		                 "CESR: expected a counter ('-') in the attachments at offset %zu",
		                 c->pos);
	if (!strchr("ABCDEFGV", t[1]) || t[1] == 0)
		return keri_fail(why, whylen, KERI_ECESR,
		                 "CESR: unsupported counter code -%c",
		                 keri_b64_val((unsigned char)t[1]) >= 0 ? t[1] : '?');
	if (avail < 4)
		return keri_fail(why, whylen, KERI_ETRUNCATED, "CESR: truncated counter");
	int hi = keri_b64_val((unsigned char)t[2]), lo = keri_b64_val((unsigned char)t[3]);
	if (hi < 0 || lo < 0)
		return keri_fail(why, whylen, KERI_ECESR, "CESR: bad counter count");
	*letter = t[1];
	*count = (unsigned)(hi * 64 + lo);
	c->pos += 4;
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

static int groups(struct cur *c, struct keri_event *ev, int in_v, char *why, size_t whylen);

static int group(struct cur *c, struct keri_event *ev, int in_v, char *why, size_t whylen)
{
	char l;
	unsigned n;
	int rc = counter(c, &l, &n, why, whylen);
	if (rc)
		return rc;
	switch (l) {
	case 'A':
		return sigs(c, n, ev->sigs, &ev->nsigs, "controller", why, whylen);
	case 'B':
		ev->has_wigs = 1;
		return sigs(c, n, ev->wigs, &ev->nwigs, "witness", why, whylen);
	case 'C':
	case 'E':
	case 'G':
		return skip_prims(c, 2 * n, why, whylen);
	case 'D':
		for (unsigned i = 0; i < n; i++) {
			if ((rc = skip_prims(c, 3, why, whylen)) ||
			    (rc = sigs(c, 1, NULL, NULL, "", why, whylen)))
				return rc;
		}
		return KERI_OK;
	case 'F':
		for (unsigned i = 0; i < n; i++) {
			char l2;
			unsigned n2;
			if ((rc = skip_prims(c, 3, why, whylen)) ||
			    (rc = counter(c, &l2, &n2, why, whylen)))
				return rc;
			if (l2 != 'A')
				return keri_fail(why, whylen, KERI_ECESR,
				                 "CESR: -F group needs a -A counter, found -%c", l2);
			if ((rc = sigs(c, n2, NULL, NULL, "", why, whylen)))
				return rc;
		}
		return KERI_OK;
	case 'V': {
		if (in_v)
			return keri_fail(why, whylen, KERI_ECESR, "CESR: nested -V group");
		size_t size = (size_t)n * 4;
		if (c->len - c->pos < size)
			return keri_fail(why, whylen, KERI_ETRUNCATED,
			                 "CESR: -V group of %zu chars truncated", size);
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
