/* Helpers shared by the backing tests: scratch directories and store options. */
#ifndef HC_TEST_BACKING_UTIL_H
#define HC_TEST_BACKING_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backing/backing.h"

struct tb_dir {
	char root[256];
	char db[300];
	char key[300];
};

static inline int tb_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* A fresh scratch directory with db and key paths inside it (neither created). */
static inline void tb_dir_make(struct tb_dir *d)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(d->root, sizeof(d->root), "%s/hc_backing_XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(d->root) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(d->db, sizeof(d->db), "%s/db", d->root);
	snprintf(d->key, sizeof(d->key), "%s/data.key", d->root);
}

static inline void tb_dir_remove(struct tb_dir *d)
{
	nftw(d->root, tb_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline struct backing_opts tb_opts(const struct tb_dir *d, int durability)
{
	struct backing_opts o;

	memset(&o, 0, sizeof(o));
	o.path = d->db;
	o.key_file = d->key;
	o.durability = durability;
	o.block_cache = 8u << 20;
	o.write_buffer = 4u << 20;
	o.create_if_missing = 1;
	return o;
}

#endif
