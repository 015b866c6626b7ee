/*
 * The hotcache command: the load test (tools/load.c) and the KEL tools.
 *
 *   hotcache load [options]                    (hotcache load --help)
 *   hotcache kel import FILE --store DIR [--own PREFIX] [--witness PREFIX]
 *                                              one line per message
 *   hotcache kel verify PREFIX --store DIR     replay the stored KEL, compare the state,
 *                                              rewrite a state that differs
 *   hotcache keystate PREFIX --store DIR [--json]
 *   hotcache stats --store DIR                 the store's and a fresh cache's figures
 *   hotcache kel export PREFIX|--all --store DIR [--first-seen]   the KEL(s) as CESR
 *   hotcache kel duplicity PREFIX --store DIR  the signed duplicity evidence, stdout
 *   hotcache backup --store DIR --to COPY [--with-key]   an offline copy (hc_checkpoint)
 *   hotcache restore --from COPY --store DIR  a backup put in place as a new store
 *   hotcache --version, hotcache CMD --help
 *
 * Common options: --store DIR (backing.mode = rocksdb at DIR), --config FILE,
 * --set section.key=value (repeatable). Exit status: 0 success, 1 the operation
 * failed (a rejection, a mismatch), 2 bad arguments or configuration.
 *
 * The read commands (keystate, kel verify, kel export, stats) open the store as a RocksDB
 * secondary unless backing.open says read_only: no lock is taken, so they work while a
 * daemon holds the store, and they never create a store (a mistyped --store is an
 * error). kel import opens it as primary and creates it when absent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotcache.h"
#include "tools/cli.h"

static const char common_help[] =
	"common options: --store DIR, --config FILE, --set section.key=value (repeatable)\n";

static int usage(FILE *f)
{
	fprintf(f, "usage: hotcache load [options]            (see hotcache load --help)\n"
	           "       hotcache kel import FILE --store DIR [--own PREFIX] [--witness PREFIX]\n"
	           "       hotcache kel verify PREFIX --store DIR\n"
	           "       hotcache keystate PREFIX --store DIR [--json]\n"
	           "       hotcache stats --store DIR\n"
	           "       hotcache kel export PREFIX|--all --store DIR [--first-seen]\n"
	           "       hotcache kel duplicity PREFIX --store DIR\n"
	           "       hotcache backup --store DIR --to COPY [--with-key]\n"
	           "       hotcache restore --from COPY --store DIR\n"
	           "       hotcache --version\n"
	           "%s", common_help);
	return f == stderr ? 2 : 0;
}

/* One command's help, on stdout; exit status 0. */
static int command_help(const char *cmd)
{
	static const struct {
		const char *cmd, *text;
	} help[] = {
		{ "kel import", "usage: hotcache kel import FILE --store DIR [--own PREFIX] "
		  "[--witness PREFIX]\n"
		  "Appends every message of the CESR stream in FILE to the store (created when\n"
		  "absent, as primary), one line per message: accepted, duplicate, receipt\n"
		  "stored, receipt rejected, escrowed (with the reason: out of order, partially\n"
		  "signed, partially witnessed), or the rejection; escrowed messages promoted\n"
		  "later are counted at the end. --own and --witness (repeatable: keri.own and\n"
		  "keri.witness) name the node's own and witness identifiers, whose events need\n"
		  "no witness receipts. Exit 1 when any message was rejected.\n" },
		{ "kel verify", "usage: hotcache kel verify PREFIX --store DIR\n"
		  "Replays every event PREFIX accepted, in first-seen order, and compares the\n"
		  "result with the stored key state. Opens the store as a secondary (no lock:\n"
		  "works beside a running daemon); never creates one. When only the stored\n"
		  "state differs (an older record restored, which reads refuse), it reopens the\n"
		  "store as primary and rewrites the state from the replay (hc_kel_repair);\n"
		  "not with backing.open = read_only. Exit 1 on a mismatch not repaired.\n" },
		{ "keystate", "usage: hotcache keystate PREFIX --store DIR [--json]\n"
		  "Prints PREFIX's key state (--json: keripy's KeyStateRecord, one line). Opens\n"
		  "the store as a secondary (no lock); never creates one.\n" },
		{ "kel export", "usage: hotcache kel export PREFIX|--all --store DIR "
		  "[--first-seen]\n"
		  "Writes PREFIX's stored KEL (--all: every identifier's, one after another) to\n"
		  "stdout as a CESR stream: the accepted branch in sn order (events a recovery\n"
		  "rotation superseded are left out; with --first-seen, every event accepted,\n"
		  "superseded ones included, in the order it was accepted, which an import\n"
		  "replays into the same state),\n"
		  "each event with the signatures it was accepted with: the form kel import\n"
		  "and keripy's Kevery ingest. Opens the store as a secondary (no lock); never\n"
		  "creates one.\n" },
		{ "kel duplicity", "usage: hotcache kel duplicity PREFIX --store DIR\n"
		  "Writes the duplicity evidence kept for PREFIX to stdout as a CESR stream: for\n"
		  "each conflicting event that was signed to threshold by the keys of its sn,\n"
		  "the accepted event then the conflicting one, each with its signatures; one\n"
		  "line per pair on stderr. Opens the store as a secondary (no lock); never\n"
		  "creates one.\n" },
		{ "backup", "usage: hotcache backup --store DIR --to COPY [--with-key]\n"
		  "Writes a consistent copy of the store into the new directory COPY (hard links\n"
		  "where possible). --with-key also writes the data key to COPY.key (mode 0600);\n"
		  "without it the copy opens only with the store's own key file. Needs the\n"
		  "store's lock: a running daemon takes its backups with hc_checkpoint().\n" },
		{ "restore", "usage: hotcache restore --from COPY --store DIR\n"
		  "Copies the backup COPY into DIR, which must not exist, and COPY.key (if the\n"
		  "backup has one) to DIR.key, then opens the result to check it. The backup is\n"
		  "left as it was.\n" },
		{ "stats", "usage: hotcache stats --store DIR\n"
		  "Opens the store as a secondary (no lock; never creates one) and prints the\n"
		  "hc_stats figures, one 'name value' line each.\n" },
	};
	for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++) {
		if (strcmp(help[i].cmd, cmd) == 0) {
			printf("%s%s", help[i].text, common_help);
			return 0;
		}
	}
	return usage(stdout);
}

