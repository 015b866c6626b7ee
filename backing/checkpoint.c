/*
 * backing/checkpoint.c: a consistent copy of an open store while it serves (RocksDB's
 * checkpoint: SST files hard-linked where the file system allows, copied otherwise; the
 * memtables are flushed first, so every write acknowledged before the call is in the
 * copy, whatever the durability). The data key is written beside it only when asked.
 */
#define BACKING_INTERNAL
#include "backing/backing.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes the data key from its guarded memory to a new file (mode 0600, O_EXCL,
 * fsync'd with its directory): no other copy of the key is made. */
static int write_key(const struct backing *b, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return backing_set_error(errno == EEXIST ? HC_EEXIST : HC_EIO,
		                         "checkpoint: cannot create the key file %s: %s", path,
		                         strerror(errno));
	const unsigned char *k = backing_key_bytes(b->key);
	size_t done = 0;
	while (done < BACKING_KEY_BYTES) {
		ssize_t w = write(fd, k + done, BACKING_KEY_BYTES - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	int ok = done == BACKING_KEY_BYTES && fsync(fd) == 0;
	int saved = errno;
	close(fd);
	if (!ok || backing_fsync_parent(path) != 0) {
		unlink(path);
		return backing_set_error(HC_EIO, "checkpoint: cannot write the key file %s: %s",
		                         path, strerror(saved));
	}
	return HC_OK;
}

int backing_checkpoint(struct backing *b, const char *dir, const char *key_file)
{
	struct stat st;
	if (dir == NULL || dir[0] == '\0')
		return backing_set_error(HC_EINVAL, "checkpoint: no directory given");
	if (stat(dir, &st) == 0)
		return backing_set_error(HC_EEXIST, "checkpoint: %s already exists; a checkpoint "
		                         "goes into a new directory", dir);
	if (key_file != NULL && stat(key_file, &st) == 0)
		return backing_set_error(HC_EEXIST, "checkpoint: the key file %s already exists",
		                         key_file);
	char *err = NULL;
	rocksdb_checkpoint_t *cp = rocksdb_checkpoint_object_create(b->db, &err);
	if (err != NULL)
		return backing_rocks_error(err, "checkpoint");
	/* 0: always flush the memtables, so that the copy needs no WAL (and a store with
	 * durability none loses nothing acknowledged). */
	rocksdb_checkpoint_create(cp, dir, 0, &err);
	rocksdb_checkpoint_object_destroy(cp);
	if (err != NULL)
		return backing_rocks_error(err, "checkpoint");
	if (key_file != NULL)
		return write_key(b, key_file);
	return HC_OK;
}
