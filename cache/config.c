/*
 * cache/config.c: struct hc_config from defaults, an INI file (libinih) or "section.key"
 * strings, with one set of rules for all three.
 *
 * Rules (the README's key table is generated from the `keys` table below):
 *  - Keys are `section.key`, lower case, each at most once per file (the prefix lists
 *    keri.own and keri.witness excepted: each line adds to the list, "" clears it,
 *    since a config line holds only four prefixes). Unknown sections and
 *    keys, values that do not parse, values outside the key's range and lines libinih
 *    cannot parse are errors (HC_ECONFIG). The first error wins and is reported as
 *    "FILE:LINE: section.key: what is wrong (allowed RANGE)".
 *  - Sizes: a decimal number, optional blanks, an optional unit B, KiB, MiB, GiB or TiB
 *    (powers of 1024; case does not matter: "mib" is MiB). No unit means bytes. A
 *    decimal fraction is accepted when it makes a whole number of bytes ("1.5 GiB", not
 *    "0.1 KiB"). Decimal units (K, KB, M, MB, ...) are refused: tools disagree whether
 *    they mean 1000 or 1024.
 *  - Counts: decimal digits only. Booleans: true/false, yes/no, on/off, 1/0 (any case).
 *    Enumerations: the listed words, any case. Paths: the text as is, or inside one
 *    pair of double quotes; relative paths are relative to the process's working
 *    directory; a line may be at most libinih's 200 bytes, so a longer path can be
 *    given only through hc_config_set.
 *  - Comments: lines starting with ; or #, and " ;" (blank, semicolon) after a value.
 *    Leading blanks are ignored; libinih's multi-line values are not supported (an
 *    indented line is a line of its own).
 *  - All or nothing: parsing works on a copy of cfg, which is committed only when the
 *    whole file parsed and hc_config_check accepted the result.
 *
 * Line numbers: the Debian libinih calls the handler without one, so the reader below
 * hands libinih exactly one physical line per call and counts them; libinih's own line
 * count (what it returns for a syntax error) is the same number.
 */
#include "cache/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/abi.h"
#include "cache/error.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

#define SHARDS_MAX 1024u
#define SHARD_MIN_ENTRIES 1024u /* auto shard count: expected_entries per shard, at least */
#define MSG_MAX HC_ERROR_MAX

enum key_type { T_SIZE, T_COUNT, T_SHARDS, T_MODE, T_DURABILITY, T_BOOL, T_PATH, T_OPEN,
                T_LOG_LEVEL, T_PREFIXES };

enum key_id {
	K_MEMORY_LIMIT, K_SHARDS, K_MAX_ENTRY, K_EXPECTED_ENTRIES,
	K_MODE, K_PATH, K_DURABILITY, K_BLOCK_CACHE, K_WRITE_BUFFER, K_CREATE,
	K_KEY_FILE, K_OPEN, K_LOG_LEVEL, K_LOG_DIR, K_KEY_FILE_PERMISSIVE,
	K_KERI_OWN, K_KERI_WITNESS, K_ESCROW_LIMIT, K_ESCROW_TIMEOUT, K_COUNT
};

struct key_desc {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;     /* of the field in struct hc_config */
	size_t end;        /* offset + the field's size: a caller's struct must reach it */
	uint64_t min, max; /* T_SIZE, T_COUNT */
};

#define KEY(s, n, t, f, lo, hi) \
	{ s, n, t, offsetof(struct hc_config, f), ABI_END(struct hc_config, f), lo, hi }
static const struct key_desc keys[K_COUNT] = {
	[K_MEMORY_LIMIT]     = KEY("cache", "memory_limit", T_SIZE, memory_limit, MIB, TIB),
	[K_SHARDS]           = KEY("cache", "shards", T_SHARDS, shards, 0, SHARDS_MAX),
	[K_MAX_ENTRY]        = KEY("cache", "max_entry", T_SIZE, max_entry, 64, 256 * MIB),
	[K_EXPECTED_ENTRIES] = KEY("cache", "expected_entries", T_COUNT, expected_entries,
	                           0, UINT64_C(1000000000)),
	[K_MODE]             = KEY("backing", "mode", T_MODE, backing_mode, 0, 0),
	[K_PATH]             = KEY("backing", "path", T_PATH, backing_path, 0, 0),
	[K_DURABILITY]       = KEY("backing", "durability", T_DURABILITY, durability, 0, 0),
	[K_BLOCK_CACHE]      = KEY("backing", "block_cache", T_SIZE, block_cache, 0, 64 * GIB),
	[K_WRITE_BUFFER]     = KEY("backing", "write_buffer", T_SIZE, write_buffer,
	                           MIB, 16 * GIB),
	[K_CREATE]           = KEY("backing", "create", T_BOOL, create_if_missing, 0, 1),
	[K_KEY_FILE]         = KEY("crypto", "key_file", T_PATH, key_file, 0, 0),
	[K_OPEN]             = KEY("backing", "open", T_OPEN, open_mode, 0, 0),
	[K_LOG_LEVEL]        = KEY("backing", "log_level", T_LOG_LEVEL, store_log_level, 0, 0),
	[K_LOG_DIR]          = KEY("backing", "log_dir", T_PATH, store_log_dir, 0, 0),
	[K_KEY_FILE_PERMISSIVE] = KEY("crypto", "key_file_permissive", T_BOOL,
	                              key_file_permissive, 0, 1),
	[K_KERI_OWN]         = KEY("keri", "own", T_PREFIXES, keri_own, 0, HC_KERI_LOCAL_MAX),
	[K_KERI_WITNESS]     = KEY("keri", "witness", T_PREFIXES, keri_witness, 0,
	                           HC_KERI_LOCAL_MAX),
	[K_ESCROW_LIMIT]     = KEY("keri", "escrow_limit", T_SIZE, keri_escrow_limit, 64 * KIB,
	                           TIB),
	[K_ESCROW_TIMEOUT]   = KEY("keri", "escrow_timeout", T_COUNT, keri_escrow_timeout, 1,
	                           UINT64_C(100000000)),
};

