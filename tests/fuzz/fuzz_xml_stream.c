/* fuzz_xml_stream: libFuzzer target for xmppd/xml_stream.c and the
 * serializer of xmppd/xml.c, with small limits (4096-byte stanzas, depth
 * 16, 16 attributes). The input is fed whole, in chunks cut at positions
 * derived from the input, and (if short) byte by byte; it aborts if an
 * invariant breaks:
 *  - all feedings give the same callbacks and the same result (up to the
 *    first restart, after which the discarded bytes differ);
 *  - every stanza, serialized and parsed again inside a stream, serializes
 *    to the same string.
 * A stanza named <proceed/> or <success/> restarts the stream from the
 * callback (as after STARTTLS or SASL), one named <failure/> halts it. */
#include "sbuf.h"
#include "xmppd/xml_stream.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const xml_stream_limits fuzz_limits = {4096, 16, 16};

typedef struct fuzz_rec {
    sbuf log;
    xml_stream *xs;
    size_t restart_at; /* log length at the first restart, or SIZE_MAX */
} fuzz_rec;

typedef struct fuzz_one {
    char *s; /* the single stanza of a reparse, serialized */
    int n;
} fuzz_one;

static void fuzz_line(sbuf *log, const char *s, size_t len)
{
    sbuf_add(log, s, len);
    sbuf_addc(log, '\n');
}

static void fuzz_open(void *ud, const xml_node *h)
{
    fuzz_rec *r = ud;
    sbuf_adds(&r->log, "open");
    for (size_t i = 0; i < h->nattrs; i++) {
        sbuf_printf(&r->log, " %s=", h->attrs[i].name);
        sbuf_add_xml_escaped(&r->log, h->attrs[i].value, strlen(h->attrs[i].value));
        if (h->attrs[i].attr_ns)
            sbuf_printf(&r->log, "{%s}", h->attrs[i].attr_ns);
    }
    sbuf_addc(&r->log, '\n');
}

static void fuzz_reparse_stanza(void *ud, xml_node *st)
{
    fuzz_one *one = ud;
    if (one->n++ == 0)
        one->s = xml_to_string(st, XMLNS_CLIENT, NULL);
    xml_free(st);
}

/* Parses s (a serialized stanza) inside a jabber:client stream and checks
 * that it serializes back to s. */
static void fuzz_roundtrip(const char *s, size_t len)
{
    static const char hdr[] = "<stream:stream xmlns='jabber:client' "
                              "xmlns:stream='http://etherx.jabber.org/streams'>";
    /* serializing can grow a stanza (escapes, repeated declarations) */
    const xml_stream_limits big = {16u << 20, 64, 64};
    const xml_stream_callbacks cbs = {NULL, fuzz_reparse_stanza, NULL};
    fuzz_one one = {NULL, 0};
    xml_stream *xs = xml_stream_new(&big, &cbs, &one);
    xml_stream_error e1 = xml_stream_feed(xs, hdr, sizeof hdr - 1);
    xml_stream_error e2 = xml_stream_feed(xs, s, len);
    xml_stream_free(xs);
    if (e1 != XS_OK || e2 != XS_OK || one.n != 1 || strcmp(one.s, s) != 0) {
        fprintf(stderr, "round trip failed (errors %d %d, %d stanzas):\n%s\n%s\n", e1, e2, one.n, s,
                one.s ? one.s : "(none)");
        abort();
    }
    free(one.s);
}

static void fuzz_stanza(void *ud, xml_node *st)
{
    fuzz_rec *r = ud;
    size_t len;
    char *s = xml_to_string(st, XMLNS_CLIENT, &len);
    fuzz_line(&r->log, s, len);
    fuzz_roundtrip(s, len);
    free(s);
    bool restart = strcmp(st->name, "proceed") == 0 || strcmp(st->name, "success") == 0;
    bool halt = strcmp(st->name, "failure") == 0;
    xml_free(st);
    if (restart) {
        if (r->restart_at == SIZE_MAX)
            r->restart_at = r->log.len;
        xml_stream_restart(r->xs);
    }
    if (halt)
        xml_stream_halt(r->xs);
}

static void fuzz_close(void *ud)
{
    fuzz_rec *r = ud;
    sbuf_adds(&r->log, "close\n");
}

/* xorshift64*, seeded from the input: the cut points depend on the data. */
static uint64_t fuzz_next(uint64_t *st)
{
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return *st * 2685821657736338717ull;
}

enum { FUZZ_WHOLE, FUZZ_CHUNKS, FUZZ_BYTES };

/* Feeds data as the mode says; the log (with the result appended) goes to
 * r->log. */
static void fuzz_run(const uint8_t *data, size_t size, int mode, uint64_t seed, fuzz_rec *r)
{
    static const xml_stream_callbacks cbs = {fuzz_open, fuzz_stanza, fuzz_close};
    sbuf_init(&r->log);
    r->restart_at = SIZE_MAX;
    r->xs = xml_stream_new(&fuzz_limits, &cbs, r);
    xml_stream_error err = XS_OK;
    size_t at = 0;
    while (at < size || (at == 0 && size == 0)) {
        size_t n = size - at;
        if (mode == FUZZ_BYTES) {
            n = n ? 1 : 0;
        } else if (mode == FUZZ_CHUNKS) {
            uint64_t x = fuzz_next(&seed);
            size_t max = (x & 3) == 0 ? 1 : (x & 3) == 1 ? 16 : (x & 3) == 2 ? 512 : 8192;
            size_t c = 1 + (size_t)((x >> 8) % max);
            if (n > c)
                n = c;
        }
        xml_stream_error e = xml_stream_feed(r->xs, (const char *)data + at, n);
        if (err != XS_OK && e != err)
            abort(); /* errors are sticky */
        err = e;
        at += n;
        if (size == 0)
            break;
    }
    xml_stream_free(r->xs);
    sbuf_printf(&r->log, "result %d\n", err);
}

/* Logs must match; after a restart only the part before it must. */
static void fuzz_compare(const fuzz_rec *a, const fuzz_rec *b, const char *what)
{
    bool restarted = a->restart_at != SIZE_MAX || b->restart_at != SIZE_MAX;
    size_t la = restarted ? a->restart_at : a->log.len;
    size_t lb = restarted ? b->restart_at : b->log.len;
    if (la == lb && (la == 0 || memcmp(a->log.data, b->log.data, la) == 0))
        return;
    fprintf(stderr, "whole and %s feeding differ:\n--- whole\n%s--- %s\n%s", what,
            a->log.data ? a->log.data : "", what, b->log.data ? b->log.data : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t seed = 14695981039346656037ull; /* FNV-1a of the input */
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 1099511628211ull;
    seed |= 1;

    fuzz_rec whole, chunks;
    fuzz_run(data, size, FUZZ_WHOLE, seed, &whole);
    fuzz_run(data, size, FUZZ_CHUNKS, seed, &chunks);
    fuzz_compare(&whole, &chunks, "chunked");
    sbuf_free(&chunks.log);
    if (size <= 1024) {
        fuzz_rec bytes;
        fuzz_run(data, size, FUZZ_BYTES, seed, &bytes);
        fuzz_compare(&whole, &bytes, "byte-by-byte");
        sbuf_free(&bytes.log);
    }
    sbuf_free(&whole.log);
    return 0;
}
