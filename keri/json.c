/*
 * keri/json.c: a scanner for canonical compact JSON, the form keripy serialises with
 * json.dumps(separators=(",", ":"), ensure_ascii=False). No whitespace outside strings;
 * strings are well-formed UTF-8 whose only escapes are the ones Python emits
 * (\" \\ \b \f \n \r \t and \u00XX for the other control characters); raw control
 * characters are refused. Numbers must be as Python writes them back (str(int),
 * repr(float)) and no object repeats a key: keripy refuses an event whose JSON does not
 * survive json.loads then json.dumps. Nesting is capped at KERI_MAX_DEPTH and keys per
 * object at KERI_MAX_OBJ_KEYS, so the recursion and the key comparisons are bounded
 * whatever the input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keri/keri.h"

static int bad(struct keri_json *j, char *why, size_t whylen, const char *what)
{
	return keri_fail(why, whylen, j->pos >= j->len ? KERI_ESIZE : KERI_EJSON,
	                 j->pos >= j->len ? "JSON: event ends at its declared size inside %s"
	                                  : "canonical JSON: bad %s at offset %zu",
	                 what, j->pos);
}

int keri_json_expect(struct keri_json *j, char c, const char *ctx, char *why, size_t whylen)
{
	if (j->pos >= j->len || j->b[j->pos] != (uint8_t)c) {
		if (j->pos >= j->len)
			return keri_fail(why, whylen, KERI_ESIZE,
			                 "JSON: event ends at its declared size, expected '%c' %s", c,
			                 ctx);
		return keri_fail(why, whylen, KERI_EJSON,
		                 "canonical JSON: expected '%c' %s at offset %zu", c, ctx, j->pos);
	}
	j->pos++;
	return KERI_OK;
}

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Length of the UTF-8 sequence at s (n bytes available), or 0 if malformed. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

int keri_json_string(struct keri_json *j, size_t *off, size_t *slen, char *why,
                     size_t whylen)
{
	int rc = keri_json_expect(j, '"', "(string)", why, whylen);
	if (rc)
		return rc;
	*off = j->pos;
	while (j->pos < j->len) {
		uint8_t c = j->b[j->pos];
		if (c == '"') {
			*slen = j->pos - *off;
			j->pos++;
			return KERI_OK;
		}
		if (c < 0x20)
			return bad(j, why, whylen, "raw control character in string");
		if (c == '\\') {
			if (j->pos + 1 >= j->len)
				return bad(j, why, whylen, "escape");
			uint8_t e = j->b[j->pos + 1];
			if (strchr("\"\\bfnrt", e) && e) {
				j->pos += 2;
				continue;
			}
			if (e != 'u' || j->pos + 6 > j->len)
				return bad(j, why, whylen, "escape (not one Python emits)");
			int v = 0;
			for (int i = 0; i < 4; i++) {
				int h = hexv(j->b[j->pos + 2 + i]);
				if (h < 0)
					return bad(j, why, whylen, "\\u escape (lowercase hex)");
				v = v * 16 + h;
			}
			if (v >= 0x20 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t')
				return bad(j, why, whylen, "\\u escape (not one Python emits)");
			j->pos += 6;
			continue;
		}
		size_t l = utf8_len(j->b + j->pos, j->len - j->pos);
		if (!l)
			return bad(j, why, whylen, "UTF-8 in string");
		j->pos += l;
	}
	return bad(j, why, whylen, "string");
}

static int digits(struct keri_json *j)
{
	size_t s = j->pos;
	while (j->pos < j->len && j->b[j->pos] >= '0' && j->b[j->pos] <= '9')
		j->pos++;
	return j->pos > s;
}

/*
 * Python's repr of x (what json.dumps writes for a float), into out[40]: the shortest
 * digits that read back as x, fixed notation for a decimal point position in
 * -3..16 ("100000.0", "0.0001") and exponent notation outside it ("1e+16", "1e-05").
 * The digits come from "%.*e" and are read back from "<digits>e<exp>", never through
 * a radix character, so the caller's locale cannot change the answer.
 */
