/* cache/abi.c: moving sized public structs across the library boundary (cache/abi.h). */
#include "cache/abi.h"

#include <string.h>

#include "cache/error.h"

int abi_check(size_t size, size_t min, const char *what)
{
	if (size < min || size > ABI_SIZE_MAX)
		return hc_error_ret(HC_EINVAL, "%s: struct size %zu is not one any hotcache.h "
		                    "declared (%zu..%u): was it filled by hotcache's own "
		                    "initialiser or macro?", what, size, min, ABI_SIZE_MAX);
	return 0;
}

int abi_in(void *lib, size_t lib_size, const void *user, size_t size, size_t min,
           const char *what)
{
	int rc = abi_check(size, min, what);
	if (rc != 0)
		return rc;
	const unsigned char *u = user;
	for (size_t i = lib_size; i < size; i++) {
		if (u[i] != 0)
			return hc_error_ret(HC_ENOTSUP, "%s: the caller's hotcache.h is newer than "
			                    "this library (%s) and sets a field at byte %zu that the "
			                    "library does not know", what, HC_VERSION_STRING, i);
	}
	/* The size field itself is the caller's; skip it, keep lib's own. */
	size_t n = size < lib_size ? size : lib_size;
	memcpy((unsigned char *)lib + sizeof(uint32_t), u + sizeof(uint32_t),
	       n - sizeof(uint32_t));
	uint32_t s = (uint32_t)lib_size;
	memcpy(lib, &s, sizeof s);
	return 0;
}

void abi_out(void *user, size_t size, const void *lib, size_t lib_size, uint32_t size_field)
{
	size_t n = size < lib_size ? size : lib_size;
	memcpy(user, lib, n);
	if (size > n)
		memset((unsigned char *)user + n, 0, size - n);
	memcpy(user, &size_field, sizeof size_field);
}

void abi_out_filled(void *user, size_t size, const void *lib, size_t lib_size)
{
	abi_out(user, size, lib, lib_size, (uint32_t)(size < lib_size ? size : lib_size));
}
