/*
 * keri/json.c: a scanner for canonical compact JSON, the form keripy serialises with
 * json.dumps(separators=(",", ":"), ensure_ascii=False). No whitespace outside strings;
 * strings are well-formed UTF-8 whose only escapes are the ones Python emits
 * (\" \\ \b \f \n \r \t and \u00XX for the other control characters); raw control
 * characters are refused. Numbers follow the JSON grammar (floats are not checked for
 * Python's shortest repr). Nesting is capped at KERI_MAX_DEPTH, so the recursion is
 * bounded whatever the input.
 */
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

static int number(struct keri_json *j, char *why, size_t whylen)
{
	if (j->pos < j->len && j->b[j->pos] == '-')
		j->pos++;
	if (j->pos < j->len && j->b[j->pos] == '0')
		j->pos++;
	else if (!digits(j))
		return bad(j, why, whylen, "number");
	if (j->pos < j->len && j->b[j->pos] == '.') {
		j->pos++;
		if (!digits(j))
			return bad(j, why, whylen, "number fraction");
	}
	if (j->pos < j->len && (j->b[j->pos] == 'e' || j->b[j->pos] == 'E')) {
		j->pos++;
		if (j->pos < j->len && (j->b[j->pos] == '+' || j->b[j->pos] == '-'))
			j->pos++;
		if (!digits(j))
			return bad(j, why, whylen, "number exponent");
	}
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
		for (;;) {
			if ((rc = keri_json_string(j, &off, &slen, why, whylen)) ||
			    (rc = keri_json_expect(j, ':', "after an object key", why, whylen)) ||
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
