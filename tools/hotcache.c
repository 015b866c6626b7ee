/*
 * The hotcache command: the load test (tools/load.c) and the KEL tools.
 *
 *   hotcache load [options]                    (hotcache load --help)
 *   hotcache kel import FILE --store DIR       one line per message
 *   hotcache kel verify PREFIX --store DIR     replay the stored KEL, compare the state
 *   hotcache keystate PREFIX --store DIR [--json]
 *
 * Common options: --store DIR (backing.mode = rocksdb at DIR), --config FILE,
 * --set section.key=value (repeatable). Exit status: 0 success, 1 the operation
 * failed (a rejection, a mismatch), 2 bad arguments or configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotcache.h"
#include "tools/cli.h"

static int usage(FILE *f)
{
	fprintf(f, "usage: hotcache load [options]            (see hotcache load --help)\n"
	           "       hotcache kel import FILE --store DIR\n"
	           "       hotcache kel verify PREFIX --store DIR\n"
	           "       hotcache keystate PREFIX --store DIR [--json]\n"
	           "common options: --store DIR, --config FILE, --set section.key=value\n");
	return f == stderr ? 2 : 0;
}

int cli_config(struct hc_config *cfg, int *argc, char **argv, const char *store_default)
{
	char err[512];
	const char *store = store_default;
	int out = 1;
	/* No store until one is chosen: --store, --set backing.path or a config file's
	 * [backing] path. (The library's default, ./hotcache.db, is not the tools'.) */
	hc_config_default(cfg);
	cfg->backing_mode = HC_BACKING_NONE;
	cfg->backing_path[0] = '\0';
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < *argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--config") == 0 || strcmp(a, "--set") == 0 ||
		    strcmp(a, "--store") == 0) {
			if (v == NULL) {
				fprintf(stderr, "hotcache: %s needs a value\n", a);
				return 2;
			}
			i++;
			if (strcmp(a, "--config") == 0) {
				if (hc_config_load(cfg, v, err, sizeof(err)) != 0) {
					fprintf(stderr, "hotcache: %s\n", err);
					return 2;
				}
			} else if (strcmp(a, "--store") == 0) {
				store = v;
			} else {
				const char *eq = strchr(v, '=');
				char key[128];
				if (eq == NULL || (size_t)(eq - v) >= sizeof(key)) {
					fprintf(stderr, "hotcache: --set takes section.key=value, not '%s'\n",
					        v);
					return 2;
				}
				memcpy(key, v, (size_t)(eq - v));
				key[eq - v] = '\0';
				if (hc_config_set(cfg, key, eq + 1, err, sizeof(err)) != 0) {
					fprintf(stderr, "hotcache: --set %s\n", err);
					return 2;
				}
			}
			continue;
		}
		argv[out++] = argv[i];
	}
	*argc = out;
	argv[out] = NULL;
	if (store != NULL && hc_config_set(cfg, "backing.path", store, err, sizeof(err)) != 0) {
		fprintf(stderr, "hotcache: --store: %s\n", err);
		return 2;
	}
	if (cfg->backing_path[0] != '\0')
		cfg->backing_mode = HC_BACKING_ROCKSDB;
	return 0;
}

static int open_cache(const struct hc_config *cfg, hc_cache **c)
{
	if (cfg->backing_mode != HC_BACKING_ROCKSDB) {
		fprintf(stderr, "hotcache: this command needs a store: --store DIR\n");
		return 2;
	}
	int rc = hc_open(cfg, c);
	if (rc != 0) {
		fprintf(stderr, "hotcache: cannot open the store: %s\n", hc_last_error());
		return rc == HC_ECONFIG || rc == HC_EINVAL ? 2 : 1;
	}
	return 0;
}

static const char *outcome_word(int outcome)
{
	switch (outcome) {
	case HC_KEL_ACCEPTED: return "accepted";
	case HC_KEL_DUPLICATE: return "duplicate";
	case HC_KEL_RECEIPT: return "skipped receipt";
	default: return "rejected";
	}
}

static void print_event(const struct hc_kel_event *ev, void *arg)
{
	(void)arg;
	if (ev->outcome == HC_KEL_REJECTED)
		printf("@%zu %s %s sn=%llu: rejected: %s (%s)\n", ev->offset, ev->ilk[0] ? ev->ilk : "?",
		       ev->prefix[0] ? ev->prefix : "?", (unsigned long long)ev->sn, hc_strerror(ev->code),
		       ev->why);
	else
		printf("@%zu %s %s sn=%llu: %s\n", ev->offset, ev->ilk, ev->prefix,
		       (unsigned long long)ev->sn, outcome_word(ev->outcome));
}

