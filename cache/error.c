/*
 * cache/error.c: error names (hc_strerror) and the per-thread last-error sentence
 * (hc_last_error and the internal hc_error_* seam of cache/error.h).
 *
 * The sentence lives in a _Thread_local buffer, so threads never see each other's
 * errors and no function here locks or allocates. hc_strerror returns string
 * constants only (for errno values, glibc's constant descriptions), so its result
 * stays valid for the life of the process and needs no buffer.
 */
#include "cache/error.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char hc_error_buf[HC_ERROR_MAX];

/* Any thread; wait-free. The arguments may alias the buffer: format aside first. */
void hc_error_vset(const char *fmt, va_list ap)
{
	char tmp[HC_ERROR_MAX];
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);

	if (n < 0) {
		snprintf(tmp, sizeof tmp, "(unformattable error message '%s')", fmt);
	} else if ((size_t)n >= sizeof tmp) {
		memcpy(tmp + sizeof tmp - 4, "...", 4);
	}
	memcpy(hc_error_buf, tmp, sizeof tmp);
}

/* Any thread; wait-free. */
void hc_error_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hc_error_vset(fmt, ap);
	va_end(ap);
}

/* Any thread; wait-free. */
void hc_error_clear(void)
{
	hc_error_buf[0] = '\0';
}

/* Any thread; wait-free. */
int hc_error_ret(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hc_error_vset(fmt, ap);
	va_end(ap);
	return code;
}

/* Any thread; wait-free. Valid until this thread's next failing hotcache call. */
const char *hc_last_error(void)
{
	return hc_error_buf;
}

/*
 * Any thread; wait-free. Our codes are negative; a positive code is taken as an errno
 * value (backing/ and tools/ pass those through), anything else is "unknown error".
 */
const char *hc_strerror(int code)
{
	switch (code) {
	case HC_OK:        return "HC_OK: success";
	case HC_EINVAL:    return "HC_EINVAL: invalid argument";
	case HC_ENOMEM:    return "HC_ENOMEM: out of memory";
	case HC_ENOTFOUND: return "HC_ENOTFOUND: not found";
	case HC_ERANGE:    return "HC_ERANGE: buffer too small";
	case HC_EIO:       return "HC_EIO: backing store I/O error";
	case HC_ECORRUPT:  return "HC_ECORRUPT: record at rest failed to open";
	case HC_EKEY:      return "HC_EKEY: key file does not match the store";
	case HC_ECONFIG:   return "HC_ECONFIG: bad configuration";
	case HC_EEXIST:    return "HC_EEXIST: already exists";
	case HC_EREADONLY: return "HC_EREADONLY: store is read-only after a failed sync";
	case HC_ENOTSUP:   return "HC_ENOTSUP: not supported";
	case HC_EBUSY:     return "HC_EBUSY: resource busy";
	default:           break;
	}
	if (code > 0) {
		const char *s = strerrordesc_np(code); /* glibc >= 2.32: a constant, or NULL */
		if (s != NULL)
			return s;
	}
	return "unknown error";
}
