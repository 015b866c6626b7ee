/*
 * Fuzz target: the config parser (hc_config_parse, i.e. hc_config_load without the
 * file) and hc_config_set, on arbitrary bytes.
 *
 * Beyond "no crash, no sanitizer report", it checks the contract:
 *  - a failure is HC_ECONFIG, leaves cfg byte for byte as it was, and gives one
 *    printable sentence that starts with the file name and equals hc_last_error();
 *  - a success gives a cfg that hc_config_check accepts;
 *  - hc_config_set("<text before the first '='>", "<text after>") also fails without
 *    changing cfg, or succeeds.
 * Built as a libFuzzer target with -DHC_FUZZ=ON (clang), and in every build as
 * fuzz_config_replay, which runs the corpus through tests/fuzz/replay_main.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/config.h"
#include "hotcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz.ini"

static void require(int ok, const char *what, const char *err)
{
	if (!ok) {
		fprintf(stderr, "fuzz_config: contract broken: %s (message: %s)\n", what, err);
		abort();
	}
}

static void check_message(const char *err)
{
	require(err[0] != '\0', "empty message", err);
	require(strcmp(err, hc_last_error()) == 0, "err differs from hc_last_error", err);
	for (const char *p = err; *p; p++)
		require(*p >= 0x20 && *p < 0x7f, "unprintable byte in message", err);
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	struct hc_config cfg, before;
	char err[512];
	int rc;

	hc_config_default(&cfg);
	before = cfg;
	rc = hc_config_parse(&cfg, FUZZ_NAME, data, size, err, sizeof err);
	if (rc != HC_OK) {
		require(rc == HC_ECONFIG, "parse failed with a code other than HC_ECONFIG", err);
		require(memcmp(&cfg, &before, sizeof cfg) == 0, "failed parse changed cfg", err);
		require(strncmp(err, FUZZ_NAME ":", strlen(FUZZ_NAME ":")) == 0,
		        "message does not start with the file name", err);
		check_message(err);
	} else {
		require(hc_config_check(&cfg, err, sizeof err) == HC_OK,
		        "parse accepted what hc_config_check refuses", err);
	}
}

static void fuzz_set(const uint8_t *data, size_t size)
{
	const uint8_t *eq = memchr(data, '=', size);
	struct hc_config cfg, before;
	char err[512], *key, *value;
	size_t klen;
	int rc;

	if (eq == NULL)
		return;
	klen = (size_t)(eq - data);
	key = malloc(klen + 1);
	value = malloc(size - klen);
	if (key == NULL || value == NULL) {
		free(key);
		free(value);
		return;
	}
	memcpy(key, data, klen);
	key[klen] = '\0';
	memcpy(value, eq + 1, size - klen - 1);
	value[size - klen - 1] = '\0';
	hc_config_default(&cfg);
	before = cfg;
	rc = hc_config_set(&cfg, key, value, err, sizeof err);
	if (rc != HC_OK) {
		require(rc == HC_ECONFIG, "set failed with a code other than HC_ECONFIG", err);
		require(memcmp(&cfg, &before, sizeof cfg) == 0, "failed set changed cfg", err);
		check_message(err);
	}
	free(key);
	free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse(data, size);
	fuzz_set(data, size);
	return 0;
}