static int has_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int cli_config(struct hc_config *cfg, int *argc, char **argv, const char *store_default)
{
	char err[512];
	const char *store = store_default;
	int out = 1;
	/* No store until one is chosen: --store, --set backing.path or a config file's
	 * [backing] path; until then backing.mode = none. */
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
		/* the sentence already says what could not be opened */
		fprintf(stderr, "hotcache: %s\n", hc_last_error());
		return rc == HC_ECONFIG || rc == HC_EINVAL ? 2 : 1;
	}
	return 0;
}

/* The read commands: never the write lock, never a new store (backing.open). */
static void for_reading(struct hc_config *cfg)
{
	if (cfg->open_mode == HC_OPEN_PRIMARY)
		cfg->open_mode = HC_OPEN_SECONDARY;
	cfg->create_if_missing = 0;
}

static int stats(const struct hc_config *cfg)
{
	hc_cache *c;
	int rc = open_cache(cfg, &c);
	if (rc != 0)
		return rc;
	struct hc_stats st;
	rc = hc_stats(c, &st);
	if (rc != 0) {
		fprintf(stderr, "hotcache: %s\n", hc_last_error());
		hc_close(c);
		return 1;
	}
	const struct {
		const char *name;
		uint64_t v;
	} rows[] = {
		{ "hits", st.hits }, { "misses", st.misses }, { "inserts", st.inserts },
		{ "evictions", st.evictions }, { "deletes", st.deletes },
		{ "not_cached", st.not_cached }, { "loads", st.loads },
		{ "load_waits", st.load_waits }, { "corrupt", st.corrupt },
		{ "entries", st.entries }, { "accounted_bytes", st.accounted_bytes },
		{ "retired_bytes", st.retired_bytes }, { "metadata_bytes", st.metadata_bytes },
		{ "memory_limit", st.memory_limit }, { "slack_bytes", st.slack_bytes },
		{ "shards", st.shards }, { "store_corrupt", st.store_corrupt },
		{ "store_payload_records", st.store_payload_records },
		{ "store_kel_records", st.store_kel_records },
		{ "store_keystate_records", st.store_keystate_records },
		{ "store_sst_bytes", st.store_sst_bytes },
		{ "escrowed", st.escrowed }, { "promoted", st.promoted },
		{ "expired", st.expired }, { "escrow_evicted", st.escrow_evicted },
		{ "escrow_bytes", st.escrow_bytes }, { "escrow_entries", st.escrow_entries },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		printf("%s %llu\n", rows[i].name, (unsigned long long)rows[i].v);
	hc_close(c);
	return 0;
}

static const char *outcome_word(int outcome)
{
	switch (outcome) {
	case HC_KEL_ACCEPTED: return "accepted";
	case HC_KEL_DUPLICATE: return "duplicate";
	case HC_KEL_RECEIPT: return "receipt stored";
	case HC_KEL_ESCROWED: return "escrowed";
	default: return "rejected";
	}
}

static void print_event(const struct hc_kel_event *ev, void *arg)
{
	(void)arg;
	if (ev->outcome == HC_KEL_REJECTED && strncmp(ev->why, "receipt rejected: ", 18) == 0)
		printf("@%zu rct %s sn=%llu: %s\n", ev->offset, ev->prefix[0] ? ev->prefix : "?",
		       (unsigned long long)ev->sn, ev->why);
	else if (ev->outcome == HC_KEL_RECEIPT)
		printf("@%zu rct %s sn=%llu: %s\n", ev->offset, ev->prefix, (unsigned long long)ev->sn,
		       ev->why);
	else if (ev->outcome == HC_KEL_ESCROWED)
		printf("@%zu %s %s sn=%llu: escrowed: %s (%s)\n", ev->offset, ev->ilk, ev->prefix,
		       (unsigned long long)ev->sn, hc_strerror(ev->code), ev->why);
	else if (ev->outcome == HC_KEL_REJECTED)
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
	/* A directory opens for reading on Linux and reads as an error (EISDIR): refused
	 * before any store is opened or created (until 2026-12-07 it imported "0
	 * messages" into a new store). */
	int read_failed = buf != NULL && ferror(f), read_err = errno;
	fclose(f);
	if (read_failed) {
		free(buf);
		fprintf(stderr, "hotcache: cannot read %s: %s\n", file,
		        strerror(read_err != 0 ? read_err : EIO));
		return 2;
	}
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
	printf("%llu messages: %llu accepted, %llu duplicates, %llu receipts, %llu rejected, "
	       "%llu escrowed (%llu promoted)\n",
	       (unsigned long long)r.messages, (unsigned long long)r.accepted,
	       (unsigned long long)r.duplicates, (unsigned long long)r.receipts,
	       (unsigned long long)r.rejected, (unsigned long long)r.escrowed,
	       (unsigned long long)r.promoted);
	hc_close(c);
	free(buf);
	return rc == 0 ? 0 : 1;
}

/* The stored state differs from the replay: rewrite it (hc_kel_repair), as primary. */
static int kel_repair(struct hc_config *cfg, const char *prefix)
{
	cfg->open_mode = HC_OPEN_PRIMARY;
	cfg->create_if_missing = 0;
	hc_cache *c;
	int rc = open_cache(cfg, &c);
	if (rc != 0) {
		fprintf(stderr, "hotcache: %s: not repaired: the store cannot be opened for "
		        "writing (a daemon holding it can call hc_kel_repair)\n", prefix);
		return 1;
	}
	uint64_t events = 0;
	int rewritten = 0;
	rc = hc_kel_repair(c, prefix, &events, &rewritten);
	if (rc == 0)
		printf("%s: %s from the replay of %llu events\n", prefix,
		       rewritten ? "repaired: stored key state rewritten" : "nothing to repair",
		       (unsigned long long)events);
	else
		fprintf(stderr, "hotcache: %s: not repaired: %s\n", prefix, hc_last_error());
	hc_close(c);
	return rc == 0 ? 0 : 1;
}

/* What went wrong with a KEL call: HC_ENOTFOUND sets no sentence (it is an answer), so
 * it gets one here (until 2026-12-07 kel verify and kel export printed "PREFIX: "). */
static const char *kel_error(int rc)
{
	return rc == HC_ENOTFOUND ? "no key event log stored" : hc_last_error();
}

static int kel_verify(const struct hc_config *cfg, const char *prefix, int may_repair)
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
		fprintf(stderr, "hotcache: %s: %s\n", prefix, kel_error(rc));
	hc_close(c);
	if (rc == HC_ECORRUPT && may_repair) {
		struct hc_config w = *cfg;
		return kel_repair(&w, prefix);
	}
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

static int export_write(const void *msg, size_t len, void *arg)
{
	(void)arg;
	return fwrite(msg, 1, len, stdout) == len ? 0 : HC_EIO;
}

static int export_first_seen; /* kel export --first-seen */

static int export_one(hc_cache *c, const char *prefix)
{
	uint64_t events = 0;
	int rc = export_first_seen
	                 ? hc_kel_export_first_seen(c, prefix, export_write, NULL, &events)
	                 : hc_kel_export(c, prefix, export_write, NULL, &events);
	if (rc == 0 && fflush(stdout) != 0)
		rc = HC_EIO;
	if (rc != 0)
		fprintf(stderr, "hotcache: %s: %s\n", prefix,
		        rc == HC_EIO ? "cannot write the export" : kel_error(rc));
	return rc;
}

static int export_each(const char *prefix, void *arg)
{
	return export_one(arg, prefix);
}

/* prefix NULL: every identifier with a key state, one KEL after another. */
static int kel_export(const struct hc_config *cfg, const char *prefix)
{
	hc_cache *c;
	int rc = open_cache(cfg, &c);
	if (rc != 0)
		return rc;
	if (prefix != NULL) {
		rc = export_one(c, prefix);
	} else {
		rc = hc_keystate_foreach(c, export_each, c, NULL);
		if (rc == HC_EIO && hc_last_error()[0] != '\0')
			fprintf(stderr, "hotcache: %s\n", hc_last_error());
	}
	hc_close(c);
	return rc == 0 ? 0 : rc == HC_EINVAL ? 2 : 1;
}

/* One recorded conflict: both messages to stdout (accepted first), a line to stderr. */
static int duplicity_pair(uint64_t sn, const void *held, size_t hlen, const void *other,
                          size_t olen, void *arg)
{
	const char *prefix = arg;
	if (fwrite(held, 1, hlen, stdout) != hlen || fwrite(other, 1, olen, stdout) != olen)
		return HC_EIO;
	fprintf(stderr, "hotcache: %s sn %llu: duplicity (the accepted event, then the "
	        "conflicting one)\n", prefix, (unsigned long long)sn);
	return 0;
}

static int kel_duplicity(const struct hc_config *cfg, const char *prefix)
{
	hc_cache *c;
	int rc = open_cache(cfg, &c);
	if (rc != 0)
		return rc;
	uint64_t n = 0;
	rc = hc_kel_duplicity(c, prefix, duplicity_pair, (void *)prefix, &n);
	if (rc == 0 && fflush(stdout) != 0)
		rc = HC_EIO;
	if (rc == 0)
		fprintf(stderr, "hotcache: %s: %llu conflicting event(s) recorded\n", prefix,
		        (unsigned long long)n);
	else
		fprintf(stderr, "hotcache: %s: %s\n", prefix,
		        rc == HC_EIO ? "cannot write the evidence" : hc_last_error());
	hc_close(c);
	return rc == 0 ? 0 : rc == HC_EINVAL ? 2 : 1;
}

/* backup: the store's own lock (a checkpoint needs a primary), never a new store. */
static int backup(struct hc_config *cfg, const char *to, int with_key)
{
	char key[HC_PATH_MAX + 8];
	cfg->create_if_missing = 0;
	hc_cache *c;
	int rc = open_cache(cfg, &c);
	if (rc != 0)
		return rc;
	snprintf(key, sizeof(key), "%s.key", to);
	rc = hc_checkpoint(c, to, with_key ? key : NULL);
	if (rc == 0)
		printf("backup of %s in %s%s%s\n", cfg->backing_path, to,
		       with_key ? ", key in " : " (no key: open it with the store's key file)",
		       with_key ? key : "");
	else
		fprintf(stderr, "hotcache: %s\n", hc_last_error());
	hc_close(c);
	return rc == 0 ? 0 : rc == HC_EEXIST ? 2 : 1;
}

/* Copies the regular file from to the new file to (mode, fsync'd). 0 or -1 (errno);
 * *created says whether to is a file this call made (O_EXCL: a name that exists,
 * a dangling symlink included, is never written nor created), so that an undo
 * removes only that. */
static int copy_file(const char *from, const char *to, mode_t mode, int *created)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, ok = 0;
	if (in >= 0)
		out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	*created = out >= 0;
	if (out >= 0) {
		char buf[1 << 16];
		ssize_t r;
		while ((r = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)r) != r)
				break;
		ok = r == 0 && fsync(out) == 0;
	}
	int saved = errno;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	errno = saved;
	return ok ? 0 : -1;
}

