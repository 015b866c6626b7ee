/*
 * bench/kelgen: signed KERI v1 key event logs for keri_bench (the load test has its own
 * generator in tools/kelgen.c). One identifier at a time: an inception (icp), then
 * rotations (rot) and interactions (ixn) in order, each with one Ed25519 key derived
 * deterministically from (run seed, key number), a pre-rotation commitment to the next
 * key, a self-addressing prefix (E, BLAKE3-256) and one indexed signature (`-AAB`
 * counter, an A-coded signature at index 0).
 *
 * The bytes follow keri/'s canonical form exactly as tests/unit/test_keri.c builds
 * them: field order icp `v t d i s kt k nt n bt b c a`, rot `v t d i s p kt k nt n bt br
 * ba a`, ixn `v t d i s p a`; sn in lower-case hex; the SAID computed over the body
 * with `d` (and `i` for icp) filled with 44 '#' and the final version size.
 *
 * Every generated message also carries what a bare verify needs (the body's extent,
 * the raw signature and the public key), so the bench can time
 * crypto_sign_verify_detached on exactly the bytes an append verifies.
 *
 * Threads: pure apart from libsodium (sodium_init() must have returned >= 0) and
 * BLAKE3's one-time CPU-feature probe (call bkel_init() once before threads). A
 * struct bkel_id belongs to one thread at a time.
 */
#ifndef HC_BENCH_KELGEN_H
#define HC_BENCH_KELGEN_H

#include <stddef.h>
#include <stdint.h>

/* Largest message generated (event + attachments), with room to spare. */
#define BKEL_MSG_MAX 1024

struct bkel_id {
	char pre[45];     /* the prefix (i); "" before bkel_icp */
	char said[45];    /* SAID of the last event generated */
	uint64_t sn;      /* sn of the last event generated */
	uint64_t seed;    /* the run seed the keys derive from */
	unsigned keyno;   /* the current signing key's number (0 at inception) */
	uint8_t pk[32];   /* the current signing key */
	uint8_t sk[64];
};

/* One generated message: text[0..len) is the event and its attachments. */
struct bkel_msg {
	size_t len;
	size_t body;      /* the event's length (what the signature covers) */
	uint8_t sig[64];  /* the raw Ed25519 signature over text[0..body) */
	uint8_t pk[32];   /* the key that made it */
	char text[BKEL_MSG_MAX];
};

/* Once per process, after sodium_init() and before threads use this module. */
void bkel_init(void);

/* Inception for the identifier of `seed` (key 0, next = digest of key 1). Returns 0. */
int bkel_icp(struct bkel_id *id, uint64_t seed, struct bkel_msg *m);
/* The next rotation (keys: key n+1, next: digest of key n+2), signed with the new key. */
int bkel_rot(struct bkel_id *id, struct bkel_msg *m);
/* The next interaction event, signed with the current key. */
int bkel_ixn(struct bkel_id *id, struct bkel_msg *m);

/*
 * A whole KEL of n >= 1 events for `seed`: icp, then a rot at every sn that is a
 * multiple of rot_every (0: never), ixn otherwise. Messages back to back in *buf
 * (malloc'd, *len bytes); *id is left after the last event, ready for more.
 * Returns 0, or -1 when out of memory.
 */
int bkel_kel(struct bkel_id *id, uint64_t seed, size_t n, unsigned rot_every, char **buf,
             size_t *len);

#endif /* HC_BENCH_KELGEN_H */