static const char *const mode_names[] = { [HC_BACKING_NONE] = "none",
                                          [HC_BACKING_ROCKSDB] = "rocksdb" };
static const char *const durability_names[] = { [HC_DURABILITY_SYNC] = "sync",
                                                [HC_DURABILITY_WAL] = "wal",
                                                [HC_DURABILITY_NONE] = "none" };
static const char *const open_names[] = { [HC_OPEN_PRIMARY] = "primary",
                                          [HC_OPEN_READ_ONLY] = "read_only",
                                          [HC_OPEN_SECONDARY] = "secondary" };
static const char *const log_level_names[] = { [HC_STORE_LOG_NONE] = "none",
                                               [HC_STORE_LOG_FATAL] = "fatal",
                                               [HC_STORE_LOG_ERROR] = "error",
                                               [HC_STORE_LOG_WARN] = "warn",
                                               [HC_STORE_LOG_INFO] = "info",
                                               [HC_STORE_LOG_DEBUG] = "debug" };

/* The words of an enumeration key (T_MODE, T_DURABILITY, T_OPEN, T_LOG_LEVEL). */
static const char *const *enum_words(enum key_type t, int *n)
{
	switch (t) {
	case T_MODE:
		*n = 2;
		return mode_names;
	case T_DURABILITY:
		*n = 3;
		return durability_names;
	case T_OPEN:
		*n = 3;
		return open_names;
	case T_LOG_LEVEL:
		*n = 6;
		return log_level_names;
	default:
		*n = 0;
		return NULL;
	}
}

_Static_assert(offsetof(struct hc_config, log_fn) >= ABI_CONFIG_MIN,
               "a field added to struct hc_config starts inside the first layout's padding");
_Static_assert(offsetof(struct hc_config, keri_escrow_limit) >=
               ABI_ROUND8(ABI_END(struct hc_config, key_file_permissive)),
               "the keri.* fields start inside the 0.2.0 layout's tail padding");

/*
 * The sizes a hotcache.h can have declared for struct hc_config: the end of one of its
 * fields from the first sized layout's last on, rounded to the struct's alignment (a
 * header's layout is a prefix of this one: fields are only added at the end), or a
 * newer header's, larger than ours and a multiple of 8. Any other size would split a
 * field between the caller's bytes and the library's defaults: with a size 4 bytes
 * into log_fn, half the caller's pointer and half the default's NULL made one that
 * hc_open called (until 2026-12-07 every size from the first layout's to 1 MiB passed).
 */
static int config_size_ok(size_t size, const char *what)
{
	static const size_t ends[] = {
		ABI_CONFIG_MIN,
		ABI_ROUND8(ABI_END(struct hc_config, log_fn)),
		ABI_ROUND8(ABI_END(struct hc_config, log_arg)),
		ABI_ROUND8(ABI_END(struct hc_config, open_mode)),
		ABI_ROUND8(ABI_END(struct hc_config, store_log_level)),
		ABI_ROUND8(ABI_END(struct hc_config, store_log_dir)),
		ABI_ROUND8(ABI_END(struct hc_config, key_file_permissive)),
		ABI_ROUND8(ABI_END(struct hc_config, keri_escrow_limit)),
		ABI_ROUND8(ABI_END(struct hc_config, keri_escrow_timeout)),
		ABI_ROUND8(ABI_END(struct hc_config, keri_own)),
		ABI_ROUND8(ABI_END(struct hc_config, keri_witness)),
	};
	_Static_assert(ABI_ROUND8(ABI_END(struct hc_config, keri_witness)) ==
	                   sizeof(struct hc_config),
	               "a field added to struct hc_config: add its end to config_size_ok");
	int rc = abi_check(size, ABI_CONFIG_MIN, what);
	if (rc != 0)
		return rc;
	if (size > sizeof(struct hc_config) && size % 8 == 0)
		return 0;
	for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
		if (size == ends[i])
			return 0;
	return hc_error_ret(HC_EINVAL, "%s: struct size %zu is not one any hotcache.h "
	                    "declared (it would end inside a field): was it filled by "
	                    "hotcache's own initialiser or macro?", what, size);
}

/* The library's defaults, in a struct of the library's size. */
static void config_defaults(struct hc_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->size = (uint32_t)sizeof *cfg;
	cfg->memory_limit = 256 * MIB;
	cfg->shards = 0;
	cfg->max_entry = MIB;
	cfg->expected_entries = 0;
	/* Write-through is the default (issue 4), but the library creates no file the
	 * caller did not name (issue 12): backing.path has no default, and hc_open refuses
	 * rocksdb without one (HC_ECONFIG). backing.mode = none for a cache only. */
	cfg->backing_mode = HC_BACKING_ROCKSDB;
	cfg->backing_path[0] = '\0';
	cfg->durability = HC_DURABILITY_SYNC;
	cfg->block_cache = 32 * MIB;
	cfg->write_buffer = 32 * MIB;
	cfg->create_if_missing = 1;
	cfg->keri_escrow_limit = 16 * MIB;
	cfg->keri_escrow_timeout = 3600; /* keripy's EscrowTimeoutPS */
}

