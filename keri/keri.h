/*
 * keri/: KERI v1 events, checked and turned into key state. Pure: no I/O, no cache,
 * no storage, no allocation, no global state. The one internal header of the module.
 *
 * What it does, in the order a caller meets it:
 *
 *   keri_parse()   one JSON event (KERI10JSON, canonical compact JSON, exact field
 *                  order per ilk) plus its CESR text attachments; checks the version
 *                  string size, every qb64 primitive (codes, pad bits), and the SAID
 *                  (`d`, and `i` when the prefix is a digest). The result points into
 *                  the caller's bytes.
 *   keri_apply()   the rules that need the prior key state: sn and `p` chaining,
 *                  signatures and thresholds, pre-rotation, witnesses, EO,
 *                  abandonment, non-transferable prefixes, duplicates and duplicity,
 *                  the delegated events' own rules (dip, drt). Writes the next key
 *                  state. The delegator's anchoring seal is looked up by the caller,
 *                  which holds the delegator's KEL: keri_seal_anchors(),
 *                  keri_delegator_check() and, for delegated recovery,
 *                  keri_apply_supersede() and keri_supersede_rule() are its pure parts.
 *   keri_state_json()   keripy's KeyStateRecord JSON of a state.
 *   keri_state_encode()/keri_state_decode()   exact, checksummed binary form for
 *                  storing a state at rest.
 *
 * Fixed caps instead of allocation: at most KERI_MAX_KEYS keys (and next digests,
 * and threshold weights), KERI_MAX_WITS witnesses, KERI_MAX_SIGS signatures per
 * attachment kind, KERI_MAX_TRAITS config traits, JSON nesting KERI_MAX_DEPTH and
 * KERI_MAX_OBJ_KEYS keys per JSON object.
 * Exceeding a cap is KERI_ELIMIT, never a truncation.
 *
 * Threads: every function here is pure (reads its arguments, writes only its
 * outputs); any thread may call any of them at any time. They take no locks, issue no
 * barriers and are wait-free. Precondition for the hashing and signature functions:
 * sodium_init() has returned >= 0 in this process (hc_open and the tests do it).
 */
#ifndef HC_KERI_H
#define HC_KERI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define KERI_NODISCARD __attribute__((warn_unused_result))
#define KERI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KERI_NODISCARD
#define KERI_PRINTF(f, a)
#endif

#define KERI_MAX_KEYS 32   /* keys, next digests, weights per threshold */
#define KERI_MAX_WITS 32   /* witnesses, and entries of br / ba */
#define KERI_MAX_SIGS 32   /* controller (-A) and witness (-B) signatures, each */
#define KERI_MAX_TRAITS 8  /* entries of c */
#define KERI_MAX_DEPTH 32  /* JSON nesting inside `a` */
#define KERI_MAX_OBJ_KEYS 64 /* keys of one JSON object inside `a` (a seal has 3 or 4) */
#define KERI_QB64 44       /* length of every key, digest and prefix we accept */
#define KERI_DUMMY_CHAR '#'

/*
 * Results. 0 and the positive values are successes; every rejection is negative, one
 * code per rule, and fills the caller's `why` buffer with a sentence naming the rule
 * and the field.
 */
