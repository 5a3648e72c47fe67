#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* The logger's settings: written once by log_init before the loop starts. */
static struct {
    const char *ident;
    log_level level;
} log_cfg = {"parley", LOG_INFO};

void log_init(const char *ident, log_level level)
{
    log_cfg.ident = ident;
    log_cfg.level = level;
    setvbuf(stderr, NULL, _IOLBF, 0);
}

int log_level_parse(const char *s)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, names[i]) == 0)
            return i;
    if (s && strcmp(s, "warning") == 0)
        return LOG_WARN;
    return -1;
}

int log_enabled(log_level level)
{
    return level >= log_cfg.level;
}

void log_msg(log_level level, const char *ctx, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (!log_enabled(level))
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* One event, one line: fold any newline that came from peer data. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "%s.%03dZ %-5s %s: %s%s%s\n", ts, (int)(tv.tv_usec / 1000), names[level],
            log_cfg.ident, line, ctx ? " " : "", ctx ? ctx : "");
}
