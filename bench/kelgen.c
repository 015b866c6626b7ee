/* bench/kelgen: signed KERI v1 KELs for keri_bench; see kelgen.h. */
#include "bench/kelgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keri/keri.h"

#define DUMMY "############################################"

/* Key `keyno` of the identifier of `seed`: seed bytes = BLAKE2b-256 of a fixed label,
 * the run seed and the key number (little-endian), so keys never repeat across runs
 * that use different seeds and are the same in every run with one seed. */
static void derive(uint64_t seed, unsigned keyno, uint8_t pk[32], uint8_t sk[64])
{
	uint8_t in[32] = "hc keri_bench kelgen"; /* 20 bytes, then seed, keyno */
	uint8_t s[32];
	for (int i = 0; i < 8; i++)
		in[20 + i] = (uint8_t)(seed >> (8 * i));
	for (int i = 0; i < 4; i++)
		in[28 + i] = (uint8_t)(keyno >> (8 * i));
	crypto_generichash(s, sizeof(s), in, sizeof(in), NULL, 0);
	crypto_sign_seed_keypair(pk, sk, s);
}

/* qb64 of an Ed25519 verification key (code D). */
static void key_qb64(const uint8_t pk[32], char out[45])
{
	uint8_t raw[33] = {0};
	memcpy(raw + 1, pk, 32);
	keri_b64_encode(raw, sizeof(raw), out);
	out[0] = 'D';
	out[44] = '\0';
}

/* E (BLAKE3-256) digest of key `keyno`'s qb64: the pre-rotation commitment to it. */
static void next_digest(uint64_t seed, unsigned keyno, char out[45])
{
	uint8_t pk[32], sk[64];
	char qb[45];
	derive(seed, keyno, pk, sk);
	key_qb64(pk, qb);
	if (keri_digest_qb64('E', (const uint8_t *)qb, 44, out) != KERI_OK)
		abort();
	sodium_memzero(sk, sizeof(sk));
}

void bkel_init(void)
{
	char out[45];
	if (keri_digest_qb64('E', (const uint8_t *)"x", 1, out) != KERI_OK)
		abort();
}

/* Fills the version size and the SAID (d, and i when it is still the dummy), then
 * signs the body with sk and appends `-AAB` and the index-0 signature. */
static int finish(struct bkel_msg *m, const uint8_t pk[32], const uint8_t sk[64])
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *t = m->text;
	size_t n = strlen(t);
	char hex[8], said[45];
	if (n + 4 + 88 + 1 > sizeof(m->text))
		return -1;
	snprintf(hex, sizeof(hex), "%06zx", n);
	memcpy(strstr(t, "KERI10JSON") + 10, hex, 6);
	char *i = strstr(t, "\"i\":\"" DUMMY);
	if (keri_digest_qb64('E', (const uint8_t *)t, n, said) != KERI_OK)
		return -1;
	memcpy(strstr(t, "\"d\":\"") + 5, said, 44);
	if (i)
		memcpy(i + 5, said, 44);
	m->body = n;
	crypto_sign_detached(m->sig, NULL, (const uint8_t *)t, n, sk);
	memcpy(m->pk, pk, 32);
	uint8_t raw[66] = {0};
	char txt[89];
	memcpy(raw + 2, m->sig, 64);
	keri_b64_encode(raw, sizeof(raw), txt);
	txt[88] = '\0';
	m->len = n + (size_t)snprintf(t + n, sizeof(m->text) - n, "-AABA%c%s", b64[0], txt + 2);
	return 0;
}

static void take_said(struct bkel_id *id, const struct bkel_msg *m)
{
	const char *d = strstr(m->text, "\"d\":\"") + 5;
	memcpy(id->said, d, 44);
	id->said[44] = '\0';
}

int bkel_icp(struct bkel_id *id, uint64_t seed, struct bkel_msg *m)
{
	char k[45], nd[45];
	memset(id, 0, sizeof(*id));
	id->seed = seed;
	id->keyno = 0;
	derive(seed, 0, id->pk, id->sk);
	key_qb64(id->pk, k);
	next_digest(seed, 1, nd);
	snprintf(m->text, sizeof(m->text),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"icp\",\"d\":\"" DUMMY "\",\"i\":\"" DUMMY
	         "\",\"s\":\"0\",\"kt\":\"1\",\"k\":[\"%s\"],\"nt\":\"1\",\"n\":[\"%s\"],"
	         "\"bt\":\"0\",\"b\":[],\"c\":[],\"a\":[]}",
	         k, nd);
	if (finish(m, id->pk, id->sk) != 0)
		return -1;
	take_said(id, m);
	memcpy(id->pre, id->said, sizeof(id->pre));
	id->sn = 0;
	return 0;
}

int bkel_rot(struct bkel_id *id, struct bkel_msg *m)
{
	char k[45], nd[45];
	unsigned kn = id->keyno + 1;
	uint8_t pk[32], sk[64];
	derive(id->seed, kn, pk, sk);
	key_qb64(pk, k);
	next_digest(id->seed, kn + 1, nd);
	snprintf(m->text, sizeof(m->text),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"rot\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	         "\"s\":\"%llx\",\"p\":\"%s\",\"kt\":\"1\",\"k\":[\"%s\"],\"nt\":\"1\","
	         "\"n\":[\"%s\"],\"bt\":\"0\",\"br\":[],\"ba\":[],\"a\":[]}",
	         id->pre, (unsigned long long)(id->sn + 1), id->said, k, nd);
	if (finish(m, pk, sk) != 0)
		return -1;
	take_said(id, m);
	id->sn++;
	id->keyno = kn;
	memcpy(id->pk, pk, 32);
	memcpy(id->sk, sk, 64);
	return 0;
}

int bkel_ixn(struct bkel_id *id, struct bkel_msg *m)
{
	snprintf(m->text, sizeof(m->text),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"ixn\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	         "\"s\":\"%llx\",\"p\":\"%s\",\"a\":[]}",
	         id->pre, (unsigned long long)(id->sn + 1), id->said);
	if (finish(m, id->pk, id->sk) != 0)
		return -1;
	take_said(id, m);
	id->sn++;
	return 0;
}

int bkel_kel(struct bkel_id *id, uint64_t seed, size_t n, unsigned rot_every, char **buf,
             size_t *len)
{
	struct bkel_msg *m = malloc(sizeof(*m));
	char *out = malloc(n * BKEL_MSG_MAX + 1);
	size_t used = 0;
	if (m == NULL || out == NULL || n == 0) {
		free(m);
		free(out);
		return -1;
	}
	for (size_t sn = 0; sn < n; sn++) {
		int rc = sn == 0 ? bkel_icp(id, seed, m)
		         : rot_every != 0 && sn % rot_every == 0 ? bkel_rot(id, m)
		                                                 : bkel_ixn(id, m);
		if (rc != 0) {
			free(m);
			free(out);
			return -1;
		}
		memcpy(out + used, m->text, m->len);
		used += m->len;
	}
	out[used] = '\0';
	free(m);
	*buf = out;
	*len = used;
	return 0;
}
