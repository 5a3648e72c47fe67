#include "config.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_LINE 4096

struct config {
    const config_key *known;
    size_t nknown;
    char **file_values; /* parallel to known; NULL where the file is silent */
    char **errors;
    size_t nerrors;
    char **unknown;
    size_t nunknown;
    char *path;
};

static void list_add(char ***list, size_t *n, char *s)
{
    *list = xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = s;
}

void config_error(config *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        fatal("out of memory");
    va_end(ap);
    list_add(&c->errors, &c->nerrors, s);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static long key_index(const config *c, const char *key)
{
    for (size_t i = 0; i < c->nknown; i++)
        if (strcmp(c->known[i].name, key) == 0)
            return (long)i;
    return -1;
}

static void config_parse_line(config *c, char *line, int lineno)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#')
        return;
    char *eq = strchr(s, '=');
    if (!eq) {
        config_error(c, "%s:%d: expected KEY=value", c->path, lineno);
        return;
    }
    *eq = '\0';
    char *key = trim(s), *val = trim(eq + 1);
    size_t vl = strlen(val);
    if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
        val[vl - 1] = '\0';
        val++;
    }
    long idx = key_index(c, key);
    if (idx < 0) {
        list_add(&c->unknown, &c->nunknown, xstrdup(key));
        return;
    }
    free(c->file_values[idx]);
    c->file_values[idx] = xstrdup(val);
}

config *config_load(const char *path, const config_key *known, size_t n)
{
    config *c = xcalloc(1, sizeof *c);
    c->known = known;
    c->nknown = n;
    c->file_values = xcalloc(n, sizeof *c->file_values);
    if (!path)
        return c;
    c->path = xstrdup(path);
    FILE *f = fopen(path, "r");
    if (!f) {
        config_error(c, "%s: %s", path, strerror(errno));
        return c;
    }
    char line[CONFIG_MAX_LINE];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t l = strlen(line);
        if (l == sizeof line - 1 && line[l - 1] != '\n') {
            config_error(c, "%s:%d: line too long", path, lineno);
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n')
                ;
            continue;
        }
        config_parse_line(c, line, lineno);
    }
    fclose(f);
    return c;
}

void config_free(config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nknown; i++)
        free(c->file_values[i]);
    for (size_t i = 0; i < c->nerrors; i++)
        free(c->errors[i]);
    for (size_t i = 0; i < c->nunknown; i++)
        free(c->unknown[i]);
    free(c->file_values);
    free(c->errors);
    free(c->unknown);
    free(c->path);
    free(c);
}

const char *config_get(const config *c, const char *key)
{
    long idx = key_index(c, key);
    if (idx < 0)
        fatal("config key %s is not declared", key);
    const char *env = getenv(key);
    if (env)
        return env;
    if (c->file_values[idx])
        return c->file_values[idx];
    return c->known[idx].def;
}

long config_get_int(config *c, const char *key, long min, long max, long fallback)
{
    const char *v = config_get(c, key);
    if (!v || !*v)
        return fallback;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < min || x > max) {
        config_error(c, "%s: '%s' is not a whole number from %ld to %ld", key, v, min, max);
        return fallback;
    }
    return x;
}

bool config_get_bool(config *c, const char *key, bool fallback)
{
    const char *v = config_get(c, key);
    if (!v || !*v)
        return fallback;
    int b = parse_bool(v);
    if (b < 0) {
        config_error(c, "%s: '%s' is not a boolean (true/false, 1/0, yes/no)", key, v);
        return fallback;
    }
    return b;
}

const char *const *config_errors(const config *c, size_t *n)
{
    *n = c->nerrors;
    return (const char *const *)c->errors;
}

const char *const *config_unknown(const config *c, size_t *n)
{
    *n = c->nunknown;
    return (const char *const *)c->unknown;
}

const char *config_path(const config *c)
{
    return c->path;
}
