/*
 * keri/event.c: one KERI v1 JSON event and its attachments (keri_parse).
 *
 * The body is checked in one pass, left to right, against the only serialisation
 * keripy produces: `{"v":"KERI10JSONssssss_",...}` where ssssss is the lowercase hex
 * size of the body, then the fields of the ilk in their exact order, compact, with
 * no field missing or extra. Field values are checked by type and CESR code as they
 * are read; the SAID is checked last, over the body in place. Rules that need key
 * state are keri_apply's.
 */
#include <stdio.h>
#include <string.h>

#include "keri/keri.h"

#define VS_PREFIX "{\"v\":\""
#define VS_LEN 17 /* KERI10JSONssssss_ */

struct ilk_fields {
	const char *name;
	enum keri_ilk ilk;
	const char *const *labels; /* after v and t */
};

static const char *const icp_f[] = {"d", "i", "s", "kt", "k", "nt", "n", "bt", "b", "c", "a", NULL};
static const char *const rot_f[] = {"d", "i", "s", "p", "kt", "k", "nt", "n", "bt", "br", "ba", "a", NULL};
static const char *const ixn_f[] = {"d", "i", "s", "p", "a", NULL};
static const char *const dip_f[] = {"d", "i", "s", "kt", "k", "nt", "n", "bt", "b", "c", "a", "di", NULL};
static const char *const rct_f[] = {"d", "i", "s", NULL};

static const struct ilk_fields ilks[] = {
	{"icp", KERI_ILK_ICP, icp_f}, {"rot", KERI_ILK_ROT, rot_f},
	{"ixn", KERI_ILK_IXN, ixn_f}, {"dip", KERI_ILK_DIP, dip_f},
	{"drt", KERI_ILK_DRT, rot_f}, {"rct", KERI_ILK_RCT, rct_f},
};

static int qb64_field(struct keri_json *j, const char *codes, const char *label, char *out,
                      size_t *off_out, char *why, size_t whylen)
{
	size_t off, sl;
	int rc = keri_json_string(j, &off, &sl, why, whylen);
	if (rc)
		return rc;
	if ((rc = keri_qb64_check((const char *)j->b + off, sl, codes, label, why, whylen)))
		return rc;
	memcpy(out, j->b + off, KERI_QB64);
	out[KERI_QB64] = 0;
	if (off_out)
		*off_out = off;
	return KERI_OK;
}

static int qb64_list(struct keri_json *j, const char *codes, const char *label,
                     char (*out)[KERI_QB64 + 1], uint8_t *n, unsigned max, char *why,
                     size_t whylen)
{
	int rc = keri_json_expect(j, '[', label, why, whylen);
	if (rc)
		return rc;
	*n = 0;
	if (j->pos < j->len && j->b[j->pos] == ']') {
		j->pos++;
		return KERI_OK;
	}
	for (;;) {
		if (*n >= max)
			return keri_fail(why, whylen, KERI_ELIMIT,
			                 "limit: field %s has more than %u entries", label, max);
		if ((rc = qb64_field(j, codes, label, out[*n], NULL, why, whylen)))
			return rc;
		(*n)++;
		if (j->pos < j->len && j->b[j->pos] == ',') {
			j->pos++;
			continue;
		}
		return keri_json_expect(j, ']', label, why, whylen);
	}
}

/*
 * s as keripy writes it (Number.numh: lowercase hex, no leading zero). keripy reads it
 * with Python's int(s, 16), which also takes leading zeros, upper case, a 0x prefix,
 * underscores, a sign and surrounding spaces; none is a KERI form and keripy never
 * writes one, so they stay refused (issue 10 rule 11): one sn has one text, and a
 * refusal is explicit, never a state keripy would not reach. kt, nt and bt likewise.
 */
