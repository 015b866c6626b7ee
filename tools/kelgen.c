/* Signed KEL generation; see kelgen.h for what is generated and why it is valid. */
#include "tools/kelgen.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "keri/keri.h"

#define DUMMY "############################################"

struct key {
	uint8_t pk[32], sk[64];
	char qb[45];  /* D + public key */
	char dig[45]; /* E digest of qb: the pre-rotation commitment */
};

/* Key `no` of identifier `index`: seed = BLAKE2b-256("hotcache-load" || seed || index || no). */
static void derive(struct key *k, uint64_t seed, uint64_t index, unsigned no)
{
	uint8_t in[13 + 8 + 8 + 4], s[32], raw[33] = {0};
	memcpy(in, "hotcache-load", 13);
	memcpy(in + 13, &seed, 8);
	memcpy(in + 21, &index, 8);
	memcpy(in + 29, &no, 4);
	crypto_generichash(s, sizeof(s), in, sizeof(in), NULL, 0);
	crypto_sign_seed_keypair(k->pk, k->sk, s);
	sodium_memzero(s, sizeof(s));
	memcpy(raw + 1, k->pk, 32);
	keri_b64_encode(raw, 33, k->qb);
	k->qb[0] = 'D';
	k->qb[44] = '\0';
	if (keri_digest_qb64('E', (const uint8_t *)k->qb, 44, k->dig) != KERI_OK)
		k->dig[0] = '\0';
}

/* Sets the version size and the SAID (d, and i when it is the dummy). n = strlen. */
static int finish(char *buf, size_t n, char said[45])
{
	char hex[8];
	if (n > 0xffffff)
		return -1;
	snprintf(hex, sizeof(hex), "%06zx", n);
	memcpy(strstr(buf, "KERI10JSON") + 10, hex, 6);
	char *i = strstr(buf, "\"i\":\"" DUMMY);
	if (keri_digest_qb64('E', (const uint8_t *)buf, n, said) != KERI_OK)
		return -1;
	memcpy(strstr(buf, "\"d\":\"") + 5, said, 44);
	if (i != NULL)
		memcpy(i + 5, said, 44);
	return 0;
}

/* Appends -AAB and one A-coded index-0 signature over buf[0..body). */
static size_t sign(char *buf, size_t body, size_t cap, const uint8_t sk[64])
{
	uint8_t raw[66] = {0};
	char txt[89];
	if (cap < body + 4 + 88 + 1)
		return 0;
	crypto_sign_detached(raw + 2, NULL, (const uint8_t *)buf, body, sk);
	keri_b64_encode(raw, 66, txt);
	memcpy(buf + body, "-AAB", 4);
	buf[body + 4] = 'A';
	buf[body + 5] = 'A'; /* index 0 */
	memcpy(buf + body + 6, txt + 2, 86);
	buf[body + 92] = '\0';
	return body + 92;
}

static size_t body_end(char *buf, size_t cap, int n, char said[45])
{
	if (n <= 0 || (size_t)n >= cap || finish(buf, (size_t)n, said) != 0)
		return 0;
	return (size_t)n;
}

void kelgen_init(void)
{
	char out[45];
	if (keri_digest_qb64('E', (const uint8_t *)"", 0, out) != KERI_OK)
		out[0] = '\0'; /* cannot fail for code E; the call is what matters */
}

/* The icp of kelgen_icp, with witness list wits[0..nw) and bt = nw. */
static size_t icp_with(struct kelgen_id *id, uint64_t seed, uint64_t index,
                       const char (*wits)[45], unsigned nw, char *buf, size_t cap)
{
	struct key cur, next;
	size_t len = 0, b;
	char wl[KELGEN_WITNESS_MAX * 47 + 1] = "";
	if (nw > KELGEN_WITNESS_MAX)
		return 0;
	for (unsigned w = 0, o = 0; w < nw; w++)
		o += (unsigned)snprintf(wl + o, sizeof(wl) - o, "%s\"%.44s\"", w ? "," : "", wits[w]);
	memset(id, 0, sizeof(*id));
	id->seed = seed;
	id->index = index;
	derive(&cur, seed, index, 0);
	derive(&next, seed, index, 1);
	int n = snprintf(buf, cap,
	                 "{\"v\":\"KERI10JSON000000_\",\"t\":\"icp\",\"d\":\"" DUMMY "\",\"i\":\""
	                 DUMMY "\",\"s\":\"0\",\"kt\":\"1\",\"k\":[\"%s\"],\"nt\":\"1\","
	                 "\"n\":[\"%s\"],\"bt\":\"%x\",\"b\":[%s],\"c\":[],\"a\":[]}",
	                 cur.qb, next.dig, nw, wl);
	if ((b = body_end(buf, cap, n, id->said)) != 0 && (len = sign(buf, b, cap, cur.sk)) != 0) {
		memcpy(id->pre, id->said, 45);
		memcpy(id->sk, cur.sk, 64);
		memcpy(id->key, cur.qb, 45);
	}
	sodium_memzero(&cur, sizeof(cur));
	sodium_memzero(&next, sizeof(next));
	return len;
}

