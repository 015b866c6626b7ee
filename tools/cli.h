/* Shared by the hotcache command's parts. */
#ifndef HC_TOOLS_CLI_H
#define HC_TOOLS_CLI_H

#include "hotcache.h"

/*
 * Builds a config from defaults, --config FILE, --set section.key=value and --store DIR,
 * and removes those options from argv (argc updated). It starts with no store; one is
 * chosen by --store DIR, --set backing.path=DIR or a config file's [backing] path (or
 * store_default, NULL for none), and then backing.mode is rocksdb; otherwise
 * backing.path is "" and backing.mode none. Returns 0, or 2 after a one-line error.
 */
int cli_config(struct hc_config *cfg, int *argc, char **argv, const char *store_default);

/* `hotcache load`: argv[0] is "load". Returns the exit status. */
int load_main(int argc, char **argv);

#endif