/* Removes what a failed restore made: the files in dir and dir, and the key file
 * when it copied one. */
static void restore_undo(const char *dir, const char *key_copied)
{
	char path[2 * HC_PATH_MAX];
	DIR *d = opendir(dir);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			(void)unlink(path);
		}
		closedir(d);
	}
	(void)rmdir(dir);
	if (key_copied != NULL)
		(void)unlink(key_copied);
}

/* restore: COPY's files into the new directory DIR (and COPY.key to DIR.key). It
 * changes nothing unless it succeeds: what it cannot check before copying (the copy
 * itself, the store opening with its key) it undoes on failure. Until 2026-12-07 a
 * failed restore left the new directory, so a retry failed with "exists". */
static int restore(struct hc_config *cfg, const char *from)
{
	const char *dir = cfg->backing_path;
	char src[2 * HC_PATH_MAX], dst[2 * HC_PATH_MAX];
	struct stat st;
	/* lstat: a dangling symlink (a key volume not mounted yet) is there too. Until
	 * 2026-12-07 stat passed one, the copy's O_EXCL refused it, and the undo removed
	 * the symlink as if it were the key restore had copied. */
	if (lstat(dir, &st) == 0) {
		fprintf(stderr, "hotcache: %s exists: restore makes a new store\n", dir);
		return 2;
	}
	snprintf(dst, sizeof(dst), "%s.key", dir);
	if (lstat(dst, &st) == 0) {
		fprintf(stderr, "hotcache: the key file %s exists: restore makes a new store\n",
		        dst);
		return 2;
	}
	snprintf(src, sizeof(src), "%s/CURRENT", from);
	if (stat(from, &st) == 0 && S_ISDIR(st.st_mode) && stat(src, &st) != 0) {
		fprintf(stderr, "hotcache: %s is not a backup (no CURRENT file)\n", from);
		return 2;
	}
	snprintf(src, sizeof(src), "%s.key", from);
	int have_key = stat(src, &st) == 0;
	if (!have_key && cfg->key_file[0] == '\0') {
		fprintf(stderr, "hotcache: the backup has no key file (%s): give the store's key "
		        "with --set crypto.key_file=FILE, or back up --with-key\n", src);
		return 2;
	}
	DIR *d = opendir(from);
	if (d == NULL) {
		fprintf(stderr, "hotcache: cannot read the backup %s: %s\n", from, strerror(errno));
		return 2;
	}
	if (mkdir(dir, 0700) != 0) {
		fprintf(stderr, "hotcache: cannot create %s: %s\n", dir, strerror(errno));
		closedir(d);
		return 1;
	}
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		snprintf(src, sizeof(src), "%s/%s", from, e->d_name);
		if (stat(src, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		snprintf(dst, sizeof(dst), "%s/%s", dir, e->d_name);
		int created; /* in the directory restore made: the undo empties it whole */
		if (copy_file(src, dst, 0600, &created) != 0) {
			fprintf(stderr, "hotcache: cannot copy %s to %s: %s\n", src, dst,
			        strerror(errno));
			rc = 1;
		}
	}
	closedir(d);
	snprintf(src, sizeof(src), "%s.key", from);
	snprintf(dst, sizeof(dst), "%s.key", dir);
	const char *key_copied = NULL;
	if (rc == 0 && have_key) {
		int created;
		if (copy_file(src, dst, 0600, &created) != 0) {
			fprintf(stderr, "hotcache: cannot copy %s to %s: %s\n", src, dst,
			        strerror(errno));
			rc = 1;
		}
		/* A partial copy is removed too; a file another process made after the
		 * check above is not (O_EXCL failed: created is 0). */
		if (created)
			key_copied = dst;
	}
	/* Open what was restored, as a daemon will: the store and its key must agree. */
	hc_cache *c;
	if (rc == 0) {
		cfg->create_if_missing = 0;
		cfg->open_mode = HC_OPEN_READ_ONLY;
		if ((rc = open_cache(cfg, &c)) == 0)
			hc_close(c);
	}
	if (rc != 0) {
		restore_undo(dir, key_copied);
		fprintf(stderr, "hotcache: nothing restored: %s%s%s removed\n", dir,
		        key_copied != NULL ? " and " : "", key_copied != NULL ? key_copied : "");
		return rc;
	}
	printf("restored %s into %s\n", from, dir);
	return 0;
}

/* "--to X" / "--from X" taken out of argv; NULL when absent. */
static const char *take_opt(int *argc, char **argv, const char *name)
{
	for (int i = 1; i + 1 < *argc; i++) {
		if (strcmp(argv[i], name) == 0) {
			const char *v = argv[i + 1];
			for (int j = i; j + 2 <= *argc; j++)
				argv[j] = argv[j + 2];
			*argc -= 2;
			return v;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return usage(stdout);
	if (strcmp(argv[1], "--version") == 0) {
		printf("hotcache %s\n", hc_version(NULL, NULL, NULL));
		return 0;
	}
	if (strcmp(argv[1], "load") == 0)
		return load_main(argc - 1, argv + 1);
	const char *cmd = argv[1];
	int kel = strcmp(cmd, "kel") == 0;
	if (kel && (argc < 3 || (strcmp(argv[2], "import") != 0 &&
	                         strcmp(argv[2], "verify") != 0 &&
	                         strcmp(argv[2], "duplicity") != 0 &&
	                         strcmp(argv[2], "export") != 0))) {
		if (argc >= 3 && has_help(argc, argv) && argv[2][0] == '-')
			return usage(stdout);
		fprintf(stderr, "hotcache: unknown command 'kel %s' (kel import, kel verify, kel "
		        "export, kel duplicity; see hotcache --help)\n", argc >= 3 ? argv[2] : "");
		return 2;
	}
	if (!kel && strcmp(cmd, "keystate") != 0 && strcmp(cmd, "stats") != 0 &&
	    strcmp(cmd, "backup") != 0 && strcmp(cmd, "restore") != 0) {
		fprintf(stderr, "hotcache: unknown command '%s' (load, kel import, kel verify, "
		        "kel export, keystate, stats, backup, restore; see hotcache --help)\n",
		        cmd);
		return 2;
	}
	if (has_help(argc, argv)) {
		char sub[32];
		snprintf(sub, sizeof(sub), "kel %s", kel ? argv[2] : "");
		return command_help(kel ? sub : cmd);
	}
	const char *to = take_opt(&argc, argv, "--to");
	const char *from = take_opt(&argc, argv, "--from");
	/* --own / --witness (repeatable): added to keri.own / keri.witness. */
	const char *own[HC_KERI_LOCAL_MAX + 1], *wit[HC_KERI_LOCAL_MAX + 1];
	size_t n_own = 0, n_wit = 0;
	const char *v;
	while (n_own <= HC_KERI_LOCAL_MAX && (v = take_opt(&argc, argv, "--own")) != NULL)
		own[n_own++] = v;
	while (n_wit <= HC_KERI_LOCAL_MAX && (v = take_opt(&argc, argv, "--witness")) != NULL)
		wit[n_wit++] = v;
	if ((n_own || n_wit) && !(kel && argc >= 3 && strcmp(argv[2], "import") == 0)) {
		fprintf(stderr, "hotcache: --own and --witness belong to kel import\n");
		return 2;
	}
	struct hc_config cfg;
	int rc = cli_config(&cfg, &argc, argv, NULL);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n_own + n_wit; i++) {
		char err[512];
		const char *key = i < n_own ? "keri.own" : "keri.witness";
		if (hc_config_set(&cfg, key, i < n_own ? own[i] : wit[i - n_own], err,
		                  sizeof(err)) != 0) {
			fprintf(stderr, "hotcache: %s\n", err);
			return 2;
		}
	}
	if (kel && argc == 4 && strcmp(argv[2], "import") == 0)
		return kel_import(&cfg, argv[3]);
	if (kel && argc == 4 && strcmp(argv[2], "verify") == 0) {
		int may_repair = cfg.open_mode == HC_OPEN_PRIMARY; /* not backing.open = read_only */
		for_reading(&cfg);
		return kel_verify(&cfg, argv[3], may_repair);
	}
	if (strcmp(cmd, "keystate") == 0 && (argc == 3 || argc == 4)) {
		int json = argc == 4 && strcmp(argv[3], "--json") == 0;
		if (argc == 4 && !json)
			return usage(stderr);
		for_reading(&cfg);
		return keystate(&cfg, argv[2], json);
	}
	if (strcmp(cmd, "stats") == 0 && argc == 2) {
		for_reading(&cfg);
		return stats(&cfg);
	}
	if (kel && argc == 4 && strcmp(argv[2], "duplicity") == 0) {
		for_reading(&cfg);
		return kel_duplicity(&cfg, argv[3]);
	}
	if (kel && argc == 5 && strcmp(argv[2], "export") == 0 &&
	    strcmp(argv[4], "--first-seen") == 0) {
		export_first_seen = 1;
		argc = 4;
	}
	if (kel && argc == 4 && strcmp(argv[2], "export") == 0) {
		for_reading(&cfg);
		return kel_export(&cfg, strcmp(argv[3], "--all") == 0 ? NULL : argv[3]);
	}
	if (strcmp(cmd, "backup") == 0 && to != NULL &&
	    (argc == 2 || (argc == 3 && strcmp(argv[2], "--with-key") == 0)))
		return backup(&cfg, to, argc == 3);
	if (strcmp(cmd, "restore") == 0 && from != NULL && argc == 2) {
		if (cfg.backing_mode != HC_BACKING_ROCKSDB) {
			fprintf(stderr, "hotcache: restore needs --store DIR (the new store)\n");
			return 2;
		}
		return restore(&cfg, from);
	}
	return usage(stderr);
}
