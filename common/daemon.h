/* daemon: the first steps every parley daemon's main() takes: the command
 * line (--config FILE, --check, --version, --help) and the report of the
 * configuration's problems (every unknown key warned about by name, every
 * error logged, one summary line on stderr).
 *
 * Ownership: *path points into argv. No allocation, no state. Startup only. */
#ifndef PARLEY_DAEMON_H
#define PARLEY_DAEMON_H

#include "config.h"

#include <stdbool.h>

/* Parses argv. --version and --help print and exit(0); a bad option prints
 * the usage and exits(2). config_help: the --config line's explanation (the
 * default file, say). Sets *path (NULL when not given) and *check. */
void daemon_parse_args(int argc, char **argv, const char *name, const char *config_help,
                       const char **path, bool *check);

/* After config_load and log_init: logs unknown keys (warn) and errors;
 * returns true when there is no error, else prints "NAME: N configuration
 * problem(s) [in PATH]" on stderr and returns false. */
bool daemon_config_ok(const config *c, const char *name, const char *path);

#endif
