/*
 * keri/error.c: names of the keri_err codes and the one formatter every rejection
 * goes through, so each error carries a sentence naming its rule and field.
 */
#include <stdarg.h>
#include <stdio.h>

#include "keri/keri.h"

const char *keri_strerror(int code)
{
	switch (code) {
	case KERI_OK: return "KERI_OK: accepted";
	case KERI_DUPLICATE: return "KERI_DUPLICATE: duplicate of an accepted event (no-op)";
	case KERI_RECEIPT: return "KERI_RECEIPT: receipt message, skipped";
	case KERI_RECOVERY: return "KERI_RECOVERY: recovery rotation, finished by "
	                           "keri_apply_recover";
	case KERI_EINVAL: return "KERI_EINVAL: invalid argument";
	case KERI_ENOMEM: return "KERI_ENOMEM: out of memory";
	case KERI_EVERSION: return "KERI_EVERSION: bad or unsupported version string";
	case KERI_ESIZE: return "KERI_ESIZE: declared size differs from the event length";
	case KERI_EJSON: return "KERI_EJSON: not canonical compact JSON";
	case KERI_EFIELD_ORDER: return "KERI_EFIELD_ORDER: fields missing, extra or out of order";
	case KERI_EILK: return "KERI_EILK: unknown message type";
	case KERI_EILK_UNSUPPORTED: return "KERI_EILK_UNSUPPORTED: unsupported message type (reserved)";
	case KERI_EFIELD: return "KERI_EFIELD: bad field value";
	case KERI_ESAID: return "KERI_ESAID: SAID does not match the event";
	case KERI_EPREFIX: return "KERI_EPREFIX: prefix rule violated";
	case KERI_ESIG: return "KERI_ESIG: no controller signature verifies";
	case KERI_ETHRESHOLD: return "KERI_ETHRESHOLD: threshold malformed or not satisfied";
	case KERI_EPRIOR: return "KERI_EPRIOR: prior event digest mismatch";
	case KERI_ESN: return "KERI_ESN: bad or out-of-order sequence number";
	case KERI_EDUPLICITY: return "KERI_EDUPLICITY: duplicitous event (same sn, other SAID)";
	case KERI_ESTALE: return "KERI_ESTALE: sn below the current key state";
	case KERI_ENEXT: return "KERI_ENEXT: new keys do not satisfy the prior next commitment";
	case KERI_EWITNESS: return "KERI_EWITNESS: witness rule violated";
	case KERI_EABANDONED: return "KERI_EABANDONED: identifier abandoned";
	case KERI_ENONTRANS: return "KERI_ENONTRANS: non-transferable identifier";
	case KERI_EESTONLY: return "KERI_EESTONLY: establishment-only identifier";
	case KERI_ETRAIT: return "KERI_ETRAIT: unknown or repeated config trait";
	case KERI_ECESR: return "KERI_ECESR: bad or unsupported CESR code";
	case KERI_EPAD: return "KERI_EPAD: non-zero pad bits";
	case KERI_ETRUNCATED: return "KERI_ETRUNCATED: input truncated";
	case KERI_ELIMIT: return "KERI_ELIMIT: a fixed limit of the KERI module is exceeded";
	case KERI_ESTATE: return "KERI_ESTATE: stored key state is corrupt";
	case KERI_ERANGE: return "KERI_ERANGE: output buffer too small";
	case KERI_ENOSTATE: return "KERI_ENOSTATE: event does not fit the presence of key state";
	case KERI_EUNWITNESSED: return "KERI_EUNWITNESSED: fewer than bt verified witness signatures";
	case KERI_EUNSEEN: return "KERI_EUNSEEN: receipt of an event not accepted";
	case KERI_EUNSIGNED: return "KERI_EUNSIGNED: verified signatures do not meet kt yet";
	case KERI_EDELEGATION: return "KERI_EDELEGATION: delegation not approved (delegator's anchor not seen, DND, or rot on a delegated identifier)";
	default: return "KERI: unknown error code";
	}
}

int keri_fail(char *why, size_t whylen, int code, const char *fmt, ...)
{
	if (why && whylen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return code;
}