/* Any thread. */
int hc_config_default_sized(struct hc_config *cfg, size_t size)
{
	if (cfg == NULL)
		return hc_error_ret(HC_EINVAL, "hc_config_default: cfg is NULL");
	int rc = config_size_ok(size, "hc_config_default");
	if (rc != 0)
		return rc;
	struct hc_config d;
	config_defaults(&d);
	abi_out(cfg, size, &d, sizeof d, (uint32_t)size);
	return HC_OK;
}

int hc_config_in(const struct hc_config *cfg, struct hc_config *full, const char *what)
{
	config_defaults(full);
	int rc = config_size_ok(cfg->size, what);
	if (rc != 0)
		return rc;
	return abi_in(full, sizeof *full, cfg, cfg->size, ABI_CONFIG_MIN, what);
}

/* A key whose field lies beyond the caller's struct: its header is older than the key. */
static int key_beyond(const struct key_desc *k, const struct hc_config *cfg, char *msg,
                      size_t cap)
{
	if (k->end <= cfg->size)
		return 0;
	snprintf(msg, cap, "%s.%s: the caller's struct hc_config (%u bytes) predates this "
	         "key: rebuild against hotcache.h %s", k->section, k->name, cfg->size,
	         HC_VERSION_STRING);
	return -1;
}

/* ---- text helpers (all pure, any thread) ---- */

static void msgf(char *out, size_t cap, const char *fmt, ...) HC_PRINTF(3, 4);

