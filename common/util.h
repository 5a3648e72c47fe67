/* util: allocation that never returns NULL (out of memory is fatal), and
 * small string helpers. Any loop. */
#ifndef PARLEY_UTIL_H
#define PARLEY_UTIL_H

#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Prints "fatal: ..." and exits(70). Only for broken invariants and OOM. */
void fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Fills buf with n cryptographically random bytes; fatal on failure. */
void random_bytes(void *buf, size_t n);
/* Writes a random string of n chars from [a-z0-9] plus NUL into out (n+1 bytes). */
void random_id(char *out, size_t n);
/* Base64 (standard alphabet, padded). encode returns malloc'd string; decode
 * returns malloc'd bytes and length, or NULL on invalid input. */
char *base64_encode(const void *data, size_t len);
unsigned char *base64_decode(const char *s, size_t len, size_t *out_len);
bool str_eq(const char *a, const char *b); /* NULL-safe equality */
/* Parses a boolean word (1/0, true/false, yes/no, on/off); -1 if none. */
int parse_bool(const char *s);
/* True if s[0..len) is well-formed UTF-8 (no overlongs, surrogates or
 * code points over U+10FFFF, no NUL bytes). */
bool utf8_valid(const char *s, size_t len);
/* Monotonic clock in milliseconds. */
long long now_ms(void);

#endif