static int kel_import(const struct hc_config *cfg, const char *file)
{
	FILE *f = fopen(file, "rb");
	if (f == NULL) {
		fprintf(stderr, "hotcache: cannot open %s: %s\n", file, strerror(errno));
		return 2;
	}
	size_t cap = 1 << 20, len = 0;
	unsigned char *buf = malloc(cap);
	size_t n;
	while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			unsigned char *nb = realloc(buf, cap *= 2);
			if (nb == NULL)
				free(buf);
			buf = nb;
		}
	}
	fclose(f);
	if (buf == NULL) {
		fprintf(stderr, "hotcache: out of memory reading %s\n", file);
		return 1;
	}
	hc_cache *c;
	int rc = open_cache(cfg, &c);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	struct hc_kel_report r = {.on_event = print_event};
	rc = hc_kel_import(c, buf, len, &r);
	printf("%llu messages: %llu accepted, %llu duplicates, %llu receipts, %llu rejected\n",
	       (unsigned long long)r.messages, (unsigned long long)r.accepted,
	       (unsigned long long)r.duplicates, (unsigned long long)r.receipts,
	       (unsigned long long)r.rejected);
	hc_close(c);
	free(buf);
	return rc == 0 ? 0 : 1;
}

static int kel_verify(const struct hc_config *cfg, const char *prefix)
{
	hc_cache *c;
	int rc = open_cache(cfg, &c);
	if (rc != 0)
		return rc;
	uint64_t events = 0;
	rc = hc_kel_verify(c, prefix, &events);
	if (rc == 0)
		printf("%s: %llu events verified, stored state matches\n", prefix,
		       (unsigned long long)events);
	else
		fprintf(stderr, "hotcache: %s: %s\n", prefix, hc_last_error());
	hc_close(c);
	return rc == 0 ? 0 : rc == HC_EINVAL ? 2 : 1;
}

static int keystate(const struct hc_config *cfg, const char *prefix, int json)
{
	hc_cache *c;
	int rc = open_cache(cfg, &c);
	if (rc != 0)
		return rc;
	if (json) {
		char buf[1 << 16];
		size_t len;
		rc = hc_keystate_json(c, prefix, buf, sizeof(buf), &len);
		if (rc == 0)
			printf("%s\n", buf);
	} else {
		struct hc_keystate ks;
		rc = hc_keystate_get(c, prefix, &ks);
		if (rc == 0) {
			printf("prefix %s\nsn     %llu (%s)\nsaid   %s\nkt     %s\nnt     %s\n",
			       ks.prefix, (unsigned long long)ks.sn, ks.ilk, ks.said, ks.kt, ks.nt);
			for (uint32_t i = 0; i < ks.nkeys; i++)
				printf("key    %s\n", ks.keys[i]);
			for (uint32_t i = 0; i < ks.nnext; i++)
				printf("next   %s\n", ks.next[i]);
			printf("bt     %u, %u witnesses\n", ks.bt, ks.nwits);
		}
	}
	if (rc != 0)
		fprintf(stderr, "hotcache: %s: %s\n", prefix,
		        rc == HC_ENOTFOUND ? "no key state stored" : hc_last_error());
	hc_close(c);
	return rc == 0 ? 0 : rc == HC_EINVAL ? 2 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return usage(stdout);
	if (strcmp(argv[1], "load") == 0)
		return load_main(argc - 1, argv + 1);
	struct hc_config cfg;
	int rc = cli_config(&cfg, &argc, argv, NULL);
	if (rc != 0)
		return rc;
	if (strcmp(argv[1], "kel") == 0 && argc == 4 && strcmp(argv[2], "import") == 0)
		return kel_import(&cfg, argv[3]);
	if (strcmp(argv[1], "kel") == 0 && argc == 4 && strcmp(argv[2], "verify") == 0)
		return kel_verify(&cfg, argv[3]);
	if (strcmp(argv[1], "keystate") == 0 && (argc == 3 || argc == 4)) {
		int json = argc == 4 && strcmp(argv[3], "--json") == 0;
		if (argc == 4 && !json)
			return usage(stderr);
		return keystate(&cfg, argv[2], json);
	}
	return usage(stderr);
}
