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

#include <stdatomic.h>
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
const char *hc_version(int *major, int *minor, int *patch)
{
	if (major != NULL)
		*major = HC_VERSION_MAJOR;
	if (minor != NULL)
		*minor = HC_VERSION_MINOR;
	if (patch != NULL)
		*patch = HC_VERSION_PATCH;
	return HC_VERSION_STRING;
}

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
	case HC_EKERI_VERSION: return "HC_EKERI_VERSION: bad KERI version string";
	case HC_EKERI_SIZE: return "HC_EKERI_SIZE: event size differs from its version string";
	case HC_EKERI_JSON: return "HC_EKERI_JSON: event is not canonical compact JSON";
	case HC_EKERI_FIELD_ORDER: return "HC_EKERI_FIELD_ORDER: event fields missing, extra or out of order";
	case HC_EKERI_ILK: return "HC_EKERI_ILK: unknown event type";
	case HC_EKERI_ILK_UNSUPPORTED: return "HC_EKERI_ILK_UNSUPPORTED: unsupported message type (reserved)";
	case HC_EKERI_FIELD: return "HC_EKERI_FIELD: event field has the wrong type or code";
	case HC_EKERI_SAID: return "HC_EKERI_SAID: SAID does not match the event";
	case HC_EKERI_PREFIX: return "HC_EKERI_PREFIX: identifier prefix rule broken";
	case HC_EKERI_SIG: return "HC_EKERI_SIG: signature does not verify";
	case HC_EKERI_THRESHOLD: return "HC_EKERI_THRESHOLD: signing threshold malformed or not met";
	case HC_EKERI_PRIOR: return "HC_EKERI_PRIOR: prior event digest does not match";
	case HC_EKERI_SN: return "HC_EKERI_SN: sequence number out of order";
	case HC_EKERI_DUPLICITY: return "HC_EKERI_DUPLICITY: another event at an accepted sequence number";
	case HC_EKERI_STALE: return "HC_EKERI_STALE: sequence number below the current one";
	case HC_EKERI_NEXT: return "HC_EKERI_NEXT: new keys do not match the pre-rotation commitment";
	case HC_EKERI_WITNESS: return "HC_EKERI_WITNESS: witness rules broken";
	case HC_EKERI_ABANDONED: return "HC_EKERI_ABANDONED: identifier was abandoned";
	case HC_EKERI_NONTRANS: return "HC_EKERI_NONTRANS: non-transferable identifier";
	case HC_EKERI_ESTONLY: return "HC_EKERI_ESTONLY: establishment-only identifier";
	case HC_EKERI_TRAIT: return "HC_EKERI_TRAIT: unknown or duplicated configuration trait";
	case HC_EKERI_CESR: return "HC_EKERI_CESR: unknown or malformed CESR code";
	case HC_EKERI_PAD: return "HC_EKERI_PAD: non-zero pad bits";
	case HC_EKERI_TRUNCATED: return "HC_EKERI_TRUNCATED: message truncated";
	case HC_EKERI_LIMIT: return "HC_EKERI_LIMIT: more keys, witnesses or signatures than supported";
	case HC_EKERI_STATE: return "HC_EKERI_STATE: stored key state does not decode";
	case HC_EKERI_NOSTATE: return "HC_EKERI_NOSTATE: no key state for this event";
	case HC_EKERI_UNWITNESSED: return "HC_EKERI_UNWITNESSED: fewer than bt verified witness signatures";
	case HC_EKERI_UNSEEN: return "HC_EKERI_UNSEEN: receipt of an event not accepted";
	case HC_EKERI_DELEGATION: return "HC_EKERI_DELEGATION: delegated event not approved by its delegator's KEL here";
	default:           break;
	}
	if (code > 0) {
		const char *s = strerrordesc_np(code); /* glibc >= 2.32: a constant, or NULL */
		if (s != NULL)
			return s;
	}
	return "unknown error";
}