static void python_repr(double x, char *out)
{
	char e[48], dig[24], back[48];
	int nd = 0, exp10 = 0, o = 0;
	if (x == 0) {
		strcpy(out, signbit(x) ? "-0.0" : "0.0");
		return;
	}
	for (int p = 0; p <= 16; p++) {
		snprintf(e, sizeof(e), "%.*e", p, fabs(x));
		nd = 0;
		const char *c = e;
		for (; *c && *c != 'e'; c++)
			if (*c >= '0' && *c <= '9')
				dig[nd++] = *c;
		exp10 = atoi(c + 1);
		dig[nd] = 0;
		snprintf(back, sizeof(back), "%se%d", dig, exp10 - (nd - 1));
		if (strtod(back, NULL) == fabs(x))
			break;
	}
	while (nd > 1 && dig[nd - 1] == '0')
		dig[--nd] = 0;
	int decpt = exp10 + 1;
	if (x < 0)
		out[o++] = '-';
	if (decpt <= -4 || decpt > 16) {
		out[o++] = dig[0];
		if (nd > 1)
			o += sprintf(out + o, ".%s", dig + 1);
		sprintf(out + o, "e%c%02d", decpt - 1 < 0 ? '-' : '+', abs(decpt - 1));
	} else if (decpt <= 0) {
		o += sprintf(out + o, "0.");
		for (int i = 0; i < -decpt; i++)
			out[o++] = '0';
		strcpy(out + o, dig);
	} else if (decpt >= nd) {
		o += sprintf(out + o, "%s", dig);
		for (int i = nd; i < decpt; i++)
			out[o++] = '0';
		strcpy(out + o, ".0");
	} else {
		sprintf(out + o, "%.*s.%s", decpt, dig, dig + decpt);
	}
}

/*
 * keripy accepts an event only if json.dumps(json.loads(raw)) gives raw back, so a
 * number must be written as Python writes it: an integer as str(int) ("-0" becomes
 * "0"; past 4300 digits Python refuses to read it), a float as repr(float) ("1.50",
 * "1e5", "1E5" and anything that overflows to Infinity do not survive).
 */
static int number_canonical(const uint8_t *s, size_t n, int is_float)
{
	if (!is_float)
		return !(n == 2 && s[0] == '-' && s[1] == '0') && n <= 4300 + (s[0] == '-');
	char mant[48], canon[48];
	size_t m = 0, i = 0;
	long exp = 0, frac = 0;
	if (n > 32) /* a repr is at most 24 characters ("-1.2345678901234567e-308") */
		return 0;
	if (s[i] == '-')
		mant[m++] = s[i++];
	for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '.')
			frac = 1;
		else {
			mant[m++] = (char)s[i];
			exp -= frac;
		}
	}
	if (i < n) {
		long e = 0;
		int neg = 0;
		if (s[++i] == '+' || s[i] == '-')
			neg = s[i++] == '-';
		for (; i < n; i++)
			if (e < 100000) /* past any double's range either way */
				e = e * 10 + (s[i] - '0');
		exp += neg ? -e : e;
	}
	mant[m] = 0;
	char text[64];
	snprintf(text, sizeof(text), "%se%ld", mant, exp);
	double x = strtod(text, NULL);
	if (isinf(x))
		return 0;
	python_repr(x, canon);
	return strlen(canon) == n && memcmp(canon, s, n) == 0;
}