enum keri_err {
	KERI_OK = 0,
	KERI_DUPLICATE = 1,  /* keri_apply: same sn and SAID as an accepted event: no-op */
	KERI_RECEIPT = 2,    /* keri_parse: an `rct` receipt (its groups in ev, for the cache) */
	KERI_RECOVERY = 3,   /* keri_apply: a recovery rotation; the caller, which keeps
	                        the KEL, finishes it with keri_apply_recover (or, a drt
	                        at the last establishment event, keri_apply_supersede) */
	KERI_CLIMB = 4,      /* keri_supersede_rule: neither delegating event is later;
	                        compare their own delegating events (rule C) */
	KERI_EINVAL = -1,    /* a bad argument (NULL, a dt with quotes, ...) */
	KERI_ENOMEM = -2,    /* reserved: the module does not allocate */
	KERI_EVERSION = -100,   /* version string not KERI10JSON<6 hex>_ */
	KERI_ESIZE = -101,      /* declared size differs from the JSON's real length */
	KERI_EJSON = -102,      /* not canonical compact JSON (whitespace, bad token) */
	KERI_EFIELD_ORDER = -103, /* a field missing, extra or out of the ilk's order */
	KERI_EILK = -104,       /* an ilk this module does not know (qry, rpy, exn, ...) */
	KERI_EILK_UNSUPPORTED = -105, /* reserved: dip/drt were refused by this name before
	                                 delegation was supported */
	KERI_EFIELD = -106,     /* a field's value has the wrong type or code */
	KERI_ESAID = -107,      /* `d` (or `i`) is not the digest of the event */
	KERI_EPREFIX = -108,    /* prefix rules: basic prefix != key, i != d, wrong AID */
	KERI_ESIG = -109,       /* no attached controller signature verifies */
	KERI_ETHRESHOLD = -110, /* a threshold is malformed or not met */
	KERI_EPRIOR = -111,     /* `p` is not the SAID of the prior event */
	KERI_ESN = -112,        /* sn malformed or not prior sn + 1 (out of order) */
	KERI_EDUPLICITY = -113, /* same sn as an accepted event, another SAID, authentic */
	KERI_ESTALE = -114,     /* sn at or below the current one: the caller's KEL decides */
	KERI_ENEXT = -115,      /* new keys do not satisfy the prior next commitment */
	KERI_EWITNESS = -116,   /* b/br/ba/bt rules or witness signatures */
	KERI_EABANDONED = -117, /* the identifier was abandoned (empty n): no more events */
	KERI_ENONTRANS = -118,  /* non-transferable (B) prefix: no later event; n, b, a empty */
	KERI_EESTONLY = -119,   /* EO trait: interaction events are not allowed */
	KERI_ETRAIT = -120,     /* an unknown or duplicated config trait */
	KERI_ECESR = -121,      /* unknown or unsupported CESR code, bad base64 */
	KERI_EPAD = -122,       /* non-zero pad bits in a qb64 primitive */
	KERI_ETRUNCATED = -123, /* input ends inside an event or attachment */
	KERI_ELIMIT = -124,     /* a fixed cap of this module is exceeded */
	KERI_ESTATE = -125,     /* a stored state does not decode (corrupt, wrong version) */
	KERI_ERANGE = -126,     /* the output buffer is too small; *len has the size */
	KERI_ENOSTATE = -127,   /* no prior state for a non-inception event, or vice versa */
	KERI_EDELEGATION = -128, /* delegation: the delegator's KEL holds no event anchoring
	                           the delegated event's seal {i,s,d} (yet), the delegator
	                           refuses delegation (DND), or a delegated identifier
	                           rotated with rot instead of drt */
	KERI_EUNWITNESSED = -130, /* fewer than bt verified witness signatures: keripy's
	                             partially witnessed escrow (the cache escrows it) */
	KERI_EUNSEEN = -131,    /* a receipt of an event not accepted (yet) */
	KERI_EUNSIGNED = -132   /* with KERI_APPLY_PARTIAL: some controller signatures
	                           verify but do not meet kt (keripy's partially signed
	                           escrow); without the flag this is KERI_ETHRESHOLD */
};

/* The name of a keri_err code ("KERI_ESAID: ..."); never NULL. Any thread. */
const char *keri_strerror(int code);

enum keri_ilk {
	KERI_ILK_NONE = 0,
	KERI_ILK_ICP = 1,
	KERI_ILK_ROT = 2,
	KERI_ILK_IXN = 3,
	KERI_ILK_DIP = 4,
	KERI_ILK_DRT = 5,
	KERI_ILK_RCT = 6
};

/* keripy's TraitDex. The key state keeps EO and DND (keripy's Kever has a boolean for
 * each); the others are accepted on an event and ignored, as keripy ignores them. */
enum keri_trait {
	KERI_TRAIT_EO = 1,  /* establishment only */
	KERI_TRAIT_DND = 2, /* do not delegate: a delegator with it anchors no dip/drt */
	KERI_TRAIT_NB = 3,  /* no backers (a TEL registry trait) */
	KERI_TRAIT_NRB = 4, /* no registrar backers (TEL) */
	KERI_TRAIT_RB = 5,  /* registrar backers (TEL) */
	KERI_TRAIT_DID = 6  /* delegate is delegator */
};

