/*
 * backing/keyfile.c: the data key file and the key check value.
 *
 * The key file holds exactly 32 raw bytes. It is read straight into guarded memory
 * (sodium_malloc: guard pages, mlock'd, never swapped out where mlock is allowed), made
 * read-only, and never copied anywhere else by us. A new store creates the file with
 * O_CREAT|O_EXCL and mode 0600 (so two processes racing to create it cannot both win, and
 * the loser loads the winner's key), writes it, fsyncs it and its directory before any
 * record is sealed under it: a key that is not on disk must not protect durable data.
 * A file we created but could not finish writing is removed again (nothing was sealed
 * under it yet); a file we did not create is never removed or rewritten.
 *
 * The check value stored in meta is [1][key id][BLAKE2b-256 keyed by the data key over
 * the label below]: it tells the right key from a wrong one at open, reveals nothing of
 * the key, and is compared in constant time.
 */
#define BACKING_INTERNAL
#include "backing/backing.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char check_label[] = "hotcache key check value v1";

static void set_err(char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", backing_last_error());
}

int backing_fsync_parent(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc;

	if (strlen(path) >= sizeof(copy))
		return -1;
	strcpy(copy, path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Creates the key file. HC_OK, HC_EEXIST (someone else created it first), HC_EIO. */
static int create_key_file(const char *path, struct backing_key **out)
{
	struct backing_key *k;
	int fd, saved;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return HC_EEXIST;
	if (fd < 0)
		return backing_set_error(HC_EIO, "cannot create the key file %s: %s", path,
		                         strerror(errno));
	k = backing_key_alloc(BACKING_KEY_ID);
	if (k == NULL) {
		close(fd);
		unlink(path);
		return backing_set_error(HC_ENOMEM, "no memory for the data key");
	}
	randombytes_buf(backing_key_raw(k), BACKING_KEY_BYTES);
	if (fchmod(fd, 0600) != 0 || write_all(fd, backing_key_raw(k), BACKING_KEY_BYTES) != 0 ||
	    fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(path);
		backing_key_free(k);
		return backing_set_error(HC_EIO, "cannot write the new key file %s: %s", path,
		                         strerror(saved));
	}
	close(fd);
	if (backing_fsync_parent(path) != 0) {
		saved = errno;
		unlink(path);
		backing_key_free(k);
		return backing_set_error(HC_EIO, "cannot sync the directory of the new key file "
		                         "%s: %s", path, strerror(saved));
	}
	backing_key_lock(k);
	*out = k;
	return HC_OK;
}

static int read_key_file(int fd, const char *path, int permissive, struct backing_key **out)
{
	struct backing_key *k;
	unsigned char *raw;
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) != 0)
		return backing_set_error(HC_EKEY, "cannot stat the key file %s: %s", path,
		                         strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size != BACKING_KEY_BYTES)
		return backing_set_error(HC_EKEY, "the key file %s is %s of %lld bytes; a data "
		                         "key file holds exactly %u bytes", path,
		                         S_ISREG(st.st_mode) ? "a file" : "not a regular file",
		                         (long long)st.st_size, BACKING_KEY_BYTES);
	/* Like ssh with a private key: others who can read it can read every record. */
	if (!permissive && (st.st_mode & 077) != 0)
		return backing_set_error(HC_EKEY, "the key file %s has mode %04o: group or others "
		                         "may access it; chmod 600 it, or set "
		                         "crypto.key_file_permissive = true to accept it", path,
		                         (unsigned)(st.st_mode & 07777));
	k = backing_key_alloc(BACKING_KEY_ID);
	if (k == NULL)
		return backing_set_error(HC_ENOMEM, "no memory for the data key");
	raw = backing_key_raw(k);
	while (got < BACKING_KEY_BYTES) {
		ssize_t r = read(fd, raw + got, BACKING_KEY_BYTES - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			backing_key_free(k);
			return backing_set_error(HC_EKEY, "cannot read the key file %s: %s", path,
			                         r < 0 ? strerror(errno) : "file shrank while read");
		}
		got += (size_t)r;
	}
	backing_key_lock(k);
	*out = k;
	return HC_OK;
}

int backing_keyfile_load(const char *path, int create, int permissive,
                         struct backing_key **out, int *created, char *err, size_t errlen)
{
	int fd, rc, attempt;

	*out = NULL;
	*created = 0;
	if (sodium_init() < 0)
		rc = backing_set_error(HC_EIO, "libsodium failed to initialise");
	else
		rc = HC_EKEY;
	for (attempt = 0; rc == HC_EKEY && attempt < 2; attempt++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			rc = read_key_file(fd, path, permissive, out);
			close(fd);
			break;
		}
		if (errno != ENOENT) {
			rc = backing_set_error(HC_EKEY, "cannot open the key file %s: %s", path,
			                       strerror(errno));
			break;
		}
		if (!create) {
			rc = backing_set_error(HC_EKEY, "the key file %s does not exist", path);
			break;
		}
		rc = create_key_file(path, out);
		if (rc == HC_OK)
			*created = 1;
		else if (rc == HC_EEXIST)
			rc = HC_EKEY; /* lost a race with another creator: load theirs */
	}
	if (rc != HC_OK)
		set_err(err, errlen);
	return rc;
}

void backing_key_check_value(const struct backing_key *k, unsigned char out[BACKING_CHECK_BYTES])
{
	out[0] = 1;
	out[1] = backing_key_id(k);
	crypto_generichash(out + 2, 32, (const unsigned char *)check_label,
	                   sizeof(check_label) - 1, backing_key_bytes(k), BACKING_KEY_BYTES);
}

int backing_key_check_matches(const struct backing_key *k, const void *value, size_t len)
{
	unsigned char want[BACKING_CHECK_BYTES];
	int ok;

	if (len != BACKING_CHECK_BYTES)
		return 0;
	backing_key_check_value(k, want);
	ok = sodium_memcmp(want, value, BACKING_CHECK_BYTES) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}
