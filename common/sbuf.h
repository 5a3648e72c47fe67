/* sbuf: a growable byte buffer, always NUL-terminated.
 * Ownership: the caller owns the struct; sbuf_free releases its memory,
 * sbuf_steal hands the bytes to the caller (free() them). Any loop. */
#ifndef PARLEY_SBUF_H
#define PARLEY_SBUF_H

#include <stddef.h>

typedef struct sbuf {
    char *data; /* NUL-terminated, NULL until the first append */
    size_t len;
    size_t cap;
} sbuf;

void sbuf_init(sbuf *b);
void sbuf_free(sbuf *b);
void sbuf_reset(sbuf *b);
void sbuf_add(sbuf *b, const char *s, size_t len);
void sbuf_adds(sbuf *b, const char *s);
void sbuf_addc(sbuf *b, char c);
void sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with XML escaping of & < > " ' (for text and attribute values). */
void sbuf_add_xml_escaped(sbuf *b, const char *s, size_t len);
/* Returns the malloc'd bytes (never NULL) and leaves b empty. */
char *sbuf_steal(sbuf *b, size_t *len);

#endif