/*
 * A signing threshold. Numeric: `num` distinct indices. Weighted: `nclauses` clauses
 * of consecutive weights wn[i]/wd[i] (reduced fractions, 0 <= w <= 1); every clause
 * must reach 1 over the signed indices it covers. Exact integer arithmetic only.
 */
struct keri_tholder {
	uint8_t weighted;
	uint8_t nclauses;
	uint8_t size;                      /* total weights (weighted only) */
	uint8_t clause_len[KERI_MAX_KEYS];
	uint64_t num;                      /* numeric threshold */
	uint32_t wn[KERI_MAX_KEYS];
	uint32_t wd[KERI_MAX_KEYS];
};

/* An indexed Ed25519 signature (CESR A, B, 2A, 2B). */
struct keri_sig {
	uint16_t index;
	uint16_t ondex;      /* prior-next index; meaningful only when has_ondex */
	uint8_t has_ondex;   /* 0 for current-only codes B and 2B */
	uint8_t sig[64];
};

/*
 * One parsed event. Strings are NUL-terminated copies; `body` points into the caller's
 * buffer (valid as long as it is). Lists hold qb64 text (KERI_QB64 chars + NUL).
 */
struct keri_event {
	const uint8_t *body;
	size_t size;                 /* body length = the version string's size */
	enum keri_ilk ilk;
	char pre[KERI_QB64 + 1];     /* i */
	char said[KERI_QB64 + 1];    /* d */
	char prior[KERI_QB64 + 1];   /* p ("" for icp/dip/rct) */
	char di[KERI_QB64 + 1];      /* delegator (dip only; "" otherwise) */
	uint64_t sn;
	struct keri_tholder kt, nt;
	uint32_t bt;
	uint8_t nk, nn, nb, nbr, nba, nc;
	uint8_t c[KERI_MAX_TRAITS];  /* enum keri_trait, in the event's order */
	char k[KERI_MAX_KEYS][KERI_QB64 + 1];
	char n[KERI_MAX_KEYS][KERI_QB64 + 1];
	char b[KERI_MAX_WITS][KERI_QB64 + 1];   /* icp/dip */
	char br[KERI_MAX_WITS][KERI_QB64 + 1];  /* rot/drt */
	char ba[KERI_MAX_WITS][KERI_QB64 + 1];  /* rot/drt */
	size_t a_off, a_len;         /* the `a` value inside body */
	uint8_t nsigs, nwigs;
	struct keri_sig sigs[KERI_MAX_SIGS];    /* -A controller signatures */
	struct keri_sig wigs[KERI_MAX_SIGS];    /* -B witness signatures */
	uint8_t has_wigs;            /* a -B group was attached (even if empty) */
	/* Receipts attached to an event or carried by an rct (not checked by keri_parse
	 * or keri_apply: the cache verifies and stores them). */
	uint8_t ncigs, ntrcs;
	struct keri_cig {            /* -C: non-transferable receipt couple */
		char pre[KERI_QB64 + 1];   /* the receiptor's basic prefix (its key) */
		uint8_t sig[64];           /* Ed25519 over the receipted event's body */
	} cigs[KERI_MAX_SIGS];
	struct keri_trc {            /* -D quadruple, or one signature of a -F group */
		char pre[KERI_QB64 + 1];   /* the transferable receiptor */
		uint64_t sn;               /* its establishment event: sn and SAID */
		char said[KERI_QB64 + 1];
		struct keri_sig sig;       /* indexed by that event's keys */
	} trcs[KERI_MAX_SIGS];
	/* The last -G seal source couple attached (keripy uses the last one): sn and SAID
	 * of the delegator's event said to anchor this one. A hint only: the seal is
	 * looked up in the delegator's event, and the whole KEL when it is not there. */
	uint8_t has_src;
	uint64_t src_sn;
	char src_said[KERI_QB64 + 1];
};

/*
 * Key state after an accepted event: everything keripy's KeyStateRecord holds.
 * Always fully zeroed before being filled, so two equal states compare equal with
 * memcmp.
 */