static int number(struct keri_json *j, char *why, size_t whylen)
{
	size_t start = j->pos;
	int is_float = 0;
	if (j->pos < j->len && j->b[j->pos] == '-')
		j->pos++;
	if (j->pos < j->len && j->b[j->pos] == '0')
		j->pos++;
	else if (!digits(j))
		return bad(j, why, whylen, "number");
	if (j->pos < j->len && j->b[j->pos] == '.') {
		j->pos++;
		is_float = 1;
		if (!digits(j))
			return bad(j, why, whylen, "number fraction");
	}
	if (j->pos < j->len && (j->b[j->pos] == 'e' || j->b[j->pos] == 'E')) {
		j->pos++;
		is_float = 1;
		if (j->pos < j->len && (j->b[j->pos] == '+' || j->b[j->pos] == '-'))
			j->pos++;
		if (!digits(j))
			return bad(j, why, whylen, "number exponent");
	}
	if (!number_canonical(j->b + start, j->pos - start, is_float))
		return keri_fail(why, whylen, KERI_EJSON,
		                 "canonical JSON: number \"%.*s\" at offset %zu is not as Python "
		                 "writes it back (keripy refuses what does not round-trip)",
		                 (int)(j->pos - start > 24 ? 24 : j->pos - start),
		                 (const char *)j->b + start, start);
	return KERI_OK;
}

static int literal(struct keri_json *j, const char *w, char *why, size_t whylen)
{
	size_t n = strlen(w);
	if (j->len - j->pos < n || memcmp(j->b + j->pos, w, n) != 0)
		return bad(j, why, whylen, "literal");
	j->pos += n;
	return KERI_OK;
}

int keri_json_skip(struct keri_json *j, int depth, char *why, size_t whylen)
{
	size_t off, slen;
	int rc;

	if (depth > KERI_MAX_DEPTH)
		return keri_fail(why, whylen, KERI_ELIMIT, "limit: JSON nested deeper than %d",
		                 KERI_MAX_DEPTH);
	if (j->pos >= j->len)
		return bad(j, why, whylen, "value");
	switch (j->b[j->pos]) {
	case '"':
		return keri_json_string(j, &off, &slen, why, whylen);
	case '{':
		j->pos++;
		if (j->pos < j->len && j->b[j->pos] == '}') {
			j->pos++;
			return KERI_OK;
		}
		/* json.loads keeps one value per key, so keripy's round trip drops a
		 * repeated key: refused. Keys compare as written (every escape has one
		 * form, see keri_json_string). */
		size_t koff[KERI_MAX_OBJ_KEYS], klen[KERI_MAX_OBJ_KEYS];
		unsigned nkeys = 0;
		for (;;) {
			if ((rc = keri_json_string(j, &off, &slen, why, whylen)))
				return rc;
			for (unsigned k = 0; k < nkeys; k++)
				if (klen[k] == slen && memcmp(j->b + koff[k], j->b + off, slen) == 0)
					return keri_fail(why, whylen, KERI_EJSON,
					                 "canonical JSON: object key \"%.*s\" repeated at "
					                 "offset %zu", (int)(slen > 16 ? 16 : slen),
					                 (const char *)j->b + off, off);
			if (nkeys == KERI_MAX_OBJ_KEYS)
				return keri_fail(why, whylen, KERI_ELIMIT,
				                 "limit: a JSON object with more than %d keys",
				                 KERI_MAX_OBJ_KEYS);
			koff[nkeys] = off;
			klen[nkeys++] = slen;
			if ((rc = keri_json_expect(j, ':', "after an object key", why, whylen)) ||
			    (rc = keri_json_skip(j, depth + 1, why, whylen)))
				return rc;
			if (j->pos < j->len && j->b[j->pos] == ',') {
				j->pos++;
				continue;
			}
			return keri_json_expect(j, '}', "closing an object", why, whylen);
		}
	case '[':
		j->pos++;
		if (j->pos < j->len && j->b[j->pos] == ']') {
			j->pos++;
			return KERI_OK;
		}
		for (;;) {
			if ((rc = keri_json_skip(j, depth + 1, why, whylen)))
				return rc;
			if (j->pos < j->len && j->b[j->pos] == ',') {
				j->pos++;
				continue;
			}
			return keri_json_expect(j, ']', "closing a list", why, whylen);
		}
	case 't':
		return literal(j, "true", why, whylen);
	case 'f':
		return literal(j, "false", why, whylen);
	case 'n':
		return literal(j, "null", why, whylen);
	default:
		return number(j, why, whylen);
	}
}