size_t kelgen_icp(struct kelgen_id *id, uint64_t seed, uint64_t index, char *buf, size_t cap)
{
	return icp_with(id, seed, index, NULL, 0, buf, cap);
}

size_t kelgen_icp_witnessed(struct kelgen_id *id, uint64_t seed, uint64_t index,
                            const struct kelgen_witness *w, unsigned nw, char *buf, size_t cap)
{
	char wits[KELGEN_WITNESS_MAX][45];
	for (unsigned i = 0; i < nw && i < KELGEN_WITNESS_MAX; i++)
		memcpy(wits[i], w[i].pre, 45);
	return icp_with(id, seed, index, (const char (*)[45])wits, nw, buf, cap);
}

void kelgen_witness(struct kelgen_witness *w, uint64_t seed, unsigned no)
{
	struct key k;
	derive(&k, seed, UINT64_MAX, no); /* index UINT64_MAX: no identifier's */
	memcpy(w->pre, k.qb, 45);
	w->pre[0] = 'B'; /* non-transferable: the basic prefix is the key */
	memcpy(w->sk, k.sk, 64);
	sodium_memzero(&k, sizeof(k));
}

size_t kelgen_witness_sign(char *buf, size_t len, size_t body, size_t cap,
                           const struct kelgen_witness *w, unsigned nw)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	if (nw == 0 || nw > KELGEN_WITNESS_MAX || cap < len + 4 + 88 * (size_t)nw + 1)
		return 0;
	memcpy(buf + len, "-BA", 3);
	buf[len + 3] = b64[nw];
	len += 4;
	for (unsigned i = 0; i < nw; i++) {
		uint8_t raw[66] = {0};
		char txt[89];
		crypto_sign_detached(raw + 2, NULL, (const uint8_t *)buf, body, w[i].sk);
		keri_b64_encode(raw, 66, txt);
		buf[len] = 'A';
		buf[len + 1] = b64[i]; /* the witness's index in b */
		memcpy(buf + len + 2, txt + 2, 86);
		len += 88;
	}
	buf[len] = '\0';
	return len;
}

size_t kelgen_rot(struct kelgen_id *id, char *buf, size_t cap)
{
	struct key cur, next;
	size_t len = 0, b;
	char said[45];
	derive(&cur, id->seed, id->index, id->keyno + 1);
	derive(&next, id->seed, id->index, id->keyno + 2);
	int n = snprintf(buf, cap,
	                 "{\"v\":\"KERI10JSON000000_\",\"t\":\"rot\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	                 "\"s\":\"%" PRIx64 "\",\"p\":\"%s\",\"kt\":\"1\",\"k\":[\"%s\"],\"nt\":\"1\","
	                 "\"n\":[\"%s\"],\"bt\":\"0\",\"br\":[],\"ba\":[],\"a\":[]}",
	                 id->pre, id->sn + 1, id->said, cur.qb, next.dig);
	if ((b = body_end(buf, cap, n, said)) != 0 && (len = sign(buf, b, cap, cur.sk)) != 0) {
		kelgen_advance(id, said);
		id->keyno++;
		memcpy(id->sk, cur.sk, 64);
		memcpy(id->key, cur.qb, 45);
	}
	sodium_memzero(&cur, sizeof(cur));
	sodium_memzero(&next, sizeof(next));
	return len;
}

size_t kelgen_preload(struct kelgen_id *id, uint64_t seed, uint64_t index, char *buf,
                      size_t cap, size_t off[KELGEN_PRELOAD + 1])
{
	size_t len, b;
	int ev = 1;
	off[0] = 0;
	if ((len = kelgen_icp(id, seed, index, buf, cap)) == 0)
		return 0;
	off[ev++] = len;
	for (unsigned r = 0; r < KELGEN_ROTS; r++, ev++) {
		if ((b = kelgen_rot(id, buf + len, cap - len)) == 0)
			return 0;
		len += b;
		off[ev] = len;
	}
	for (unsigned x = 0; x < KELGEN_IXNS; x++, ev++) {
		char said[45];
		b = kelgen_ixn(id, buf + len, cap - len, said);
		if (b == 0)
			return 0;
		kelgen_advance(id, said);
		len += b;
		off[ev] = len;
	}
	return len;
}

size_t kelgen_ixn(const struct kelgen_id *id, char *buf, size_t cap, char said[45])
{
	int n = snprintf(buf, cap,
	                 "{\"v\":\"KERI10JSON000000_\",\"t\":\"ixn\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	                 "\"s\":\"%" PRIx64 "\",\"p\":\"%s\",\"a\":[]}",
	                 id->pre, id->sn + 1, id->said);
	size_t b = body_end(buf, cap, n, said);
	return b == 0 ? 0 : sign(buf, b, cap, id->sk);
}

void kelgen_advance(struct kelgen_id *id, const char said[45])
{
	memcpy(id->said, said, 45);
	id->sn++;
}

int kelgen_resume(struct kelgen_id *id, uint64_t sn, const char *said, const char *key)
{
	if (sn < KELGEN_PRELOAD - 1 || strcmp(key, id->key) != 0 || strlen(said) != 44)
		return 0;
	memcpy(id->said, said, 45);
	id->sn = sn;
	return 1;
}