struct keri_state {
	char pre[KERI_QB64 + 1];     /* i */
	uint64_t sn;                 /* s */
	uint64_t fn;                 /* f: first-seen ordinal (= sn: no recovery) */
	char d[KERI_QB64 + 1];       /* SAID of the last event */
	char p[KERI_QB64 + 1];       /* its p ("" after icp) */
	uint8_t et;                  /* enum keri_ilk of the last event */
	struct keri_tholder kt, nt;
	uint32_t bt;
	uint8_t nk, nn, nb, nc, ee_nbr, ee_nba;
	uint8_t c[KERI_MAX_TRAITS];  /* EO then DND, the traits keripy's state keeps (a
	                                record stored by an older version may hold NB) */
	char k[KERI_MAX_KEYS][KERI_QB64 + 1];
	char n[KERI_MAX_KEYS][KERI_QB64 + 1];
	char b[KERI_MAX_WITS][KERI_QB64 + 1];
	uint64_t ee_sn;              /* last establishment event */
	char ee_d[KERI_QB64 + 1];
	char ee_br[KERI_MAX_WITS][KERI_QB64 + 1];
	char ee_ba[KERI_MAX_WITS][KERI_QB64 + 1];
	char di[KERI_QB64 + 1];      /* delegator of a delegated identifier (from its dip),
	                                "" otherwise (keripy's KeyStateRecord `di`) */
};

/* ---- the module's contract with the cache ------------------------------------ */

/*
 * Parse one event and its attachments from buf[0..len). On success returns KERI_OK
 * (or KERI_RECEIPT for an `rct`, whose body and attachments are consumed but not
 * checked for a SAID, since its `d` is the receipted event's), fills *ev and sets
 * *consumed to the bytes of event plus attachments (the attachments end at the next
 * '{' or at len). A dip's `di` is read into ev->di and a -G couple into ev->src_*.
 * On error returns a negative keri_err, writes a sentence to why, and sets *consumed
 * to the message's extent when it could be determined (else 0), so a stream reader
 * can skip it; *ev is then unspecified. KERI_ETRUNCATED (with *consumed 0) means the
 * input ends inside the event or its attachments: more bytes may complete it. Trailing
 * bytes that are neither a counter nor '{' (a newline, say) are KERI_ECESR.
 * Any thread; pure; no allocation.
 */
KERI_NODISCARD int keri_parse(const uint8_t *buf, size_t len, struct keri_event *ev,
                              size_t *consumed, char *why, size_t whylen);

/*
 * Validate ev against prior (NULL when there is none) and write the next state.
 * Returns KERI_OK (next written), KERI_DUPLICATE (same sn and SAID as the current
 * event or the last establishment event: nothing to do, next untouched), KERI_RECOVERY
 * (a rot or drt after the last establishment event at or below the current sn: finish
 * it with keri_apply_recover; a drt of a delegated identifier at its last establishment
 * event's sn: with keri_apply_supersede; next untouched) or a negative keri_err with a
 * sentence in why
 * (next untouched). Duplicity (issue 10 rule 8) is
 * reported only for an authentic conflict: another ixn at the current sn of an ixn
 * is KERI_EDUPLICITY if signed to threshold by the current keys (a rot there is a
 * recovery), else the signature rule it breaks. Any
 * other sn at or below the current one, not the current or last establishment event,
 * is KERI_ESTALE: the caller, which keeps the KEL, compares ev->said with its stored
 * event at that sn (equal: duplicate) and otherwise applies ev to the state replayed
 * up to sn - 1: accepted there means duplicity, refused means that rejection. With
 * KERI_APPLY_SKIP_SIGS a conflict the state shows is named KERI_EDUPLICITY
 * unauthenticated, as before. Signatures (keripy's verifySigs): one that does not
 * verify or whose index is outside the key list is dropped, and the ones that verify
 * must meet kt (KERI_ETHRESHOLD, or KERI_EUNSIGNED with KERI_APPLY_PARTIAL, where
 * keripy escrows the event as partially signed; KERI_ESIG when none verifies).
 * Witness signatures (keripy's
 * valSigsWigsDel): the distinct witnesses of the event's witness list whose -B
 * signatures verify (others are dropped alike) must reach bt, else
 * KERI_EUNWITNESSED (keripy's partially witnessed escrow; the caller merges receipts
 * that arrived apart into ev->wigs and retries), unless KERI_APPLY_LOCAL says the
 * node owns or witnesses the identifier. prior and next may not alias.
 * Delegation (keripy Kever.incept/update): a dip is an icp whose
 * prefix must be self-addressing (E, F or I) and whose `di` becomes the state's di; a
 * drt is a rot; an identifier with a di rotates only with drt (a rot is
 * KERI_EDELEGATION); a drt on an identifier without di is an ordinary rotation, as in
 * keripy (no delegator, so nothing to approve). keri_apply does not look for the
 * delegator's anchor: for an accepted dip or drt whose next->di is set the caller must
 * (keri_delegator_check, keri_seal_anchors) before it keeps the new state.
 * Any thread; pure; no allocation.
 */
