/* http_parse: the request half of http.h without sockets: bytes in,
 * http_request structs out, on http-parser (never by hand). It enforces
 * every limit before buffering: request line + headers at most
 * HTTP_MAX_HEADER_BYTES (counted exactly, raw bytes), at most
 * HTTP_MAX_HEADERS headers, a body at most max_body (declared
 * Content-Length on headers complete, running total for chunked bodies),
 * and turns the result into an HTTP status: 400 malformed (bad URL, bad
 * percent-encoding, %00 in the path, parser errors), 405 CONNECT, 413 body,
 * 431 headers. Used by http.c and by the fuzz target.
 *
 * http_header_get, http_query_param (http.h) are defined here too.
 * Ownership: the parser owns the request being built; http_parse_take
 * hands it to the caller (free with http_parse_request_free). No globals. */
#ifndef PARLEY_HTTP_PARSE_H
#define PARLEY_HTTP_PARSE_H

#include "http.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct http_parse http_parse;

typedef enum http_parse_result {
    HTTP_PARSE_MORE = 0, /* every byte given was consumed; no request yet */
    HTTP_PARSE_DONE,     /* a request is complete: http_parse_take it */
    HTTP_PARSE_ERROR,    /* http_parse_status says which; feed no more */
} http_parse_result;

/* A request as parsed; req is what handlers see (first member). */
typedef struct http_parsed {
    http_request req;
    bool http10;  /* HTTP/1.0 (Connection: keep-alive in the answer) */
    bool is_head; /* HEAD: the answer has no body */
} http_parsed;

http_parse *http_parse_new(size_t max_body);
void http_parse_free(http_parse *p);
/* Feeds len bytes (len > 0); *used: how many were consumed. Parsing stops
 * right after each complete request (DONE), so bytes of the next request,
 * or of the upgraded protocol, stay with the caller. */
http_parse_result http_parse_feed(http_parse *p, const char *data, size_t len, size_t *used);
/* After DONE: the request (the parser is ready for the next one unless
 * the request was an upgrade). */
http_parsed *http_parse_take(http_parse *p);
/* After ERROR: 400, 405, 413 or 431. */
int http_parse_status(const http_parse *p);
/* True when no byte of a next request has been seen (idle keep-alive). */
bool http_parse_idle(const http_parse *p);
void http_parse_request_free(http_parsed *r);

/* Percent-decodes s[0..len) into a malloc'd string; plus_space: '+' is a
 * space (query strings). NULL on an invalid escape or an encoded NUL. */
char *http_parse_decode(const char *s, size_t len, bool plus_space);

#endif
