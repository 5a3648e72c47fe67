/* config: one file per daemon, `KEY=value` lines (spaces around '=' allowed,
 * '#' starts a comment line, a value may be wrapped in double quotes). Keys
 * are the docker-jitsi-meet environment names where one exists; an
 * environment variable of the same name overrides the file. Unknown keys in
 * the file are collected so the daemon can warn about them by name.
 *
 * Ownership: config_load returns a config the caller frees with config_free;
 * returned strings are borrowed from it. Errors are appended to a list so a
 * checker can report every problem in one go. Any loop (startup only). */
#ifndef PARLEY_CONFIG_H
#define PARLEY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct config_key {
    const char *name;
    const char *def; /* default value, or NULL for none */
    const char *help;
} config_key;

typedef struct config config;

/* Loads path (NULL: defaults + environment only). A missing or unreadable
 * file is an error reported through config_errors, not a failure; the
 * result is never NULL. known lists the accepted keys (n of them). */
config *config_load(const char *path, const config_key *known, size_t n);
void config_free(config *c);

/* The effective value (environment, else file, else default); NULL if unset. */
const char *config_get(const config *c, const char *key);
/* Typed accessors: on a malformed value they record an error naming the key
 * and return the default's parse (or fallback). */
long config_get_int(config *c, const char *key, long min, long max, long fallback);
bool config_get_bool(config *c, const char *key, bool fallback);
/* Records a problem (printf-style) for config_errors. */
void config_error(config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Problems found so far (unreadable file, bad lines, bad values); count in *n. */
const char *const *config_errors(const config *c, size_t *n);
/* Unknown keys found in the file; count in *n. */
const char *const *config_unknown(const config *c, size_t *n);
/* The path loaded, or NULL. */
const char *config_path(const config *c);

#endif