KERI_NODISCARD int keri_apply(const struct keri_state *prior, const struct keri_event *ev,
                              struct keri_state *next, char *why, size_t whylen);

/*
 * Recovery (superseding) rotation, keripy's Kever.rotate: keri_apply returns
 * KERI_RECOVERY (next untouched) for a rot or drt whose sn is above the last establishment
 * event's and at or below the current sn (the current event is then an ixn: a rot never
 * supersedes a rot). The caller passes psaid, the SAID of the event at sn - 1 on its
 * accepted branch, which `p` must equal (KERI_EPRIOR otherwise); every rule of an
 * in-order rotation then applies against prior: signatures by the new keys to kt, the
 * new keys exposing prior's next digests to nt (prior's n, k and b are still the last
 * establishment event's, since ixns change none of them), witnesses. On KERI_OK next is
 * the rotation's state: sn = ev->sn (below or at prior's), fn = prior->fn + 1 (each
 * first-seen event takes the next ordinal, superseded ones included, as keripy's
 * first-seen log does). The interaction events at sn..prior->sn are superseded: the
 * caller moves them off its accepted branch. A rot of a delegated identifier is
 * KERI_EDELEGATION (drt only, keripy Kever.update); a drt's delegator must anchor it
 * (the caller's, as for any drt: keripy's rule A0, a rotation may supersede
 * interaction events). Any other event is KERI_EINVAL. Any thread; pure; no allocation.
 */
KERI_NODISCARD int keri_apply_recover(const struct keri_state *prior,
                                      const struct keri_event *ev, unsigned flags,
                                      const char *psaid, struct keri_state *next, char *why,
                                      size_t whylen);

/*
 * A drt of a delegated identifier at the sn of its last establishment event, a drt
 * (keri_apply returned KERI_RECOVERY): it would supersede that drt and the interaction
 * events after it. below is the state after the accepted event at sn - 1 (the caller
 * replays its KEL); the drt must be valid there as an in-order event (p, keys,
 * pre-rotation of below's next digests, witnesses), against the key state the
 * superseded drt answered to. On KERI_OK next is that state with fn = cur->fn + 1.
 * Whether the delegator's approval of it supersedes the old one's is keripy's rules B
 * and C (keri_supersede_rule; the caller finds the delegating events). Any thread;
 * pure; no allocation.
 */
KERI_NODISCARD int keri_apply_supersede(const struct keri_state *cur,
                                        const struct keri_state *below,
                                        const struct keri_event *ev, unsigned flags,
                                        struct keri_state *next, char *why, size_t whylen);

/* A delegating event: the delegator's event whose `a` holds the seal of a delegated
 * event, with the seal's position among the top-level elements of `a`. */
struct keri_anchor {
	uint64_t sn;
	char said[KERI_QB64 + 1];
	uint8_t ilk;  /* enum keri_ilk */
	int index;    /* the seal's position in `a` */
};

/*
 * keripy's superseding rules B for a drt whose delegating event is n against the drt it
 * would supersede, whose delegating event is o (both in one delegator's KEL): KERI_OK
 * when n is later (B1: a higher sn; B3: n a rotation, o an interaction event, which n
 * superseded or followed; B2: the same event with the new seal later in `a`);
 * KERI_CLIMB when both are establishment events at the same sn but different events
 * (rule C: the caller compares their own delegating events, one level up);
 * KERI_EDELEGATION with the sentence otherwise. Any thread; pure.
 */
KERI_NODISCARD int keri_supersede_rule(const struct keri_anchor *n, const struct keri_anchor *o,
                                       char *why, size_t whylen);

/*
 * The delegator's side of a delegated event (keripy validateDelegation): KERI_OK, or
 * KERI_EDELEGATION when delegator (its current state, NULL when the caller has none)
 * is missing or has the DND trait. di names it in the sentence. Any thread; pure.
 */
KERI_NODISCARD int keri_delegator_check(const struct keri_state *delegator, const char *di,
                                        char *why, size_t whylen);

