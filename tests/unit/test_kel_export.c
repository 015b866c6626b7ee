/*
 * test_kel_export: hc_kel_export round-trips (issue 13, point 3). keripy's vectors are
 * imported into one store, exported, and the export imported into a fresh store: every
 * message is accepted, the key state's KeyStateRecord is the same byte for byte (but for
 * dt, the first-seen time, which is the receiving node's own) and hc_kel_verify passes.
 * The export of the keripy streams is also byte-identical to the stream imported, as
 * they carry nothing the store drops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hotcache.h"
#include "tests/unit/testutil.h"
#include "tests/unit/vectors.h"

struct sink {
	unsigned char buf[1 << 16];
	size_t len;
	unsigned calls, stop_after;
};

static int collect(const void *msg, size_t len, void *arg)
{
	struct sink *s = arg;
	if (s->len + len > sizeof s->buf)
		return HC_ERANGE;
	memcpy(s->buf + s->len, msg, len);
	s->len += len;
	if (++s->calls == s->stop_after)
		return 42;
	return 0;
}

/* The KeyStateRecord with its "dt":"..." value blanked. */
static void state_json(hc_cache *c, const char *pre, char *out, size_t cap)
{
	size_t len = 0;
	assert_int_equal(hc_keystate_json(c, pre, out, cap, &len), 0);
	char *dt = strstr(out, "\"dt\":\"");
	assert_non_null(dt);
	for (char *p = dt + 6; *p != '\0' && *p != '"'; p++)
		*p = '_';
}

static void round_trip(const char *file, const char *pre, uint64_t events)
{
	static unsigned char in[1 << 16];
	size_t n = vectors_read(file, in, sizeof in);
	char a_path[300], b_path[300];
	if (testutil_dir_make(a_path, sizeof a_path, "hc-kel-export-a") != 0 ||
	    testutil_dir_make(b_path, sizeof b_path, "hc-kel-export-b") != 0)
		fail_msg("mkdtemp");
	hc_cache *a = testutil_open_rocks(a_path, "none", 16u << 20);
	struct hc_kel_report r = {0};
	assert_int_equal(hc_kel_import(a, in, n, &r), 0);
	assert_int_equal(r.accepted, events);

	static struct sink s;
	memset(&s, 0, sizeof s);
	uint64_t out = 0;
	assert_int_equal(hc_kel_export(a, pre, collect, &s, &out), 0);
	assert_int_equal(out, events);
	assert_int_equal(s.calls, events);
	/* keripy's streams carry nothing the store drops: the export is the input. */
	assert_int_equal(s.len, n);
	assert_memory_equal(s.buf, in, n);

	hc_cache *b = testutil_open_rocks(b_path, "none", 16u << 20);
	memset(&r, 0, sizeof r);
	assert_int_equal(hc_kel_import(b, s.buf, s.len, &r), 0);
	assert_int_equal(r.accepted, events);
	static char ja[8192], jb[8192];
	state_json(a, pre, ja, sizeof ja);
	state_json(b, pre, jb, sizeof jb);
	assert_string_equal(ja, jb);
	uint64_t replayed = 0;
	assert_int_equal(hc_kel_verify(b, pre, &replayed), 0);
	assert_int_equal(replayed, events);

	/* The callback's non-zero return stops the export and is returned. */
	memset(&s, 0, sizeof s);
	s.stop_after = 1;
	assert_int_equal(hc_kel_export(a, pre, collect, &s, &out), 42);
	assert_int_equal(out, 0);
	hc_close(a);
	hc_close(b);
	testutil_dir_remove(a_path);
	testutil_dir_remove(b_path);
}

static void keripy_direct_mode_round_trips(void **state)
{
	(void)state;
	round_trip("01_direct_mode_coe_icp_rot_ixn.cesr",
	           "EJe_sKQb1otKrz6COIL8VFvBv3DEFvtKaVFGn1vm0IlL", 3);
}

static void keripy_weighted_kels_round_trip(void **state)
{
	(void)state;
	round_trip("04_replay_deb_weighted_kel.cesr",
	           "ELfp9ZhqQCGov3wPRLa6vn5VkIQjug2sb2QD17T-TIpY", 7);
	round_trip("07_weighted_wes_kel.cesr", "EIL2dvwm6lYAsyKKtzxIEFm51gSfwe3IIZSx8kI8ve7_", 5);
}

static int no_receipt(const struct hc_kel_receipt *r, void *arg)
{
	(void)r, (void)arg;
	fail_msg("a receipt of an unknown identifier");
	return 0;
}

