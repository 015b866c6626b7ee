/*
 * fuzz_keri: libFuzzer target for the KERI event and attachment parser, the rules of
 * keri_apply, the state JSON and the state codec. The input is a CESR stream: every
 * event that parses is applied (once with signature checks, whose result is only
 * checked for sanity, and once without, to get deep into the state rules); every
 * state reached must round-trip through keri_state_encode/decode exactly and render
 * as JSON. The raw input is also fed to keri_state_decode, which must either refuse
 * it or decode something that re-encodes to the same bytes (a format-1 record: to a
 * format-2 record of the same state).
 *
 * A mutated event almost never keeps a correct SAID, which would stop the fuzzer at
 * the SAID check; so an event refused with KERI_ESAID is also retried with its SAID
 * recomputed in a scratch copy (self-addressing `i` too), to reach the rules behind.
 *
 * Built with HC_FUZZ_REPLAY_MAIN it is a plain program that replays every file of the
 * directories given as arguments (the seed corpus, in ctest). The seeds: keripy's
 * vectors (vec*), the own vectors test_keri writes (own_*), and copies of whole
 * streams from tests/data: vec16_delegation_stream.cesr (dip, ixn anchors, -G
 * couples), own_witness_receipts_stream.cesr (rct with -B and -C) and
 * own_recovery_duplicity_stream.cesr (a superseding rot, a conflicting event).
 */
#include <assert.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keri/keri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_state(const struct keri_state *st)
{
	static uint8_t enc[KERI_STATE_ENC_MAX], enc2[KERI_STATE_ENC_MAX];
	static struct keri_state back;
	static char json[65536];
	size_t len, len2;
	char why[256];

	if (keri_state_encode(st, enc, sizeof(enc), &len) != KERI_OK)
		abort();
	if (keri_state_decode(enc, len, &back, why, sizeof(why)) != KERI_OK)
		abort();
	if (memcmp(&back, st, sizeof(back)) != 0)
		abort();
	if (keri_state_encode(&back, enc2, sizeof(enc2), &len2) != KERI_OK || len2 != len ||
	    memcmp(enc, enc2, len) != 0)
		abort();
	if (keri_state_json(st, "2021-01-01T00:00:00.000000+00:00", json, sizeof(json), &len))
		abort();
}

/* Recompute the SAID of the body at b[0..size) in place (the harness's own fix-up,
 * not the module's code path, so a bug in one does not hide in the other). */
static void fix_said(uint8_t *b, size_t size)
{
	uint8_t *d = memmem(b, size, ",\"d\":\"", 6);
	uint8_t *i = memmem(b, size, ",\"i\":\"", 6);
	char said[KERI_QB64 + 1];
	if (!d || (size_t)(d - b) + 6 + KERI_QB64 > size)
		return;
	d += 6;
	int self = i && (size_t)(i - b) + 6 + KERI_QB64 <= size &&
	           memcmp(i + 6, d, KERI_QB64) == 0;
	char code = (char)d[0];
	memset(d, '#', KERI_QB64);
	if (self)
		memset(i + 6, '#', KERI_QB64);
	if (keri_digest_qb64(code, b, size, said) != KERI_OK)
		return;
	memcpy(d, said, KERI_QB64);
	if (self)
		memcpy(i + 6, said, KERI_QB64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t scratch[1 << 20];
	static struct keri_state st[2], tmp;
	static struct keri_event ev;
	static uint8_t enc[KERI_STATE_ENC_MAX];
	char why[256];
	int cur = 0, have = 0;
	size_t off = 0;

	if (sodium_init() < 0)
		abort();
	while (off < size) {
		size_t used = 0;
		int rc = keri_parse(data + off, size - off, &ev, &used, why, sizeof(why));
		if (used > size - off || (rc < 0 && why[0] == 0))
			abort();
		if (rc == KERI_ESAID && used <= sizeof(scratch)) {
			size_t used2 = 0;
			memcpy(scratch, data + off, used);
			fix_said(scratch, ev.size);
			rc = keri_parse(scratch, used, &ev, &used2, why, sizeof(why));
			if (rc == KERI_OK && used2 != used)
				abort();
		}
		if (rc == KERI_OK) {
			/* The seal walk over any `a` the parser accepted: never past it. */
			if (keri_seal_anchors(&ev, ev.pre, ev.sn, ev.said) > 1 ||
			    (have && keri_seal_anchors(&ev, st[cur].pre, st[cur].sn, st[cur].d) > 1))
				abort();
			const struct keri_state *prior = have ? &st[cur] : NULL;
			int v = keri_apply(prior, &ev, &tmp, why, sizeof(why));
			int u = keri_apply_flags(prior, &ev, KERI_APPLY_SKIP_SIGS, &st[!cur], why,
			                         sizeof(why));
			/* Signature checks only ever add rejections. */
			if ((v == KERI_OK && u != KERI_OK) || (v == KERI_DUPLICATE && u != v))
				abort();
			if (u < 0 && why[0] == 0)
				abort();
			if (u == KERI_RECOVERY) {
				/* The stream's own p stands in for the caller's SAID at sn - 1. */
				v = keri_apply_recover(prior, &ev, 0, ev.prior, &tmp, why, sizeof(why));
				u = keri_apply_recover(prior, &ev, KERI_APPLY_SKIP_SIGS, ev.prior,
				                       &st[!cur], why, sizeof(why));
				if ((v == KERI_OK && u != KERI_OK) || (u < 0 && why[0] == 0) || u > 0)
					abort();
			}
			if (u == KERI_OK) {
				cur = !cur;
				have = 1;
				check_state(&st[cur]);
			}
		}
		if (used == 0)
			break;
		off += used;
	}
	struct keri_state d;
	if (keri_state_decode(data, size, &d, why, sizeof(why)) == KERI_OK) {
		size_t len;
		/* Format 2 re-encodes to the same bytes; format 1 (no delegator) to a
		 * format-2 record of the same state. */
		if (keri_state_encode(&d, enc, sizeof(enc), &len) != KERI_OK)
			abort();
		if (data[3] == '2' && (len != size || memcmp(enc, data, size) != 0))
			abort();
		struct keri_state d2;
		if (data[3] == '1' && (keri_state_decode(enc, len, &d2, why, sizeof(why)) != KERI_OK ||
		                       memcmp(&d, &d2, sizeof(d)) != 0 || d.di[0]))
			abort();
		check_state(&d);
	}
	return 0;
}

#ifdef HC_FUZZ_REPLAY_MAIN
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	if (!buf)
		return -1;
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0;
	for (int a = 1; a < argc; a++) {
		DIR *d = opendir(argv[a]);
		if (!d) {
			if (replay_file(argv[a]) == 0)
				files++;
			continue;
		}
		struct dirent *e;
		while ((e = readdir(d))) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[a], e->d_name);
			if (replay_file(path) != 0) {
				fprintf(stderr, "cannot read %s\n", path);
				closedir(d);
				return 1;
			}
			files++;
		}
		closedir(d);
	}
	printf("replayed %d inputs\n", files);
	return files > 0 ? 0 : 1;
}
#endif