/*
 * 1 when one top-level element of ev's `a` list is the event seal {i, s, d} of the
 * event (pre, sn, said): an object with exactly the keys i, s, d in that order (keripy's
 * SealEvent), s as lowercase hex; else 0. ev must come from keri_parse, whose canonical
 * JSON check gives every such seal one byte form, so the match is by bytes. Any
 * thread; pure.
 */
int keri_seal_anchors(const struct keri_event *ev, const char *pre, uint64_t sn,
                      const char *said);
/* The position of that seal among the top-level elements of ev's `a` (0 for the
 * first), or -1 when it is not there. Any thread; pure. */
int keri_seal_index(const struct keri_event *ev, const char *pre, uint64_t sn,
                    const char *said);

/* Flags for keri_apply_flags. */
#define KERI_APPLY_SKIP_SIGS 1u /* no signature checks; pre-rotation is then checked
                                   by matching every new key against the prior n */
#define KERI_APPLY_LOCAL 2u     /* the node controls or witnesses the identifier
                                   (keripy's locallyOwned, locallyMembered,
                                   locallyWitnessed): bt need not be met */
#define KERI_APPLY_PARTIAL 4u   /* name an unmet kt KERI_EUNSIGNED (escrowable), not
                                   KERI_ETHRESHOLD (also a malformed threshold) */
/*
 * keri_apply with flags. KERI_APPLY_SKIP_SIGS is only for events whose signatures
 * were checked before (a replay of a store written through keri_apply) and for
 * unsigned test vectors; every other rule still applies. Any thread; pure.
 */
KERI_NODISCARD int keri_apply_flags(const struct keri_state *prior,
                                    const struct keri_event *ev, unsigned flags,
                                    struct keri_state *next, char *why, size_t whylen);

/*
 * keripy's KeyStateRecord JSON (vn,i,s,p,d,f,dt,et,kt,k,nt,n,bt,b,c,ee{s,d,br,ba},di),
 * compact, no trailing newline, NUL-terminated when it fits. dt is the caller's
 * ISO-8601 text (no quote, backslash or control characters). Returns KERI_OK,
 * KERI_ERANGE with *len = the size needed (without NUL), or KERI_EINVAL.
 * Any thread; pure.
 */
KERI_NODISCARD int keri_state_json(const struct keri_state *st, const char *dt, char *buf,
                                   size_t cap, size_t *len);

/* Upper bound of keri_state_encode's output. */
#define KERI_STATE_ENC_MAX 16384u
/*
 * Binary form of a state for storage: "KST2", fields, BLAKE2b-128 checksum (format 2:
 * format 1, "KST1", had no delegator field).
 * Returns KERI_OK, KERI_ERANGE (*len = size needed) or KERI_EINVAL. Any thread; pure.
 */
KERI_NODISCARD int keri_state_encode(const struct keri_state *st, uint8_t *buf, size_t cap,
                                     size_t *len);
/*
 * Inverse of keri_state_encode: exact (encode(decode(x)) == x for a format-2 record;
 * a format-1 record decodes to its state, di "", and re-encodes as format 2) and
 * validated: a
 * wrong checksum, length, count, code or threshold is KERI_ESTATE, never a
 * half-filled state (*st is zeroed on error). Any thread; pure.
 */
KERI_NODISCARD int keri_state_decode(const uint8_t *buf, size_t len, struct keri_state *st,
                                     char *why, size_t whylen);

/*
 * qb64 digest (code 'E' BLAKE3-256, 'F' BLAKE2b-256, 'I' SHA2-256) of data into
 * out[KERI_QB64 + 1]. Returns KERI_OK or KERI_ECESR for another code. Any thread.
 */
KERI_NODISCARD int keri_digest_qb64(char code, const uint8_t *data, size_t len, char *out);

/* ---- module-private helpers (shared between the files of keri/) ---------------- */

/* Format "<rule>: <detail>" into why and return code. */
int keri_fail(char *why, size_t whylen, int code, const char *fmt, ...) KERI_PRINTF(4, 5);

/* Base64url value of c, or -1. */
int keri_b64_val(int c);
/* Encode n (a multiple of 3) bytes as 4n/3 base64url chars (no NUL). */
void keri_b64_encode(const uint8_t *in, size_t n, char *out);

