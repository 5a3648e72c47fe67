/* daemon: command line and configuration report shared by the daemons'
 * main() (see daemon.h). */
#include "daemon.h"

#include "log.h"
#include "parley_version.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void daemon_usage(FILE *f, const char *name, const char *config_help)
{
    fprintf(f,
            "usage: %s [--config FILE] [--check] [--version]\n"
            "  --config FILE  configuration (KEY=value lines; environment overrides)\n"
            "                 %s\n"
            "  --check        validate the configuration and exit\n"
            "See docs/%s.md for every setting.\n",
            name, config_help, name);
}

void daemon_parse_args(int argc, char **argv, const char *name, const char *config_help,
                       const char **path, bool *check)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"check", no_argument, NULL, 'k'},
                                         {"version", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    *path = NULL;
    *check = false;
    int o;
    while ((o = getopt_long(argc, argv, "c:kVh", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            *path = optarg;
            break;
        case 'k':
            *check = true;
            break;
        case 'V':
            printf("parley %s %s\n", name, PARLEY_VERSION);
            exit(0);
        case 'h':
            daemon_usage(stdout, name, config_help);
            exit(0);
        default:
            daemon_usage(stderr, name, config_help);
            exit(2);
        }
    }
}

bool daemon_config_ok(const config *c, const char *name, const char *path)
{
    size_t nunk, nerr;
    const char *const *unk = config_unknown(c, &nunk);
    for (size_t i = 0; i < nunk; i++)
        log_warn(NULL, "%s: unknown setting %s (ignored)", path ? path : "environment", unk[i]);
    const char *const *errs = config_errors(c, &nerr);
    for (size_t i = 0; i < nerr; i++)
        log_error(NULL, "config: %s", errs[i]);
    if (nerr)
        fprintf(stderr, "%s: %zu configuration problem(s)%s%s\n", name, nerr, path ? " in " : "",
                path ? path : "");
    return nerr == 0;
}
