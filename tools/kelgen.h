/*
 * Signed KERI v1 key event logs for `hotcache load`: every identifier gets a
 * self-addressing prefix (E, BLAKE3-256), one Ed25519 key at a time from seeds derived
 * deterministically from (run seed, identifier index, key number), a pre-rotation
 * commitment to the next key, and indexed signatures (-AAB counter, one A-coded
 * signature at index 0). The preload is icp, KELGEN_ROTS rotations and KELGEN_IXNS
 * interactions; the load phase then appends interaction events one after another.
 * bench/keri_bench builds its KELs from the same calls (icp, rot, ixn).
 *
 * Field order is keri/'s (icp: v t d i s kt k nt n bt b c a; rot: v t d i s p kt k nt n
 * bt br ba a; ixn: v t d i s p a); the SAID is computed over the body with d (and i for
 * icp) filled with 44 '#' and the final version size, as keri_parse checks it.
 *
 * Threads: the functions are pure apart from libsodium (sodium_init() must have run,
 * which hc_open does); a struct kelgen_id is owned by one thread at a time, so the
 * events of one identifier are generated and appended in order.
 */
#ifndef HC_TOOLS_KELGEN_H
#define HC_TOOLS_KELGEN_H

#include <stddef.h>
#include <stdint.h>

#define KELGEN_ROTS 1
#define KELGEN_IXNS 2
#define KELGEN_PRELOAD (1 + KELGEN_ROTS + KELGEN_IXNS)
/* Largest message generated (event + attachments) with room to spare. */
#define KELGEN_MSG_MAX 1024
/* The attachments after every event body: -AAB and one 88-char indexed signature (its
 * last 86 chars the signature's base64 after 2 lead bytes). A message of length len has
 * its event in [0, len - KELGEN_ATTACH_LEN). */
#define KELGEN_ATTACH_LEN 92

struct kelgen_id {
	char pre[45];     /* the prefix (i) */
	char said[45];    /* SAID of the last event generated (and accepted) */
	char key[45];     /* the current signing key, qb64 */
	uint64_t sn;      /* sn of the last event */
	uint64_t seed, index;
	unsigned keyno;   /* the current key's number (0 at inception) */
	uint8_t sk[64];   /* the current signing key's secret */
};

/*
 * Call once before threads use this module: runs one BLAKE3 digest so that BLAKE3's
 * lazy CPU-feature detection (a plain global written on first use) happens on one
 * thread instead of racing among the preload threads.
 */
void kelgen_init(void);

/*
 * Writes identifier `index`'s preload KEL (KELGEN_PRELOAD messages back to back) into
 * buf and their offsets into off[0..KELGEN_PRELOAD] (off[KELGEN_PRELOAD] = total
 * length), and leaves *id at the state after the last of them. Returns the total
 * length, or 0 when cap is too small.
 */
size_t kelgen_preload(struct kelgen_id *id, uint64_t seed, uint64_t index, char *buf,
                      size_t cap, size_t off[KELGEN_PRELOAD + 1]);

/*
 * Identifier `index`'s inception (key 0, next: a commitment to key 1) into buf, leaving
 * *id at sn 0. Returns its length, or 0 when cap is too small.
 */
size_t kelgen_icp(struct kelgen_id *id, uint64_t seed, uint64_t index, char *buf, size_t cap);

/*
 * The next rotation (sn + 1, p = said; keys: key keyno + 1, next: a commitment to key
 * keyno + 2), signed with the new key, into buf. Unlike kelgen_ixn it advances *id (the
 * new key and said) at once: the caller appends it. Returns its length, or 0 when cap is
 * too small (*id unchanged).
 */
size_t kelgen_rot(struct kelgen_id *id, char *buf, size_t cap);

/*
 * The next interaction event (sn + 1, p = said), signed with the current key, into buf.
 * *said gets its SAID. Returns its length (0 if cap is too small). *id is unchanged:
 * call kelgen_advance once the event was accepted.
 */
size_t kelgen_ixn(const struct kelgen_id *id, char *buf, size_t cap, char said[45]);
void kelgen_advance(struct kelgen_id *id, const char said[45]);

/* Witnesses (keri_bench's witnessed KELs): a non-transferable basic prefix (B + an
 * Ed25519 key derived from (seed, no)) and its secret. */
#define KELGEN_WITNESS_MAX 8
struct kelgen_witness {
	char pre[45];
	uint8_t sk[64];
};
void kelgen_witness(struct kelgen_witness *w, uint64_t seed, unsigned no);
/* kelgen_icp with b = the witnesses' prefixes and bt = nw (1 .. KELGEN_WITNESS_MAX). */
size_t kelgen_icp_witnessed(struct kelgen_id *id, uint64_t seed, uint64_t index,
                            const struct kelgen_witness *w, unsigned nw, char *buf, size_t cap);
/*
 * Appends to the message buf[0..len) (an event whose body is buf[0..body)) a -B group
 * of nw indexed witness signatures over the body, witness i at index i, as a witness
 * pool returns them. Returns the new length, or 0 when cap is too small.
 */
size_t kelgen_witness_sign(char *buf, size_t len, size_t body, size_t cap,
                           const struct kelgen_witness *w, unsigned nw);

/*
 * Continues from a stored key state (a kept --store): when `key` is the key this
 * generator derives after its rotations and sn covers the preload, takes over sn and
 * said and returns 1; otherwise returns 0 and leaves *id alone.
 */
int kelgen_resume(struct kelgen_id *id, uint64_t sn, const char *said, const char *key);

#endif