/* A decoded matter primitive (non-indexed). */
struct keri_prim {
	char code[5];
	size_t fs;          /* text length */
	size_t rawlen;
	uint8_t raw[64];
};
/* Decode the primitive at t[0..avail): KERI_OK, ETRUNCATED, ECESR or EPAD. */
int keri_prim_decode(const char *t, size_t avail, struct keri_prim *p, char *why,
                     size_t whylen);
/*
 * Check that s is exactly one 44-char primitive whose one-char code is in `codes`;
 * what names the field in the message. Returns KERI_OK or KERI_EFIELD/EPAD/ECESR.
 */
int keri_qb64_check(const char *s, size_t slen, const char *codes, const char *what,
                    char *why, size_t whylen);
/* Decode an indexed signature at t[0..avail); *fs gets its length. */
int keri_siger_decode(const char *t, size_t avail, struct keri_sig *s, size_t *fs,
                      char *why, size_t whylen);
/* Parse the attachments at buf[0..len) (up to the next '{'); *used gets their size. */
int keri_attach_parse(const uint8_t *buf, size_t len, struct keri_event *ev, size_t *used,
                      char *why, size_t whylen);

/* Canonical JSON scanning over body[0..len). */
struct keri_json {
	const uint8_t *b;
	size_t len, pos;
};
int keri_json_string(struct keri_json *j, size_t *off, size_t *slen, char *why,
                     size_t whylen);
int keri_json_skip(struct keri_json *j, int depth, char *why, size_t whylen);
int keri_json_expect(struct keri_json *j, char c, const char *ctx, char *why,
                     size_t whylen);

/* Thresholds: parse the JSON value at j into t (KERI_ETHRESHOLD on any misuse). */
int keri_tholder_parse(struct keri_json *j, struct keri_tholder *t, const char *what,
                       char *why, size_t whylen);
/* Check t against a list of `count` keys (kt: 1..count, weights within it). An nt is
 * checked only for well-formed weights: keripy checks it against nothing, so an nt
 * that n cannot meet is accepted and blocks every rotation. */
int keri_tholder_check(const struct keri_tholder *t, unsigned count, int is_next,
                       const char *what, char *why, size_t whylen);
/* 1 when the indices marked in `have` (bitmask over 0..31) satisfy t, else 0. As in
 * keripy, a weighted t is unmet when `have` marks an index beyond its weights. */
int keri_tholder_satisfied(const struct keri_tholder *t, uint32_t have);
/* Longest text keri_tholder_json writes for a threshold keri_tholder_parse accepts: 32
 * weights of at most "4294967294/4294967295" (23 characters quoted), each its own
 * clause (2 brackets), 31 commas, 2 outer brackets (hotcache.h's HC_KERI_SITH_MAX is
 * this plus the NUL). */
#define KERI_SITH_MAX (23 * KERI_MAX_KEYS + 2 * KERI_MAX_KEYS + (KERI_MAX_KEYS - 1) + 2)
/* Serialise t as keripy's sith JSON value into buf; returns the length or -1. */
int keri_tholder_json(const struct keri_tholder *t, char *buf, size_t cap);

/*
 * The -A (counter 'A') or -B ('B') group of n indexed signatures as CESR text into
 * out[0..cap): the shortest code of each (A/B with a one-char index, else 2A/2B).
 * Returns the length, or 0 when it does not fit (or n > 4095). Any thread; pure.
 */
size_t keri_sigs_encode(char counter, const struct keri_sig *s, unsigned n, char *out,
                        size_t cap);
/* The -G group of one seal source couple (sn as a 0A number, said) into
 * out[0..cap): "-GAB" and 68 characters; 0 when it does not fit or said is not 44
 * characters. Any thread; pure. */
size_t keri_src_encode(uint64_t sn, const char *said, char *out, size_t cap);
/* 0 when the Ed25519 signature sig over ev's body verifies under the qb64 key. */
int keri_verify_raw(const struct keri_event *ev, const uint8_t sig[64], const char *key);

/* Verify the SAID(s) of a parsed body: d, and i when dummy_i. */
int keri_said_verify(const uint8_t *body, size_t len, size_t d_off, size_t i_off,
                     int dummy_i, char *why, size_t whylen);

#ifdef __cplusplus
}
#endif
#endif /* HC_KERI_H */
