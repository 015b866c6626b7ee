/* Shared by the hotcache command's parts. */
#ifndef HC_TOOLS_CLI_H
#define HC_TOOLS_CLI_H

#include "hotcache.h"

/*
 * Builds a config from defaults, --config FILE, --set section.key=value and --store DIR
 * (which selects backing.mode = rocksdb at DIR; store_default applies when no --store
 * is given, NULL for none), and removes those options from argv (argc updated).
 * Returns 0, or 2 after printing a one-line error.
 */
int cli_config(struct hc_config *cfg, int *argc, char **argv, const char *store_default);

/* `hotcache load`: argv[0] is "load". Returns the exit status. */
int load_main(int argc, char **argv);

#endif