/* snprintf for messages, where cutting a long one to cap is the intent. */
static void msgf(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

/* "1 GiB" when v is a whole number of a unit, else "1536 B"; 0 is "0". */
static void fmt_size(uint64_t v, char *out, size_t cap)
{
	static const char *const units[] = { "TiB", "GiB", "MiB", "KiB" };

	for (unsigned i = 0; i < 4; i++) {
		uint64_t u = TIB >> (10 * i);
		if (v != 0 && v % u == 0) {
			snprintf(out, cap, "%llu %s", (unsigned long long)(v / u), units[i]);
			return;
		}
	}
	if (v == 0)
		snprintf(out, cap, "0");
	else
		snprintf(out, cap, "%llu B", (unsigned long long)v);
}

/* The allowed values of a key, for messages. */
static void range_text(const struct key_desc *k, char *out, size_t cap)
{
	char lo[32], hi[32];

	switch (k->type) {
	case T_SIZE:
		fmt_size(k->min, lo, sizeof lo);
		fmt_size(k->max, hi, sizeof hi);
		snprintf(out, cap, "%s..%s", lo, hi);
		break;
	case T_COUNT:
		snprintf(out, cap, "%llu..%llu", (unsigned long long)k->min,
		         (unsigned long long)k->max);
		break;
	case T_SHARDS:
		snprintf(out, cap, "0 (auto) or a power of two 1..%u", SHARDS_MAX);
		break;
	case T_MODE:
		snprintf(out, cap, "none or rocksdb");
		break;
	case T_DURABILITY:
		snprintf(out, cap, "sync, wal or none");
		break;
	case T_OPEN:
		snprintf(out, cap, "primary, read_only or secondary");
		break;
	case T_LOG_LEVEL:
		snprintf(out, cap, "none, fatal, error, warn, info or debug");
		break;
	case T_BOOL:
		snprintf(out, cap, "true, false, yes, no, on, off, 1 or 0");
		break;
	case T_PATH:
		snprintf(out, cap, "a path shorter than %u bytes", HC_PATH_MAX);
		break;
	case T_PREFIXES:
		snprintf(out, cap, "comma-separated 44-character prefixes, at most %u",
		         HC_KERI_LOCAL_MAX);
		break;
	}
}

/* s[0..len) quoted for a message: at most 64 bytes shown, bytes outside ASCII
 * printable as \xNN, so a message is always one printable line. */
static void quote(const char *s, size_t len, char *out, size_t cap)
{
	size_t o = 0, shown = len > 64 ? 64 : len;

	for (size_t i = 0; i < shown && o + 8 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
	}
	if (shown < len && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* ---- value parsers: 0, or -1 with detail (no key prefix) in msg ---- */

enum parse_status { P_OK, P_SYNTAX, P_FRACTION, P_RANGE };

/* Decimal digits at *p into *v; sets *over on overflow. Returns the digit count. */
static size_t digits(const char **p, const char *end, uint64_t *v, bool *over)
{
	size_t n = 0;

	for (; *p < end && **p >= '0' && **p <= '9'; (*p)++, n++) {
		unsigned d = (unsigned)(**p - '0');
		if (*v > (UINT64_MAX - d) / 10)
			*over = true;
		else
			*v = *v * 10 + d;
	}
	return n;
}

static enum parse_status parse_size(const char *s, size_t len, uint64_t *out)
{
	static const struct { const char *name; uint64_t mult; } units[] = {
		{ "", 1 }, { "b", 1 }, { "kib", KIB }, { "mib", MIB }, { "gib", GIB },
		{ "tib", TIB },
	};
	const char *p = s, *end = s + len, *frac = NULL;
	size_t nfrac = 0;
	uint64_t whole = 0, mult = 0;
	bool over = false;

	if (digits(&p, end, &whole, &over) == 0)
		return P_SYNTAX;
	if (p < end && *p == '.') {
		frac = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		nfrac = (size_t)(p - frac);
		if (nfrac == 0)
			return P_SYNTAX;
		while (nfrac > 0 && frac[nfrac - 1] == '0')
			nfrac--;
		if (nfrac > 19) /* 10^19 still fits in 64 bits */
			return P_FRACTION;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strlen(units[i].name) == (size_t)(end - p) &&
		    strncasecmp(p, units[i].name, (size_t)(end - p)) == 0)
			mult = units[i].mult;
	}
	if (mult == 0)
		return P_SYNTAX;

	unsigned __int128 total = (unsigned __int128)whole * mult;
	if (nfrac > 0) {
		uint64_t f = 0, pow10 = 1;
		for (size_t i = 0; i < nfrac; i++) {
			f = f * 10 + (uint64_t)(frac[i] - '0');
			pow10 *= 10;
		}
		unsigned __int128 fb = (unsigned __int128)f * mult;
		if (fb % pow10 != 0)
			return P_FRACTION;
		total += fb / pow10;
	}
	if (over || total > UINT64_MAX)
		return P_RANGE;
	*out = (uint64_t)total;
	return P_OK;
}

static enum parse_status parse_count(const char *s, size_t len, uint64_t *out)
{
	const char *p = s;
	uint64_t v = 0;
	bool over = false;

	if (digits(&p, s + len, &v, &over) != len || len == 0)
		return P_SYNTAX;
	if (over)
		return P_RANGE;
	*out = v;
	return P_OK;
}

/* Index of s[0..len) in names (any case), or -1. */
static int word_index(const char *s, size_t len, const char *const *names, int n)
{
	for (int i = 0; i < n; i++) {
		if (strlen(names[i]) == len && strncasecmp(s, names[i], len) == 0)
			return i;
	}
	return -1;
}

/* Appends the prefixes of s[0..len) to the list text in field (a list key adds to what
 * is there; an empty value clears it). 0, or -1 with the detail in msg. */
static int add_prefixes(char *field, const char *s, size_t len, char *msg, size_t cap)
{
	char out[HC_KERI_LOCAL_TEXT];
	size_t o = strnlen(field, HC_KERI_LOCAL_TEXT - 1);
	unsigned n = o ? 1 : 0;

	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	if (len == 0) {
		memset(field, 0, HC_KERI_LOCAL_TEXT);
		return 0;
	}
	memcpy(out, field, o);
	for (size_t i = 0; i < o; i++)
		n += out[i] == ',';
	for (size_t p = 0; p < len;) {
		while (p < len && (s[p] == ' ' || s[p] == '\t' || s[p] == ','))
			p++;
		size_t b = p;
		while (p < len && s[p] != ',' && s[p] != ' ' && s[p] != '\t')
			p++;
		if (p == b)
			break;
		char q[300];
		quote(s + b, p - b, q, sizeof q);
		if (p - b != 44 || !strchr("BDEFIJ", s[b])) {
			snprintf(msg, cap, "'%s' is not a 44-character qb64 prefix", q);
			return -1;
		}
		for (size_t i = b; i < p; i++)
			if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_') {
				snprintf(msg, cap, "'%s' is not base64url", q);
				return -1;
			}
		if (n >= HC_KERI_LOCAL_MAX) {
			snprintf(msg, cap, "more than %u prefixes", HC_KERI_LOCAL_MAX);
			return -1;
		}
		if (o)
			out[o++] = ',';
		memcpy(out + o, s + b, 44);
		o += 44;
		n++;
	}
	out[o] = '\0';
	memset(field, 0, HC_KERI_LOCAL_TEXT);
	memcpy(field, out, o + 1);
	return 0;
}

static bool is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/*
 * Parses s[0..len) (already trimmed) as the value of k into cfg. Returns 0, or -1 with
 * the detail in msg; cfg is written only on success.
 */
static int set_value(const struct key_desc *k, const char *s, size_t len,
                     struct hc_config *cfg, char *msg, size_t cap)
{
	static const char *const bool_true[] = { "true", "yes", "on", "1" };
	static const char *const bool_false[] = { "false", "no", "off", "0" };
	char *field = (char *)cfg + k->offset;
	char q[300], range[80];
	uint64_t v = 0;
	enum parse_status st;
	int w;

	quote(s, len, q, sizeof q);
	range_text(k, range, sizeof range);
	switch (k->type) {
	case T_SIZE:
		st = parse_size(s, len, &v);
		if (st == P_SYNTAX) {
			snprintf(msg, cap, "'%s' is not a size (use B, KiB, MiB, GiB or TiB; "
			         "allowed %s)", q, range);
			return -1;
		}
		if (st == P_FRACTION) {
			snprintf(msg, cap, "'%s' is not a whole number of bytes (allowed %s)",
			         q, range);
			return -1;
		}
		if (st == P_RANGE || v < k->min || v > k->max) {
			snprintf(msg, cap, "'%s' is out of range (allowed %s)", q, range);
			return -1;
		}
		memcpy(field, &v, sizeof v);
		return 0;
	case T_COUNT:
	case T_SHARDS:
		st = parse_count(s, len, &v);
		if (st == P_SYNTAX) {
			snprintf(msg, cap, "'%s' is not a number (allowed %s)", q, range);
			return -1;
		}
		if (st == P_RANGE || v < k->min || v > k->max ||
		    (k->type == T_SHARDS && v != 0 && !is_pow2(v))) {
			snprintf(msg, cap, "'%s' is out of range (allowed %s)", q, range);
			return -1;
		}
		if (k->type == T_SHARDS) {
			uint32_t v32 = (uint32_t)v;
			memcpy(field, &v32, sizeof v32);
		} else {
			memcpy(field, &v, sizeof v);
		}
		return 0;
	case T_MODE:
	case T_DURABILITY:
	case T_OPEN:
	case T_LOG_LEVEL: {
		int nw;
		const char *const *words = enum_words(k->type, &nw);
		w = word_index(s, len, words, nw);
	}
		if (w < 0) {
			snprintf(msg, cap, "'%s' is not one of %s", q, range);
			return -1;
		}
		memcpy(field, &w, sizeof w);
		return 0;
	case T_BOOL:
		w = word_index(s, len, bool_true, 4) >= 0 ? 1
		    : word_index(s, len, bool_false, 4) >= 0 ? 0 : -1;
		if (w < 0) {
			snprintf(msg, cap, "'%s' is not a boolean (use %s)", q, range);
			return -1;
		}
		memcpy(field, &w, sizeof w);
		return 0;
	case T_PATH:
		if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
			s++;
			len -= 2;
		}
		if (memchr(s, '\0', len) != NULL) {
			snprintf(msg, cap, "the path contains a NUL byte");
			return -1;
		}
		if (len >= HC_PATH_MAX) {
			snprintf(msg, cap, "the path is %zu bytes (allowed %s)", len, range);
			return -1;
		}
		memcpy(field, s, len);
		memset(field + len, 0, HC_PATH_MAX - len);
		return 0;
	case T_PREFIXES:
		return add_prefixes(field, s, len, msg, cap);
	}
	return -1;
}