static int sn_field(struct keri_json *j, uint64_t *sn, char *why, size_t whylen)
{
	size_t off, sl;
	int rc = keri_json_string(j, &off, &sl, why, whylen);
	if (rc)
		return rc;
	const uint8_t *s = j->b + off;
	if (sl == 0 || sl > 16 || (sl > 1 && s[0] == '0'))
		return keri_fail(why, whylen, KERI_ESN,
		                 "sn rule: field s must be lowercase hex without leading zeros, "
		                 "at most 16 digits");
	*sn = 0;
	for (size_t i = 0; i < sl; i++) {
		int v = (s[i] >= '0' && s[i] <= '9') ? s[i] - '0'
		        : (s[i] >= 'a' && s[i] <= 'f') ? s[i] - 'a' + 10 : -1;
		if (v < 0)
			return keri_fail(why, whylen, KERI_ESN,
			                 "sn rule: field s must be lowercase hex");
		*sn = *sn * 16 + (uint64_t)v;
	}
	return KERI_OK;
}

/* keripy's TraitDex, indexed by enum keri_trait. */
static const char *const trait_names[] = {NULL, "EO", "DND", "NB", "NRB", "RB", "DID"};

static int traits(struct keri_json *j, struct keri_event *ev, char *why, size_t whylen)
{
	int rc = keri_json_expect(j, '[', "opening field c", why, whylen);
	if (rc)
		return rc;
	if (j->pos < j->len && j->b[j->pos] == ']') {
		j->pos++;
		return KERI_OK;
	}
	for (;;) {
		size_t off, sl;
		uint8_t t;
		if ((rc = keri_json_string(j, &off, &sl, why, whylen)))
			return rc;
		const char *s = (const char *)j->b + off;
		t = 0;
		for (uint8_t k = 1; k < sizeof(trait_names) / sizeof(trait_names[0]); k++)
			if (sl == strlen(trait_names[k]) && !memcmp(s, trait_names[k], sl))
				t = k;
		if (!t)
			return keri_fail(why, whylen, KERI_ETRAIT,
			                 "config trait rule: field c has unknown trait \"%.*s\" "
			                 "(keripy's TraitDex: EO, DND, NB, NRB, RB, DID)",
			                 (int)(sl > 16 ? 16 : sl), s);
		for (unsigned i = 0; i < ev->nc; i++)
			if (ev->c[i] == t)
				return keri_fail(why, whylen, KERI_ETRAIT,
				                 "config trait rule: field c repeats \"%.*s\"", (int)sl, s);
		if (ev->nc >= KERI_MAX_TRAITS)
			return keri_fail(why, whylen, KERI_ELIMIT, "limit: too many config traits");
		ev->c[ev->nc++] = t;
		if (j->pos < j->len && j->b[j->pos] == ',') {
			j->pos++;
			continue;
		}
		return keri_json_expect(j, ']', "closing field c", why, whylen);
	}
}

static int field(struct keri_json *j, const char *label, struct keri_event *ev,
                 size_t *d_off, size_t *i_off, char *why, size_t whylen)
{
	int rc;
	if (j->pos < j->len && strchr(" \t\r\n", j->b[j->pos]) && j->b[j->pos])
		return keri_fail(why, whylen, KERI_EJSON,
		                 "canonical JSON: whitespace before the value of field %s", label);
	switch (label[0]) {
	case 'd':
		if (label[1] == 'i')
			return qb64_field(j, "BDEFI", "di", ev->di, NULL, why, whylen);
		return qb64_field(j, "EFI", "d", ev->said, d_off, why, whylen);
	case 'i':
		return qb64_field(j, "BDEFI", "i", ev->pre, i_off, why, whylen);
	case 's':
		return sn_field(j, &ev->sn, why, whylen);
	case 'p':
		return qb64_field(j, "EFI", "p", ev->prior, NULL, why, whylen);
	case 'k':
		if (label[1] == 't')
			return keri_tholder_parse(j, &ev->kt, "kt", why, whylen);
		return qb64_list(j, "BD", "k", ev->k, &ev->nk, KERI_MAX_KEYS, why, whylen);
	case 'n':
		if (label[1] == 't')
			return keri_tholder_parse(j, &ev->nt, "nt", why, whylen);
		return qb64_list(j, "EFI", "n", ev->n, &ev->nn, KERI_MAX_KEYS, why, whylen);
	case 'b':
		if (label[1] == 't') {
			struct keri_tholder t;
			if ((rc = keri_tholder_parse(j, &t, "bt", why, whylen)))
				return rc == KERI_ETHRESHOLD || rc == KERI_ELIMIT
				               ? keri_fail(why, whylen, KERI_EWITNESS,
				                           "witness rule: field bt must be a hex "
				                           "string or an integer")
				               : rc;
			if (t.weighted || t.num > KERI_MAX_WITS)
				return keri_fail(why, whylen, KERI_EWITNESS,
				                 "witness rule: field bt must be a number <= %d",
				                 KERI_MAX_WITS);
			ev->bt = (uint32_t)t.num;
			return KERI_OK;
		}
		if (label[1] == 'r')
			return qb64_list(j, "BD", "br", ev->br, &ev->nbr, KERI_MAX_WITS, why, whylen);
		if (label[1] == 'a')
			return qb64_list(j, "BD", "ba", ev->ba, &ev->nba, KERI_MAX_WITS, why, whylen);
		return qb64_list(j, "BD", "b", ev->b, &ev->nb, KERI_MAX_WITS, why, whylen);
	case 'c':
		return traits(j, ev, why, whylen);
	case 'a':
		if (j->pos < j->len && j->b[j->pos] != '[')
			return keri_fail(why, whylen, KERI_EFIELD, "field a: must be a list of seals");
		ev->a_off = j->pos;
		if ((rc = keri_json_skip(j, 1, why, whylen)))
			return rc;
		ev->a_len = j->pos - ev->a_off;
		return KERI_OK;
	default:
		return KERI_EINVAL;
	}
}

