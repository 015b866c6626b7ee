/*
 * API-sequence fuzzer: runs a random sequence of hc_put / hc_get / hc_read /
 * hc_read_batch / hc_delete on a cache-only hotcache against a plain reference map,
 * and aborts on any difference.
 *
 * Input: byte 0 picks the cache (shards 1, 2 or 4; a limit that never evicts, or one
 * that evicts all the time); then ops of 4 bytes: op, key index, two bytes of length.
 * Values are [version 4B][key 1B][pattern], so a stale or foreign value is recognised.
 *
 * What must hold: a value served is the key's current one (never an older version,
 * never a deleted key's, never another key's); when the cache cannot have evicted
 * anything (evictions == 0), a present key is always found; HC_ERANGE reports the
 * size and leaves the buffer alone; accounted bytes stay within the limit + slack.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotcache.h"

#define NKEYS 24
#define VMAX 2048

struct ref {
	int present;
	uint32_t version;
	size_t len;
};

static void die(const char *what, int key)
{
	fprintf(stderr, "fuzz_api: %s (key %d): %s\n", what, key, hc_last_error());
	abort();
}

static size_t key_of(int k, char *buf)
{
	/* Keys of varied lengths, 1..40 bytes, all distinct. */
	size_t len = (size_t)(1 + (k * 7) % 40);
	memset(buf, 'a' + k % 26, len);
	buf[0] = (char)('A' + k);
	return len;
}

static void value_of(int k, uint32_t version, size_t len, unsigned char *v)
{
	for (size_t i = 0; i < len; i++)
		v[i] = (unsigned char)(version * 31 + (uint32_t)k * 7 + i);
	if (len >= 5) {
		memcpy(v, &version, 4);
		v[4] = (unsigned char)k;
	}
}

/* A value served must be the current version of this key, byte for byte. */
static void check_value(const struct ref *r, int k, const unsigned char *v, size_t len,
                        int may_evict)
{
	(void)may_evict;
	if (!r->present)
		die("a deleted key was served", k);
	if (len != r->len)
		die("served a value of the wrong length (stale or foreign)", k);
	unsigned char want[VMAX];
	value_of(k, r->version, len, want);
	if (memcmp(v, want, len) != 0)
		die("served bytes differ from the current value", k);
}

struct read_ctx {
	const struct ref *ref;
	int key, calls, may_evict;
};

static void on_read(const void *val, size_t vlen, void *arg)
{
	struct read_ctx *c = arg;
	c->calls++;
	check_value(c->ref, c->key, val, vlen, c->may_evict);
}

struct batch_ctx {
	const struct ref *ref;
	const int *keys;
	int may_evict;
	int calls[4];
};

static void on_batch(size_t i, int status, const void *val, size_t vlen, void *arg)
{
	struct batch_ctx *b = arg;
	int k = b->keys[i];
	b->calls[i]++;
	if (status == 0)
		check_value(&b->ref[k], k, val, vlen, b->may_evict);
	else if (status != HC_ENOTFOUND)
		die("hc_read_batch: unexpected status", k);
	else if (b->ref[k].present && !b->may_evict)
		die("hc_read_batch: a present key was not found", k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.shards = 1u << (data[0] % 3);
	int tight = data[0] & 0x8;
	cfg.memory_limit = tight ? (1u << 20) : (16u << 20);
	cfg.max_entry = 16u << 10;
	hc_cache *c;
	if (hc_open(&cfg, &c) != 0)
		die("hc_open", -1);
	struct ref ref[NKEYS] = {{0}};
	uint32_t version = 0;
	unsigned char val[VMAX], buf[VMAX];
	char key[64];

	for (size_t pos = 1; pos + 4 <= size; pos += 4) {
		int op = data[pos] % 6;
		int k = data[pos + 1] % NKEYS;
		size_t len = ((size_t)data[pos + 2] << 8 | data[pos + 3]) % VMAX;
		size_t kl = key_of(k, key);
		struct hc_stats st;
		if (hc_stats(c, &st) != 0)
			die("hc_stats", k);
		int may_evict = st.evictions > 0;
		switch (op) {
		case 0: /* put */
		case 1: {
			if (tight && len > 1024)
				len %= 1024; /* many entries per shard even when tight */
			value_of(k, ++version, len, val);
			int rc = hc_put(c, key, kl, val, len);
			if (rc == 0)
				ref[k] = (struct ref){1, version, len};
			else if (rc != HC_ENOMEM && rc != HC_EBUSY)
				die("hc_put failed", k);
			break;
		}
		case 2: { /* get, with a buffer that is sometimes too small */
			size_t cap = data[pos + 2] & 1 ? len : sizeof(buf);
			size_t vlen = (size_t)-1;
			memset(buf, 0xEE, sizeof(buf));
			int rc = hc_get(c, key, kl, buf, cap, &vlen);
			if (rc == 0) {
				check_value(&ref[k], k, buf, vlen, may_evict);
			} else if (rc == HC_ERANGE) {
				if (!ref[k].present || vlen != ref[k].len || vlen <= cap)
					die("HC_ERANGE with a wrong size", k);
				for (size_t i = 0; i < cap; i++)
					if (buf[i] != 0xEE)
						die("HC_ERANGE wrote into the buffer", k);
			} else if (rc == HC_ENOTFOUND) {
				if (ref[k].present && !may_evict)
					die("a present key was not found", k);
			} else {
				die("hc_get failed", k);
			}
			break;
		}
		case 3: { /* zero-copy read */
			struct read_ctx rc_ = {&ref[k], k, 0, may_evict};
			int rc = hc_read(c, key, kl, on_read, &rc_);
			if (rc == 0 && rc_.calls != 1)
				die("hc_read called back other than once", k);
			if (rc == HC_ENOTFOUND && (rc_.calls != 0 || (ref[k].present && !may_evict)))
				die("hc_read: wrong miss", k);
			if (rc != 0 && rc != HC_ENOTFOUND)
				die("hc_read failed", k);
			break;
		}
		case 4: /* delete */
			if (hc_delete(c, key, kl) != 0)
				die("hc_delete failed", k);
			ref[k].present = 0;
			break;
		case 5: { /* a batch of up to four keys */
			int ks[4];
			char kb[4][64];
			const void *kp[4];
			size_t kls[4];
			int n = 1 + (int)(len % 4);
			for (int i = 0; i < n; i++) {
				ks[i] = (k + i * 5) % NKEYS;
				kls[i] = key_of(ks[i], kb[i]);
				kp[i] = kb[i];
			}
			struct batch_ctx b = {ref, ks, may_evict, {0}};
			if (hc_read_batch(c, (size_t)n, kp, kls, on_batch, &b) != 0)
				die("hc_read_batch failed", k);
			for (int i = 0; i < n; i++)
				if (b.calls[i] != 1)
					die("hc_read_batch reported a key other than once", ks[i]);
			break;
		}
		}
		if (hc_stats(c, &st) != 0)
			die("hc_stats", k);
		if (st.accounted_bytes > st.memory_limit + st.slack_bytes)
			die("accounted bytes over the limit", k);
	}
	struct hc_stats st;
	if (hc_stats(c, &st) != 0)
		die("hc_stats", -1);
	uint64_t present = 0;
	for (int k = 0; k < NKEYS; k++)
		present += ref[k].present;
	if (st.entries > present || (st.evictions == 0 && st.entries != present))
		die("entry count differs from the reference", -1);
	hc_close(c);
	return 0;
}
