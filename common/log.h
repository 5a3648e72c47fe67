/* log: one line per event on stderr:
 *   2026-11-24T12:00:00.123Z info  xmppd: c2s authenticated [jid=a@b/c ip=127.0.0.1]
 * The level threshold is set once at startup (log_init) and is the only
 * process-wide logging state. Any loop. */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

typedef enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* ident: daemon name printed on every line; level: threshold. */
void log_init(const char *ident, log_level level);
/* Parses "debug" / "info" / "warn" / "error"; -1 if unknown. */
int log_level_parse(const char *s);
int log_enabled(log_level level);
/* ctx: "[jid=... ip=...]"-style context, or NULL. */
void log_msg(log_level level, const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ctx, ...)                                                                        \
    do {                                                                                           \
        if (log_enabled(LOG_DEBUG))                                                                \
            log_msg(LOG_DEBUG, ctx, __VA_ARGS__);                                                  \
    } while (0)
#define log_info(ctx, ...) log_msg(LOG_INFO, ctx, __VA_ARGS__)
#define log_warn(ctx, ...) log_msg(LOG_WARN, ctx, __VA_ARGS__)
#define log_error(ctx, ...) log_msg(LOG_ERROR, ctx, __VA_ARGS__)

#endif
