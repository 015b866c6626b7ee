/*
 * keri_fixtures: the own signed KERI streams in tests/data/keri-own, for the tests that
 * cannot sign (the Rust crate's). Ed25519 from fixed seeds and BLAKE3 SAIDs are
 * deterministic, so the same bytes come out every time (tests/data/keri-own/README.md
 * says what each file holds).
 *
 *   keri_fixtures --write DIR   writes the files into DIR
 *   keri_fixtures --check DIR   exits 0 when DIR's files are these bytes (ctest runs
 *                               this over tests/data/keri-own)
 *
 * Signs with tests/unit/keri_sign.h (cmocka's asserts: a helper's failure aborts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "tests/unit/keri_sign.h"

struct buf {
	size_t len;
	char b[1 << 15];
};

static void add(struct buf *s, const char *m, size_t len)
{
	if (s->len + len > sizeof(s->b)) {
		fprintf(stderr, "keri_fixtures: a stream outgrew its buffer\n");
		exit(2);
	}
	memcpy(s->b + s->len, m, len);
	s->len += len;
}

static void said_of(const char *m, char out[KERI_QB64 + 1])
{
	memcpy(out, strstr(m, "\"d\":\"") + 5, KERI_QB64);
	out[KERI_QB64] = 0;
}

static struct kp K[4], W[2], V;
static char m[8192], r[8192];

/*
 * witnessed_icp_bare.cesr: an icp of K0 with witnesses W0, W1 and bt 2, signed by K0,
 * no witness signature. witness_receipts.cesr: W0's and W1's receipts of it as two
 * rct with -B (indices 0, 1), then a watcher V's rct with a -C couple.
 */
static void witnessed(struct buf *bare, struct buf *rcts)
{
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "2",
	               list(2, W[0].qb, W[1].qb), "");
	add(bare, m, sign1(m, b, &K[0]));
	char pre[KERI_QB64 + 1];
	said_of(m, pre);
	for (int w = 0; w < 2; w++) {
		struct sg s = {&W[w], w, -1};
		memcpy(r, m, b);
		size_t sl = attach(r, b, b, 'B', 1, &s);
		char out[1024];
		size_t rl = rct(out, pre, "0", pre);
		memcpy(out + rl, r + b, sl - b);
		add(rcts, out, rl + sl - b);
	}
	size_t rl = rct(r, pre, "0", pre);
	const struct kp *v = &V;
	add(rcts, r, couples(r, rl, m, b, 1, &v));
}

/*
 * recovery_duplicity.cesr: an icp of K0 (next K1), ixn 1 and 2 signed by K0, a rot at
 * sn 1 (p the icp) to K1 (next K2) signed by K1, superseding both ixn (a recovery
 * rotation), then another rot at sn 1 to K1 (next K3), signed by K1: duplicity.
 */
static void recovery(struct buf *s)
{
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	add(s, m, sign1(m, b, &K[0]));
	char pre[KERI_QB64 + 1], d0[KERI_QB64 + 1], d1[KERI_QB64 + 1];
	said_of(m, pre);
	memcpy(d0, pre, sizeof(d0));
	b = ixn(m, pre, "1", d0);
	add(s, m, sign1(m, b, &K[0]));
	said_of(m, d1);
	b = ixn(m, pre, "2", d1);
	add(s, m, sign1(m, b, &K[0]));
	for (int next = 2; next <= 3; next++) {
		b = rot(m, pre, "1", d0, "1", list(1, K[1].qb), "1", list(1, K[next].dig), "0", "",
		        "");
		struct sg sg = {&K[1], 0, 0};
		add(s, m, attach(m, b, b, 'A', 1, &sg));
	}
}

static const char *const names[] = {"witnessed_icp_bare.cesr", "witness_receipts.cesr",
                                    "recovery_duplicity.cesr"};

static int one(const char *mode, const char *dir, const char *name, const struct buf *s)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (strcmp(mode, "--write") == 0) {
		FILE *f = fopen(path, "wb");
		if (f == NULL || fwrite(s->b, 1, s->len, f) != s->len || fclose(f) != 0) {
			fprintf(stderr, "keri_fixtures: cannot write %s\n", path);
			return 1;
		}
		return 0;
	}
	static char have[sizeof(s->b) + 1];
	FILE *f = fopen(path, "rb");
	size_t n = f != NULL ? fread(have, 1, sizeof(have), f) : 0;
	if (f != NULL)
		fclose(f);
	if (n != s->len || memcmp(have, s->b, n) != 0) {
		fprintf(stderr, "keri_fixtures: %s differs from what this program generates "
		        "(regenerate with --write)\n", path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "--write") != 0 && strcmp(argv[1], "--check") != 0)) {
		fprintf(stderr, "usage: keri_fixtures --write|--check DIR\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 2;
	for (int i = 0; i < 4; i++)
		mkkey(&K[i], 1 + i, 'D');
	mkkey(&W[0], 0x41, 'B');
	mkkey(&W[1], 0x42, 'B');
	mkkey(&V, 0x51, 'B');
	static struct buf s[3];
	witnessed(&s[0], &s[1]);
	recovery(&s[2]);
	int bad = 0;
	for (int i = 0; i < 3; i++)
		bad |= one(argv[1], argv[2], names[i], &s[i]);
	return bad;
}
