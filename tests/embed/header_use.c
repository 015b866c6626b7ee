/* Compiled by tests/embed/header.sh as C11, C17 and C++17 with every warning an error:
 * hotcache.h and each of its macros must be clean in all three. */
#include <hotcache.h>

int header_use(hc_cache *c);

int header_use(hc_cache *c)
{
	struct hc_config cfg;
	struct hc_stats st;
	struct hc_shard_stats sh;
	struct hc_keystate ks;
	struct hc_kel_report rep;
	int rc = hc_config_default(&cfg);
	rc |= hc_stats(c, &st);
	rc |= hc_shard_stats(c, 0, &sh);
	rc |= hc_keystate_get(c, "E", &ks);
	rep.on_event = 0;
	rep.arg = 0;
	rc |= hc_kel_import(c, "", 0, &rep);
	return rc + HC_VERSION_NUMBER + (hc_version(0, 0, 0) != 0);
}