static void unknown_prefix_and_bad_arguments(void **state)
{
	(void)state;
	hc_cache *c = testutil_open_rocks(testutil_dir, "none", 16u << 20);
	static struct sink s;
	uint64_t out = 7;
	assert_int_equal(hc_kel_export(c, "EJe_sKQb1otKrz6COIL8VFvBv3DEFvtKaVFGn1vm0IlL", collect,
	                               &s, &out), HC_ENOTFOUND);
	assert_int_equal(out, 0);
	assert_int_equal(hc_kel_export(c, "short", collect, &s, NULL), HC_EINVAL);
	assert_int_equal(hc_kel_export(c, NULL, collect, &s, NULL), HC_EINVAL);
	assert_int_equal(s.calls, 0);
	/* HC_ENOTFOUND is an answer and leaves hc_last_error() alone (README), for the KEL
	 * calls as for hc_get; until 2026-12-07 export, export_first_seen, verify and
	 * receipts each wrote a sentence over the caller's. */
	const char *unknown = "EJe_sKQb1otKrz6COIL8VFvBv3DEFvtKaVFGn1vm0IlL";
	char before[256];
	assert_int_equal(hc_kel_export(c, "short", collect, &s, NULL), HC_EINVAL);
	snprintf(before, sizeof before, "%s", hc_last_error());
	assert_true(before[0] != '\0');
	uint64_t n = 0;
	assert_int_equal(hc_kel_export(c, unknown, collect, &s, NULL), HC_ENOTFOUND);
	assert_string_equal(hc_last_error(), before);
	assert_int_equal(hc_kel_export_first_seen(c, unknown, collect, &s, NULL), HC_ENOTFOUND);
	assert_string_equal(hc_last_error(), before);
	assert_int_equal(hc_kel_verify(c, unknown, &n), HC_ENOTFOUND);
	assert_string_equal(hc_last_error(), before);
	assert_int_equal(hc_kel_receipts(c, unknown, 0, no_receipt, NULL, &n), HC_ENOTFOUND);
	assert_string_equal(hc_last_error(), before);
	size_t vlen;
	char buf[8];
	assert_int_equal(hc_get(c, "absent", 6, buf, sizeof buf, &vlen), HC_ENOTFOUND);
	assert_string_equal(hc_last_error(), before);
	hc_close(c);
}

struct seen {
	char pre[4][45];
	int n, stop_at;
};

static int note_prefix(const char *prefix, void *arg)
{
	struct seen *s = arg;
	assert_int_equal(strlen(prefix), 44);
	snprintf(s->pre[s->n], sizeof s->pre[0], "%s", prefix);
	return ++s->n == s->stop_at ? 7 : 0;
}

/* hc_keystate_foreach names every identifier once, in key order; fn's non-zero stops. */
static void keystate_foreach_lists_every_identifier(void **state)
{
	(void)state;
	hc_cache *c = testutil_open_rocks(testutil_dir, "none", 16u << 20);
	static unsigned char in[1 << 16];
	const char *files[] = {"07_weighted_wes_kel.cesr", "01_direct_mode_coe_icp_rot_ixn.cesr",
	                       "04_replay_deb_weighted_kel.cesr"};
	for (int i = 0; i < 3; i++) {
		size_t n = vectors_read(files[i], in, sizeof in);
		struct hc_kel_report r = {0};
		assert_int_equal(hc_kel_import(c, in, n, &r), 0);
	}
	struct seen s = {.stop_at = -1};
	uint64_t count = 0;
	assert_int_equal(hc_keystate_foreach(c, note_prefix, &s, &count), 0);
	assert_int_equal(count, 3);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.pre[0], "EIL2dvwm6lYAsyKKtzxIEFm51gSfwe3IIZSx8kI8ve7_");
	assert_string_equal(s.pre[1], "EJe_sKQb1otKrz6COIL8VFvBv3DEFvtKaVFGn1vm0IlL");
	assert_string_equal(s.pre[2], "ELfp9ZhqQCGov3wPRLa6vn5VkIQjug2sb2QD17T-TIpY");
	memset(&s, 0, sizeof s);
	s.stop_at = 2;
	assert_int_equal(hc_keystate_foreach(c, note_prefix, &s, &count), 7);
	assert_int_equal(s.n, 2);
	hc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(keripy_direct_mode_round_trips, testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(keripy_weighted_kels_round_trip, testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(unknown_prefix_and_bad_arguments, testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(keystate_foreach_lists_every_identifier, testutil_setup,
		                                testutil_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
