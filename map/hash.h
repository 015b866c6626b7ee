/*
 * The map's key hash: a seeded 64-bit multiply-mix hash, cheap enough for every lookup
 * (a few ns for short keys, against 15-25 ns for SipHash-2-4).
 *
 * Each 16-byte block is folded by one 64x64->128 multiply of two words that are both
 * XORed with secret-dependent values, so an attacker who does not know the 128-bit
 * per-process secret cannot force a product to zero or predict a collision; the final
 * mix spreads every input bit over the output. It is not a MAC: the defence against an
 * adaptive attacker who can time lookups is the per-process secret plus the chain-length
 * guard in map.c (see map.h), and the hostile-key test measures it.
 */
#ifndef HC_MAP_HASH_H
#define HC_MAP_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct map_seed {
	uint64_t s0, s1;
};

static inline uint64_t hash_mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t hash_rd64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t hash_rd32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Odd constants with balanced bits (fractional parts of sqrt(2), sqrt(3), e, pi). */
#define HASH_K0 0x6a09e667f3bcc909ull
#define HASH_K1 0xbb67ae8584caa73bull
#define HASH_K2 0xb7e151628aed2a6bull
#define HASH_K3 0x243f6a8885a308d3ull

/* Any thread; pure. */
static inline uint64_t map_hash_bytes(const struct map_seed *seed, const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = seed->s0 ^ hash_mix(len ^ HASH_K0, seed->s1 ^ HASH_K1);
	uint64_t a, b;
	size_t n = len;
	while (n > 16) {
		h = hash_mix(hash_rd64(p) ^ seed->s1 ^ HASH_K2, hash_rd64(p + 8) ^ h);
		p += 16;
		n -= 16;
	}
	if (n >= 8) {
		a = hash_rd64(p);
		b = hash_rd64(p + n - 8);
	} else if (n >= 4) {
		a = hash_rd32(p);
		b = hash_rd32(p + n - 4);
	} else if (n > 0) {
		a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
		b = 0;
	} else {
		a = b = 0;
	}
	h = hash_mix(a ^ seed->s1 ^ HASH_K3, b ^ h);
	return hash_mix(h ^ seed->s0, HASH_K1 ^ len);
}

/* Key equality for the map and the index; keys of 8 to 16 bytes (the common hashed or
 * id keys) in two overlapping word compares instead of a memcmp call. Any thread;
 * pure. */
static inline int map_key_eq(const unsigned char *a, const unsigned char *b, uint32_t len)
{
	if (len >= 8 && len <= 16) {
		uint64_t a0, a1, b0, b1;
		memcpy(&a0, a, 8);
		memcpy(&b0, b, 8);
		memcpy(&a1, a + len - 8, 8);
		memcpy(&b1, b + len - 8, 8);
		return ((a0 ^ b0) | (a1 ^ b1)) == 0;
	}
	return memcmp(a, b, len) == 0;
}

#endif