/* ---- key lookup ---- */

static const struct key_desc *find_key(const char *section, const char *name)
{
	for (unsigned i = 0; i < K_COUNT; i++) {
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

static bool known_section(const char *s, size_t len)
{
	static const char *const sections[] = { "cache", "backing", "crypto", "keri" };

	for (unsigned i = 0; i < 4; i++) {
		if (strlen(sections[i]) == len && memcmp(s, sections[i], len) == 0)
			return true;
	}
	return false;
}

/* The message for a section/name pair that find_key did not know. */
static void unknown_key(const char *section, const char *name, char *msg, size_t cap)
{
	char qs[300], qn[300], list[200] = "";
	size_t o = 0;

	quote(section, strlen(section), qs, sizeof qs);
	quote(name, strlen(name), qn, sizeof qn);
	if (section[0] == '\0') {
		snprintf(msg, cap, "'%s' is outside any section (put it under [cache], "
		         "[backing], [crypto] or [keri])", qn);
		return;
	}
	if (!known_section(section, strlen(section))) {
		snprintf(msg, cap, "unknown section [%s] (sections: cache, backing, crypto, keri)", qs);
		return;
	}
	for (unsigned i = 0; i < K_COUNT; i++) {
		if (strcmp(keys[i].section, section) == 0)
			o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
			                      o ? ", " : "", keys[i].name);
	}
	msgf(msg, cap, "unknown key %s.%s (keys in [%s]: %s)", qs, qn, qs, list);
}

/* ---- checks between and on fields ---- */

struct check_fail {
	int key;        /* the key the message is about */
	int also[2];    /* other keys involved, -1 if none */
};

/* 0, or -1 with "section.key: detail" in msg and the keys involved in *f. */
static int check_fields(const struct hc_config *cfg, struct check_fail *f, char *msg,
                        size_t cap)
{
	char range[80], a[32], b[32];
	const char *bad = NULL;

	f->also[0] = f->also[1] = -1;
	for (unsigned i = 0; i < K_COUNT && bad == NULL; i++) {
		const struct key_desc *k = &keys[i];
		const char *field = (const char *)cfg + k->offset;
		uint64_t v = 0;
		uint32_t v32;
		int w;

		f->key = (int)i;
		range_text(k, range, sizeof range);
		switch (k->type) {
		case T_SIZE:
		case T_COUNT:
			memcpy(&v, field, sizeof v);
			if (v < k->min || v > k->max) {
				if (k->type == T_SIZE)
					fmt_size(v, a, sizeof a);
				else
					snprintf(a, sizeof a, "%llu", (unsigned long long)v);
				snprintf(msg, cap, "%s.%s: %s is out of range (allowed %s)",
				         k->section, k->name, a, range);
				bad = msg;
			}
			break;
		case T_SHARDS:
			memcpy(&v32, field, sizeof v32);
			if (v32 > SHARDS_MAX || (v32 != 0 && !is_pow2(v32))) {
				snprintf(msg, cap, "%s.%s: %u is out of range (allowed %s)",
				         k->section, k->name, v32, range);
				bad = msg;
			}
			break;
		case T_MODE:
		case T_DURABILITY:
		case T_BOOL:
		case T_OPEN:
		case T_LOG_LEVEL: {
			int nw;
			memcpy(&w, field, sizeof w);
			if (k->type == T_BOOL)
				nw = 2;
			else
				(void)enum_words(k->type, &nw);
			if (w < 0 || w >= nw) {
				snprintf(msg, cap, "%s.%s: %d is not one of %s", k->section,
				         k->name, w, range);
				bad = msg;
			}
			break;
		}
		case T_PREFIXES:
			if (memchr(field, '\0', HC_KERI_LOCAL_TEXT) == NULL) {
				snprintf(msg, cap, "%s.%s: not NUL-terminated within %u bytes",
				         k->section, k->name, HC_KERI_LOCAL_TEXT);
				bad = msg;
			}
			break;
		case T_PATH:
			if (memchr(field, '\0', HC_PATH_MAX) == NULL) {
				snprintf(msg, cap, "%s.%s: not NUL-terminated within %u bytes",
				         k->section, k->name, HC_PATH_MAX);
				bad = msg;
			}
			break;
		}
	}
	if (bad != NULL)
		return -1;

	/* What hc_open needs at the least (never more than it: a config this accepts may
	 * still fail there, one this refuses always would): a shard's retire allowance
	 * and its entry budget each hold one entry of max_entry bytes at least. Until
	 * 2026-12-07 the rule was max_entry <= memory_limit / shards, and configs between
	 * the two passed here to fail at open. */
	uint32_t shards = cfg->shards ? cfg->shards : 1;
	uint64_t ks = config_keystate_share(cfg);
	if (cfg->memory_limit <= ks) {
		f->key = K_MEMORY_LIMIT;
		f->also[0] = K_MODE;
		f->also[1] = -1;
		fmt_size(cfg->memory_limit, a, sizeof a);
		fmt_size(ks, b, sizeof b);
		snprintf(msg, cap, "cache.memory_limit: %s leaves nothing for payloads with a "
		         "store: %s of it for key states (a sixteenth, 1 MiB at least); raise it",
		         a, b);
		return -1;
	}
	uint64_t share = (cfg->memory_limit - ks) / shards;
	if (cfg->max_entry > share / 2) {
		f->key = K_MAX_ENTRY;
		f->also[0] = K_MEMORY_LIMIT;
		f->also[1] = K_SHARDS;
		fmt_size(cfg->max_entry, a, sizeof a);
		fmt_size(share, b, sizeof b);
		snprintf(msg, cap, "cache.max_entry: %s is larger than half a shard's share of "
		         "cache.memory_limit (%s with %u shard%s%s; a shard keeps room to evict "
		         "one such entry while it installs another); lower max_entry or shards, "
		         "or raise memory_limit", a, b, shards, shards == 1 ? "" : "s",
		         ks != 0 ? ", after the key states' sixteenth" : "");
		return -1;
	}
	return 0;
}

/* Any thread; pure. */
uint64_t config_keystate_share(const struct hc_config *cfg)
{
	if (cfg->backing_mode != HC_BACKING_ROCKSDB)
		return 0;
	uint64_t s = cfg->memory_limit / 16;
	return s < (1u << 20) ? 1u << 20 : s;
}

/* Copies msg to err (cut to errlen) and to the thread's sentence; returns HC_ECONFIG. */
static int config_fail(const char *msg, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return hc_error_ret(HC_ECONFIG, "%s", msg);
}

/* Any thread; reads cfg only. */
int hc_config_check(const struct hc_config *cfg, char *err, size_t errlen)
{
	char msg[MSG_MAX];
	struct check_fail f;

	struct hc_config full;

	if (cfg == NULL)
		return config_fail("hc_config_check: cfg is NULL", err, errlen);
	int rc = hc_config_in(cfg, &full, "hc_config_check");
	if (rc != 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", hc_last_error());
		return rc;
	}
	if (check_fields(&full, &f, msg, sizeof msg) != 0)
		return config_fail(msg, err, errlen);
	return HC_OK;
}

/* Any thread; pure. */
uint32_t hc_config_shards(const struct hc_config *cfg, unsigned ncpu)
{
	uint32_t n = 1;
	/* 16 per CPU: a writer preempted while it holds a shard's mutex stops only the
	 * writers of that shard. With 4 per CPU (8 shards on 2 CPUs), cache_bench's mixed
	 * work from 8 threads ran at 0.29-0.41x HyperClockCache with 8 KiB values and
	 * 0.61-0.66x with 64 B, erases' p99 117-168 us; with 32 shards 0.54-0.55x,
	 * 0.69-0.76x and 4.2-4.5 us. */
	uint64_t want = (uint64_t)(ncpu ? ncpu : 1) * 16;

	if (cfg->shards != 0)
		return cfg->shards;
	while (n < want && n < SHARDS_MAX)
		n <<= 1;
	/* A shard keeps at least four of the largest entries (policy.c needs room). */
	while (n > 1 && cfg->memory_limit / n < 4 * cfg->max_entry)
		n >>= 1;
	/* And, when the caller says how many entries to expect, SHARD_MIN_ENTRIES of them:
	 * shards of a few dozen entries fill unevenly (the hash gives some more keys than
	 * they hold while others sit half empty: loops a little shorter than the cache
	 * missed 5 points of 200 entries in 8 shards), and each shard's climber samples
	 * too few requests to tell a better SMALL share from noise. 256 was the floor
	 * while 4 per CPU was the aim; with 16, bench/hitratio's 10000-entry zigzags in
	 * 32 shards of 312 entries lost 1.2-1.5 points, and at 1024 they keep their 8
	 * shards while the 2000-entry rows go to one shard (hitratio --quick 53/54/54 of 57
	 * on hash seeds 1-3, 52/52/53 before; full run 69 of 76, 68 before). */
	while (n > 1 && cfg->expected_entries != 0 && cfg->expected_entries / n < SHARD_MIN_ENTRIES)
		n >>= 1;
	return n;
}

/* ---- hc_config_set ---- */

/* Any thread; writes *cfg only on success. */
int hc_config_set(struct hc_config *cfg, const char *key, const char *value, char *err,
                  size_t errlen)
{
	char msg[MSG_MAX], detail[MSG_MAX], section[16], qk[300];
	const struct key_desc *k = NULL;
	const char *dot;
	struct hc_config work;

	if (cfg == NULL || key == NULL || value == NULL) {
		snprintf(msg, sizeof msg, "hc_config_set: %s is NULL",
		         cfg == NULL ? "cfg" : key == NULL ? "key" : "value");
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", msg);
		return hc_error_ret(HC_EINVAL, "%s", msg);
	}
	dot = strchr(key, '.');
	if (dot != NULL && (size_t)(dot - key) < sizeof section) {
		memcpy(section, key, (size_t)(dot - key));
		section[dot - key] = '\0';
		k = find_key(section, dot + 1);
	}
	if (k == NULL) {
		quote(key, strlen(key), qk, sizeof qk);
		if (dot != NULL && (size_t)(dot - key) < sizeof section)
			unknown_key(section, dot + 1, detail, sizeof detail);
		else
			snprintf(detail, sizeof detail, "unknown key '%s' (use section.key, "
			         "e.g. cache.memory_limit)", qk);
		return config_fail(detail, err, errlen);
	}

	if (key_beyond(k, cfg, detail, sizeof detail) != 0)
		return config_fail(detail, err, errlen);
	int rc = hc_config_in(cfg, &work, "hc_config_set");
	if (rc != 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", hc_last_error());
		return rc;
	}

	size_t len = strlen(value);
	while (len > 0 && isspace((unsigned char)value[len - 1]))
		len--;
	while (len > 0 && isspace((unsigned char)*value)) {
		value++;
		len--;
	}
	if (set_value(k, value, len, &work, detail, sizeof detail) != 0) {
		msgf(msg, sizeof msg, "%s.%s: %s", k->section, k->name, detail);
		return config_fail(msg, err, errlen);
	}
	abi_out(cfg, cfg->size, &work, sizeof work, cfg->size);
	return HC_OK;
}

/* ---- file parsing ---- */

struct parse_ctx {
	struct hc_config work;   /* committed to the caller's cfg only on success */
	uint32_t caller_size;    /* the caller's sizeof(struct hc_config) */
	const char *name;        /* file name for messages */
	const char *data;
	size_t len, pos;
	int lineno;              /* physical lines handed to libinih so far */
	int seen[K_COUNT];       /* line that set each key, 0 if none */
	bool failed;
	int fail_line;           /* line of the first error, 0 if it has none */
	char msg[MSG_MAX];       /* "NAME:LINE: ..." of the first error */
};

static void ctx_fail(struct parse_ctx *c, int line, const char *fmt, ...) HC_PRINTF(3, 4);

/* Records the first error only: later ones are consequences or noise. */
static void ctx_fail(struct parse_ctx *c, int line, const char *fmt, ...)
{
	char text[MSG_MAX];
	va_list ap;

	if (c->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (line > 0)
		msgf(c->msg, sizeof c->msg, "%s:%d: %s", c->name, line, text);
	else
		msgf(c->msg, sizeof c->msg, "%s: %s", c->name, text);
	c->failed = true;
	c->fail_line = line;
}

/*
 * libinih's reader: one physical line per call, without its leading blanks (so libinih
 * never takes an indented line for a continuation). Lines libinih would split (longer
 * than its buffer) or cut (a NUL byte), and [sections] we do not know, are errors here;
 * after any error it reports end of input so that parsing stops at the first error.
 */
static char *ctx_read_line(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	const char *line, *nl, *end = c->data + c->len;
	size_t n;

	if (c->failed || c->pos >= c->len || num < 3)
		return NULL;
	line = c->data + c->pos;
	nl = memchr(line, '\n', (size_t)(end - line));
	n = nl ? (size_t)(nl - line) : (size_t)(end - line); /* without the newline */
	c->pos += nl ? n + 1 : n;
	c->lineno++;
	if (memchr(line, '\0', n) != NULL) {
		ctx_fail(c, c->lineno, "the line contains a NUL byte");
		return NULL;
	}
	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	/* Room for the line, a newline and the NUL: libinih takes a line that fills its
	 * buffer without a newline for a cut one. */
	if (n + 2 > (size_t)num) {
		ctx_fail(c, c->lineno, "the line is longer than %d bytes (libinih's limit); "
		         "give long paths with hc_config_set", num - 2);
		return NULL;
	}
	memcpy(str, line, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	if (str[0] == '[') {
		const char *close = strchr(str + 1, ']');
		if (close != NULL && !known_section(str + 1, (size_t)(close - str - 1))) {
			char q[300];
			quote(str + 1, (size_t)(close - str - 1), q, sizeof q);
			ctx_fail(c, c->lineno, "unknown section [%s] (sections: cache, backing, "
			         "crypto, keri)", q);
			return NULL;
		}
	}
	return str;
}

/* libinih's handler, for each key = value; returns 1 to go on, 0 on error. */
static int ctx_on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;
	const struct key_desc *k;
	char detail[MSG_MAX];

	if (c->failed)
		return 0;
	k = find_key(section, name);
	if (k == NULL) {
		unknown_key(section, name, detail, sizeof detail);
		ctx_fail(c, c->lineno, "%s", detail);
		return 0;
	}
	if (c->seen[k - keys] != 0 && k->type != T_PREFIXES) {
		ctx_fail(c, c->lineno, "%s.%s: set twice (first on line %d)", k->section,
		         k->name, c->seen[k - keys]);
		return 0;
	}
	c->seen[k - keys] = c->lineno;
	if (k->end > c->caller_size) {
		struct hc_config probe = {.size = c->caller_size};
		key_beyond(k, &probe, detail, sizeof detail);
		ctx_fail(c, c->lineno, "%s", detail);
		return 0;
	}
	if (set_value(k, value, strlen(value), &c->work, detail, sizeof detail) != 0) {
		ctx_fail(c, c->lineno, "%s.%s: %s", k->section, k->name, detail);
		return 0;
	}
	return 1;
}

/* The text of physical line n (1-based) of data, for a syntax error message. */
static void line_text(const char *data, size_t len, int n, char *out, size_t cap)
{
	const char *p = data, *end = data + len, *nl;

	for (int i = 1; i < n && p < end; i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
	while (l > 0 && isspace((unsigned char)p[l - 1]))
		l--;
	while (l > 0 && isspace((unsigned char)*p)) {
		p++;
		l--;
	}
	quote(p, l, out, cap);
}

/* Any thread; allocates nothing; writes *cfg only on success. */
int hc_config_parse(struct hc_config *cfg, const char *name, const void *data, size_t len,
                    char *err, size_t errlen)
{
	struct parse_ctx c;
	struct check_fail f;
	char detail[MSG_MAX], q[300];
	int rc, line = 0;

	if (cfg == NULL || name == NULL || (data == NULL && len > 0)) {
		snprintf(detail, sizeof detail, "hc_config_parse: %s is NULL",
		         cfg == NULL ? "cfg" : name == NULL ? "name" : "data");
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", detail);
		return hc_error_ret(HC_EINVAL, "%s", detail);
	}
	memset(&c, 0, sizeof c);
	if ((rc = hc_config_in(cfg, &c.work, "hc_config_load")) != 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", hc_last_error());
		return rc;
	}
	c.caller_size = cfg->size;
	c.name = name;
	c.data = data != NULL ? data : "";
	c.len = len;
	rc = ini_parse_stream(ctx_read_line, &c, ctx_on_pair, &c);
	/* libinih does not stop at a line it cannot parse; it returns the first such line
	 * at the end, which may come before the error we recorded (an unclosed [section
	 * makes the next key "outside any section"): the earlier line wins. */
	if (rc > 0 && (!c.failed || rc < c.fail_line)) {
		c.failed = false;
		line_text(c.data, c.len, rc, q, sizeof q);
		ctx_fail(&c, rc, "cannot parse '%s' (expected [section], key = value, or a "
		         "comment starting with ; or #)", q);
	} else if (!c.failed && rc < 0) {
		ctx_fail(&c, 0, "libinih failed (%d)", rc);
	}
	/* A file that sets backing.path empty with rocksdb says something wrong; a file
	 * that does not set it may get it later (hc_config_set, --store): hc_open checks. */
	if (!c.failed && c.seen[K_PATH] != 0 && c.work.backing_mode == HC_BACKING_ROCKSDB &&
	    c.work.backing_path[0] == '\0')
		ctx_fail(&c, c.seen[K_PATH] > c.seen[K_MODE] ? c.seen[K_PATH] : c.seen[K_MODE],
		         "backing.path: must be set when backing.mode is rocksdb");
	if (!c.failed && check_fields(&c.work, &f, detail, sizeof detail) != 0) {
		/* Blame the line that set one of the keys involved, the latest such line. */
		line = c.seen[f.key];
		for (int i = 0; i < 2; i++) {
			if (f.also[i] >= 0 && c.seen[f.also[i]] > line)
				line = c.seen[f.also[i]];
		}
		ctx_fail(&c, line, "%s", detail);
	}
	if (c.failed)
		return config_fail(c.msg, err, errlen);
	abi_out(cfg, cfg->size, &c.work, sizeof c.work, cfg->size);
	return HC_OK;
}

/* Reads all of path into a malloc'd buffer; 0, or HC_ECONFIG/HC_ENOMEM with msg set. */
static int read_file(const char *path, char **buf, size_t *len, char *msg, size_t cap)
{
	struct stat st;
	ssize_t r;
	size_t got = 0;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		saved = errno;
		snprintf(msg, cap, "%s: cannot open: %s (errno %d)", path, strerror(saved), saved);
		return HC_ECONFIG;
	}
	if (fstat(fd, &st) != 0) {
		saved = errno;
		snprintf(msg, cap, "%s: cannot stat: %s (errno %d)", path, strerror(saved), saved);
		close(fd);
		return HC_ECONFIG;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > HC_CONFIG_FILE_MAX) {
		if (S_ISDIR(st.st_mode))
			snprintf(msg, cap, "%s: is a directory, not a config file", path);
		else if (S_ISREG(st.st_mode))
			snprintf(msg, cap, "%s: is %lld bytes, larger than a config file may be "
			         "(%u)", path, (long long)st.st_size, HC_CONFIG_FILE_MAX);
		else
			snprintf(msg, cap, "%s: not a regular file", path);
		close(fd);
		return HC_ECONFIG;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (*buf == NULL) {
		close(fd);
		snprintf(msg, cap, "%s: no memory to read %lld bytes", path,
		         (long long)st.st_size);
		return HC_ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, *buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			saved = errno;
			snprintf(msg, cap, "%s: cannot read: %s (errno %d)", path, strerror(saved),
			         saved);
			free(*buf);
			close(fd);
			return HC_ECONFIG;
		}
		if (r == 0)
			break; /* the file shrank: parse what is there */
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return HC_OK;
}

/* Any thread; writes *cfg only on success. */
int hc_config_load(struct hc_config *cfg, const char *path, char *err, size_t errlen)
{
	char msg[MSG_MAX];
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (cfg == NULL || path == NULL) {
		snprintf(msg, sizeof msg, "hc_config_load: %s is NULL", cfg ? "path" : "cfg");
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", msg);
		return hc_error_ret(HC_EINVAL, "%s", msg);
	}
	rc = read_file(path, &buf, &len, msg, sizeof msg);
	if (rc != HC_OK) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", msg);
		return hc_error_ret(rc, "%s", msg);
	}
	rc = hc_config_parse(cfg, path, buf, len, err, errlen);
	free(buf);
	return rc;
}

/* The config's size syntax for embedders and tools (issue 12: `hotcache load`). */
int hc_parse_size(const char *text, uint64_t *bytes)
{
	if (text == NULL || bytes == NULL)
		return HC_EINVAL;
	size_t len = strlen(text);
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	while (len > 0 && (*text == ' ' || *text == '\t'))
		text++, len--;
	uint64_t v;
	if (parse_size(text, len, &v) != P_OK)
		return HC_EINVAL;
	*bytes = v;
	return 0;
}
