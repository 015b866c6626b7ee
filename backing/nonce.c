/*
 * backing/nonce.c: XChaCha20 nonces without a system call per record.
 *
 * A nonce must never repeat under one key. randombytes_buf() per record is one
 * getrandom(2) call each time (about a third of sealing a small value). Instead each
 * thread keeps a 16-byte random prefix drawn once from randombytes_buf() and a 64-bit
 * counter, and a nonce is prefix || counter: unique within the thread by the counter,
 * across threads, processes and restarts by the prefix (two of 2^32 prefixes collide
 * with probability about 2^-65, the same bound as 192 random bits over 2^64 records).
 *
 * The danger is a copy of the state: a fork()ed child would continue the parent's
 * sequence and repeat its nonces. The state therefore lives in a private page marked
 * MADV_WIPEONFORK: the kernel hands the child a zeroed page (for fork and for any clone
 * without CLONE_VM, atfork handlers or not), `seeded` reads 0 there, and the child draws
 * a fresh prefix. Where the page or the advice is unavailable (kernels before 4.14), every
 * nonce comes from randombytes_buf(), as before. Restoring a snapshot of a running
 * process (CRIU, a VM snapshot) would repeat nonces from either source: out of scope.
 *
 * Threads: each thread uses only its own page; the page is unmapped at thread exit.
 */
#define BACKING_INTERNAL
#include "backing/backing.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PREFIX 16u
#define COUNTER_LIMIT (UINT64_C(1) << 62)

struct nonce_state {
	uint64_t seeded; /* 0 in a fresh or wiped-on-fork page */
	uint64_t counter;
	unsigned char prefix[PREFIX];
};

static _Thread_local struct nonce_state *state;
static _Thread_local int fallback; /* 1: no page could be set up; use randombytes */
static pthread_key_t state_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

static void state_free(void *p)
{
	munmap(p, (size_t)sysconf(_SC_PAGESIZE));
	state = NULL;
}

static void make_key(void)
{
	key_ok = pthread_key_create(&state_key, state_free) == 0;
}

static struct nonce_state *state_new(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	pthread_once(&key_once, make_key);
	if (!key_ok)
		return NULL;
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_WIPEONFORK
	if (madvise(p, page, MADV_WIPEONFORK) != 0) {
		munmap(p, page);
		return NULL;
	}
#else
	munmap(p, page);
	return NULL;
#endif
	if (pthread_setspecific(state_key, p) != 0) {
		munmap(p, page);
		return NULL;
	}
	return p;
}

void backing_nonce(unsigned char out[BACKING_NONCE_BYTES])
{
	struct nonce_state *s = state;

	if (s == NULL && !fallback) {
		s = state = state_new();
		fallback = s == NULL;
	}
	if (s == NULL) {
		randombytes_buf(out, BACKING_NONCE_BYTES);
		return;
	}
	if (s->seeded == 0 || s->counter >= COUNTER_LIMIT) {
		randombytes_buf(s->prefix, PREFIX);
		s->counter = 0;
		s->seeded = 1;
	}
	memcpy(out, s->prefix, PREFIX);
	memcpy(out + PREFIX, &s->counter, sizeof(s->counter));
	s->counter++;
}