static int version(const uint8_t *buf, size_t len, size_t *size, char *why, size_t whylen)
{
	size_t pl = sizeof(VS_PREFIX) - 1;
	if (memcmp(buf, VS_PREFIX, len < pl ? len : pl) != 0)
		return keri_fail(why, whylen, KERI_EVERSION,
		                 "version rule: an event must start with {\"v\":\"KERI10JSON");
	if (len < pl + VS_LEN)
		return keri_fail(why, whylen, KERI_ETRUNCATED,
		                 "truncated: input ends inside the version string");
	const char *v = (const char *)buf + pl;
	if (memcmp(v, "KERI", 4) != 0)
		return keri_fail(why, whylen, KERI_EVERSION,
		                 "version rule: protocol \"%.4s\" is not KERI", v);
	if (memcmp(v + 4, "10", 2) != 0)
		return keri_fail(why, whylen, KERI_EVERSION,
		                 "version rule: KERI version %.2s is not supported (only 1.0)", v + 4);
	if (memcmp(v + 6, "JSON", 4) != 0)
		return keri_fail(why, whylen, KERI_EVERSION,
		                 "version rule: serialisation kind \"%.4s\" is not supported (only "
		                 "JSON)", v + 6);
	*size = 0;
	for (int i = 10; i < 16; i++) {
		int c = (unsigned char)v[i];
		int x = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
		if (x < 0)
			return keri_fail(why, whylen, KERI_EVERSION,
			                 "version rule: size must be 6 lowercase hex digits");
		*size = *size * 16 + (size_t)x;
	}
	if (v[16] != '_')
		return keri_fail(why, whylen, KERI_EVERSION,
		                 "version rule: version string must end with '_'");
	if (*size < pl + VS_LEN + 2)
		return keri_fail(why, whylen, KERI_ESIZE,
		                 "size rule: declared size %zu is smaller than any event", *size);
	if (*size > len)
		return keri_fail(why, whylen, KERI_ETRUNCATED,
		                 "truncated: declared size %zu but only %zu bytes", *size, len);
	return KERI_OK;
}

