/* fuzz_http: libFuzzer target for xmppd/http_parse.c, the request parser
 * under the HTTP server. The first input byte picks a split size; the rest
 * is parsed twice, whole and fed in pieces of that size, and the two
 * transcripts (requests, error status, bytes left after an upgrade) must
 * be identical. Aborts if a request breaks the limits or the invariants
 * (NUL-terminated body within max_body, at most HTTP_MAX_HEADERS
 * lower-case headers, a decoded path starting with '/'). */
#include "http_parse.h"
#include "sbuf.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_BODY 300

static void fuzz_check_request(const http_parsed *pr, sbuf *t)
{
    const http_request *r = &pr->req;
    if (!r->method || !r->path || !r->body || r->body[r->body_len] != '\0')
        abort();
    if (r->body_len > FUZZ_MAX_BODY || r->nheaders > HTTP_MAX_HEADERS)
        abort();
    if (r->path[0] != '/' && strcmp(r->path, "*") != 0)
        abort();
    sbuf_printf(t, "req %s path=%s query=%s ka=%d up=%d v10=%d head=%d\n", r->method, r->path,
                r->query ? r->query : "(none)", r->keep_alive, r->upgrade, pr->http10, pr->is_head);
    for (size_t i = 0; i < r->nheaders; i++) {
        const http_header *h = &r->headers[i];
        for (const char *c = h->name; *c; c++)
            if (isupper((unsigned char)*c))
                abort();
        if (http_header_get(r, h->name) == NULL)
            abort();
        sbuf_printf(t, "  %s: %s\n", h->name, h->value);
    }
    sbuf_printf(t, "  body %zu:", r->body_len);
    sbuf_add(t, r->body, r->body_len);
    sbuf_addc(t, '\n');
    const char *names[] = {"a", "b", "", "x y"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *v = http_query_param(r, names[i]);
        if (v && !r->query)
            abort();
        sbuf_printf(t, "  param %s=%s\n", names[i], v ? v : "(null)");
        free(v);
    }
}

/* Parses data in pieces of step bytes, logging what comes out into t. */
static void fuzz_run(const char *data, size_t size, size_t step, sbuf *t)
{
    http_parse *p = http_parse_new(FUZZ_MAX_BODY);
    size_t off = 0;
    while (off < size) {
        size_t end = off + step < size ? off + step : size;
        while (off < end) {
            size_t used = 0, avail = end - off;
            http_parse_result res = http_parse_feed(p, data + off, avail, &used);
            if (used > avail || (res == HTTP_PARSE_MORE && used != avail))
                abort(); /* MORE consumes everything */
            off += used;
            if (res == HTTP_PARSE_ERROR) {
                int st = http_parse_status(p);
                if (st != 400 && st != 405 && st != 413 && st != 431)
                    abort();
                sbuf_printf(t, "error %d\n", st);
                http_parse_free(p);
                return;
            }
            if (res == HTTP_PARSE_DONE) {
                http_parsed *pr = http_parse_take(p);
                if (!pr)
                    abort();
                fuzz_check_request(pr, t);
                bool up = pr->req.upgrade;
                http_parse_request_free(pr);
                if (up) {
                    sbuf_printf(t, "upgrade, %zu bytes left\n", size - off);
                    http_parse_free(p);
                    return;
                }
            }
        }
    }
    sbuf_printf(t, "more idle=%d\n", http_parse_idle(p));
    http_parse_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = data[0] ? data[0] : 1;
    const char *s = (const char *)data + 1;
    size--;
    sbuf whole, split;
    sbuf_init(&whole);
    sbuf_init(&split);
    fuzz_run(s, size, size ? size : 1, &whole);
    fuzz_run(s, size, step, &split);
    if (whole.len != split.len || (whole.len && memcmp(whole.data, split.data, whole.len) != 0))
        abort();
    sbuf_free(&whole);
    sbuf_free(&split);
    return 0;
}
