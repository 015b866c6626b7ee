/* Forcing a key out of memory as eviction does; see evict.h. */
#include "tests/unit/evict.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "cache/cache.h"
#include "map/hash.h"

int evict_force(hc_cache *c, const char *k)
{
	size_t kl = strlen(k);
	uint64_t hash = map_hash_bytes(&c->seed, k, kl);
	struct shard *s = shard_of(c, hash);
	int removed = 0;
	pthread_mutex_lock(&s->mu);
	struct reclaim_thread *t = reclaim_enter(&c->rc);
	if (t != NULL) {
		removed = shard_remove_locked(s, t, hash, k, (uint32_t)kl);
		reclaim_exit(t);
	}
	pthread_mutex_unlock(&s->mu);
	if (t != NULL)
		reclaim_poll(t);
	return removed;
}