static int body(const uint8_t *buf, size_t size, struct keri_event *ev, size_t *d_off,
                size_t *i_off, char *why, size_t whylen)
{
	struct keri_json j = {buf, size, sizeof(VS_PREFIX) - 1 + VS_LEN};
	size_t off, sl;
	int rc;

	if ((rc = keri_json_expect(&j, '"', "closing v", why, whylen)) ||
	    (rc = keri_json_expect(&j, ',', "after v", why, whylen)) ||
	    (rc = keri_json_string(&j, &off, &sl, why, whylen)))
		return rc;
	if (sl != 1 || buf[off] != 't')
		return keri_fail(why, whylen, KERI_EFIELD_ORDER,
		                 "field order rule: expected field t after v");
	if ((rc = keri_json_expect(&j, ':', "after t", why, whylen)) ||
	    (rc = keri_json_string(&j, &off, &sl, why, whylen)))
		return rc;
	const struct ilk_fields *f = NULL;
	for (size_t i = 0; i < sizeof(ilks) / sizeof(ilks[0]); i++)
		if (sl == 3 && memcmp(buf + off, ilks[i].name, 3) == 0)
			f = &ilks[i];
	if (!f) {
		char name[8];
		size_t n = sl < 7 ? sl : 7;
		for (size_t i = 0; i < n; i++)
			name[i] = buf[off + i] >= 0x20 && buf[off + i] < 0x7f ? (char)buf[off + i] : '?';
		name[n] = 0;
		return keri_fail(why, whylen, KERI_EILK,
		                 "ilk rule: message type \"%s\" is not an icp, rot, ixn or rct", name);
	}
	ev->ilk = f->ilk;
	for (const char *const *l = f->labels; *l; l++) {
		if ((rc = keri_json_expect(&j, ',', "between fields", why, whylen))) {
			if (rc == KERI_EJSON && buf[j.pos] == '}')
				return keri_fail(why, whylen, KERI_EFIELD_ORDER,
				                 "field order rule: %s is missing field %s", f->name, *l);
			return rc;
		}
		if ((rc = keri_json_string(&j, &off, &sl, why, whylen)))
			return rc;
		if (strlen(*l) != sl || memcmp(buf + off, *l, sl) != 0)
			return keri_fail(why, whylen, KERI_EFIELD_ORDER,
			                 "field order rule: %s expects field %s here, found \"%.*s\"",
			                 f->name, *l, (int)(sl > 8 ? 8 : sl),
			                 (const char *)buf + off);
		if ((rc = keri_json_expect(&j, ':', "after a field label", why, whylen)) ||
		    (rc = field(&j, *l, ev, d_off, i_off, why, whylen)))
			return rc;
	}
	if (j.pos < j.len && buf[j.pos] == ',')
		return keri_fail(why, whylen, KERI_EFIELD_ORDER,
		                 "field order rule: %s has a field after its last one", f->name);
	if ((rc = keri_json_expect(&j, '}', "closing the event", why, whylen)))
		return rc;
	if (j.pos != size)
		return keri_fail(why, whylen, KERI_ESIZE,
		                 "size rule: the JSON ends at %zu, the version string says %zu",
		                 j.pos, size);
	return KERI_OK;
}

int keri_parse(const uint8_t *buf, size_t len, struct keri_event *ev, size_t *consumed,
               char *why, size_t whylen)
{
	size_t size = 0, d_off = 0, i_off = 0, used = 0;
	int rc;

	if (consumed)
		*consumed = 0;
	if (why && whylen)
		why[0] = 0;
	if (!buf || !ev || !consumed)
		return keri_fail(why, whylen, KERI_EINVAL, "keri_parse: NULL argument");
	memset(ev, 0, sizeof(*ev));
	if (len == 0)
		return keri_fail(why, whylen, KERI_ETRUNCATED, "truncated: empty input");
	if ((rc = version(buf, len, &size, why, whylen)))
		return rc;
	ev->body = buf;
	ev->size = size;
	int brc = body(buf, size, ev, &d_off, &i_off, why, whylen);
	char bwhy[256];
	if (brc && why && whylen)
		snprintf(bwhy, sizeof(bwhy), "%s", why);
	/* The extent is known from the size once the attachments parse: report it so a
	 * stream reader can step over a rejected message. */
	rc = keri_attach_parse(buf + size, len - size, ev, &used, why, whylen);
	if (rc == KERI_OK)
		*consumed = size + used;
	if (brc) {
		if (why && whylen)
			snprintf(why, whylen, "%s", bwhy);
		return brc;
	}
	if (rc)
		return rc;
	if (ev->ilk == KERI_ILK_RCT)
		return KERI_RECEIPT;
	int incept = ev->ilk == KERI_ILK_ICP || ev->ilk == KERI_ILK_DIP;
	int dummy_i = incept && strchr("EFI", ev->pre[0]);
	if ((rc = keri_said_verify(buf, size, d_off, i_off, dummy_i, why, whylen))) {
		*consumed = size + used;
		return rc;
	}
	return KERI_OK;
}
