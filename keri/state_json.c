/*
 * keri/state_json.c: a key state as keripy's KeyStateRecord JSON, byte for byte:
 * {"vn":[1,0],"i":..,"s":..,"p":..,"d":..,"f":..,"dt":..,"et":..,"kt":..,"k":[..],
 *  "nt":..,"n":[..],"bt":..,"b":[..],"c":[..],"ee":{"s":..,"d":..,"br":[..],"ba":[..]},
 *  "di":..}   (di: the delegator's prefix, "" for an identifier that is not delegated)
 * Numbers are lowercase hex strings; thresholds are keripy's normalised sith (an
 * intive 1 becomes "1", weights are reduced fractions).
 */
#include <stdio.h>
#include <string.h>

#include "keri/keri.h"

struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n < o->cap)
		memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void hex(struct out *o, const char *label, uint64_t v)
{
	char t[48];
	int n = snprintf(t, sizeof(t), ",\"%s\":\"%llx\"", label, (unsigned long long)v);
	put(o, t, (size_t)n);
}

static void str(struct out *o, const char *label, const char *v)
{
	puts_(o, ",\"");
	puts_(o, label);
	puts_(o, "\":\"");
	puts_(o, v);
	puts_(o, "\"");
}

static void list(struct out *o, const char *label, const char (*v)[KERI_QB64 + 1],
                 unsigned n)
{
	puts_(o, ",\"");
	puts_(o, label);
	puts_(o, "\":[");
	for (unsigned i = 0; i < n; i++) {
		puts_(o, i ? ",\"" : "\"");
		put(o, v[i], KERI_QB64);
		puts_(o, "\"");
	}
	puts_(o, "]");
}

static void sith(struct out *o, const char *label, const struct keri_tholder *t)
{
	char tmp[KERI_SITH_MAX + 1];
	int n = keri_tholder_json(t, tmp, sizeof(tmp));
	puts_(o, ",\"");
	puts_(o, label);
	puts_(o, "\":");
	if (n > 0)
		put(o, tmp, (size_t)n);
	else
		put(o, "null", 4); /* unreachable for a valid threshold */
}

static const char *ilk_name(unsigned et)
{
	switch (et) {
	case KERI_ILK_ICP: return "icp";
	case KERI_ILK_ROT: return "rot";
	case KERI_ILK_IXN: return "ixn";
	case KERI_ILK_DIP: return "dip";
	case KERI_ILK_DRT: return "drt";
	default: return NULL;
	}
}

int keri_state_json(const struct keri_state *st, const char *dt, char *buf, size_t cap,
                    size_t *len)
{
	static const char *const traits[] = {NULL, "EO", "DND", "NB"};
	struct out o = {buf, buf ? cap : 0, 0};

	if (!st || !dt || !len || !ilk_name(st->et) || st->nk > KERI_MAX_KEYS ||
	    st->nn > KERI_MAX_KEYS || st->nb > KERI_MAX_WITS || st->nc > KERI_MAX_TRAITS ||
	    st->ee_nbr > KERI_MAX_WITS || st->ee_nba > KERI_MAX_WITS ||
	    memchr(st->pre, 0, sizeof(st->pre)) == NULL || memchr(st->d, 0, sizeof(st->d)) == NULL ||
	    memchr(st->p, 0, sizeof(st->p)) == NULL || memchr(st->ee_d, 0, sizeof(st->ee_d)) == NULL ||
	    memchr(st->di, 0, sizeof(st->di)) == NULL)
		return KERI_EINVAL;
	for (const char *c = dt; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			return KERI_EINVAL;
	puts_(&o, "{\"vn\":[1,0],\"i\":\"");
	puts_(&o, st->pre);
	puts_(&o, "\"");
	hex(&o, "s", st->sn);
	str(&o, "p", st->p);
	str(&o, "d", st->d);
	hex(&o, "f", st->fn);
	str(&o, "dt", dt);
	str(&o, "et", ilk_name(st->et));
	sith(&o, "kt", &st->kt);
	list(&o, "k", st->k, st->nk);
	sith(&o, "nt", &st->nt);
	list(&o, "n", st->n, st->nn);
	hex(&o, "bt", st->bt);
	list(&o, "b", st->b, st->nb);
	/* keripy's Kever.state(): EO if establishment-only, then DND if do-not-delegate,
	 * whatever order the event gave; NB, which a record stored before this rule may
	 * hold, is never listed. */
	for (unsigned i = 0; i < st->nc; i++)
		if (st->c[i] < KERI_TRAIT_EO || st->c[i] > KERI_TRAIT_NB)
			return KERI_EINVAL;
	puts_(&o, ",\"c\":[");
	static const uint8_t listed[] = {KERI_TRAIT_EO, KERI_TRAIT_DND};
	for (unsigned t = 0, n = 0; t < sizeof(listed); t++) {
		if (!memchr(st->c, listed[t], st->nc))
			continue;
		puts_(&o, n++ ? ",\"" : "\"");
		puts_(&o, traits[listed[t]]);
		puts_(&o, "\"");
	}
	puts_(&o, "],\"ee\":{\"s\":\"");
	char t[24];
	int n = snprintf(t, sizeof(t), "%llx", (unsigned long long)st->ee_sn);
	put(&o, t, (size_t)n);
	puts_(&o, "\"");
	str(&o, "d", st->ee_d);
	list(&o, "br", st->ee_br, st->ee_nbr);
	list(&o, "ba", st->ee_ba, st->ee_nba);
	/* keripy: di=self.delpre if self.delpre else "" */
	puts_(&o, "}");
	str(&o, "di", st->di);
	puts_(&o, "}");
	*len = o.len;
	if (o.len >= o.cap)
		return KERI_ERANGE;
	buf[o.len] = 0;
	return KERI_OK;
}
