/* http_parse: bytes to http_request on http-parser, with parley's limits.
 * See http_parse.h. */
#include "http_parse.h"

#include "sbuf.h"
#include "util.h"

#include <ctype.h>
#include <http_parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    HTTP_P_IDLE = 0, /* between requests */
    HTTP_P_HEAD,     /* request line and headers */
    HTTP_P_BODY,     /* headers complete; body (and trailers) */
    HTTP_P_DONE,     /* a request is ready for http_parse_take */
    HTTP_P_ERROR,    /* failed; status says why */
    HTTP_P_UPGRADED, /* an upgrade request was taken: nothing more is HTTP */
};

struct http_parse {
    http_parser hp;
    size_t max_body;
    int state;
    int status;
    size_t head_bytes;    /* raw bytes of the current request line + headers */
    size_t trailer_bytes; /* bytes of chunked trailers (ignored, but bounded) */
    sbuf url;
    sbuf field;
    sbuf value;
    bool in_value; /* the last header callback was a value */
    bool too_many; /* more than HTTP_MAX_HEADERS: the rest are dropped */
    http_header *headers;
    size_t nheaders;
    sbuf body;
    http_parsed *req; /* built on headers complete */
};

/* Records a failure (the first one wins) and returns the callback error. */
static int http_parse_fail(http_parse *p, int status)
{
    if (p->state != HTTP_P_ERROR) {
        p->state = HTTP_P_ERROR;
        p->status = status;
    }
    return -1;
}

static void http_parse_clear_headers(http_parse *p)
{
    for (size_t i = 0; i < p->nheaders; i++) {
        free(p->headers[i].name);
        free(p->headers[i].value);
    }
    p->nheaders = 0;
}

/* Forgets the request under construction. */
static void http_parse_reset(http_parse *p)
{
    sbuf_reset(&p->url);
    sbuf_reset(&p->field);
    sbuf_reset(&p->value);
    sbuf_reset(&p->body);
    p->in_value = false;
    p->too_many = false;
    http_parse_clear_headers(p);
    if (p->req) {
        http_parse_request_free(p->req);
        p->req = NULL;
    }
    p->head_bytes = 0;
    p->trailer_bytes = 0;
}

char *http_parse_decode(const char *s, size_t len, bool plus_space)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '%') {
            if (i + 2 >= len) {
                free(out);
                return NULL;
            }
            if (!isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2])) {
                free(out);
                return NULL;
            }
            char hex[3] = {s[i + 1], s[i + 2], '\0'};
            ch = (unsigned char)strtoul(hex, NULL, 16);
            i += 2;
        } else if (ch == '+' && plus_space) {
            ch = ' ';
        }
        if (ch == '\0') {
            free(out);
            return NULL;
        }
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    return out;
}

/* Moves the accumulated field/value pair into the header list. */
static int http_parse_push_header(http_parse *p)
{
    if (!p->in_value && p->field.len == 0)
        return 0;
    if (p->nheaders >= HTTP_MAX_HEADERS) { /* not kept; 431 on headers complete */
        p->too_many = true;
        sbuf_reset(&p->field);
        sbuf_reset(&p->value);
        p->in_value = false;
        return 0;
    }
    if (memchr(p->field.data ? p->field.data : "", '\0', p->field.len) ||
        (p->value.len && memchr(p->value.data, '\0', p->value.len)))
        return http_parse_fail(p, 400);
    size_t vlen = p->value.len;
    while (vlen && (p->value.data[vlen - 1] == ' ' || p->value.data[vlen - 1] == '\t'))
        vlen--;
    http_header *h = &p->headers[p->nheaders++];
    h->name = xstrndup(p->field.data ? p->field.data : "", p->field.len);
    for (char *c = h->name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    h->value = xstrndup(p->value.data ? p->value.data : "", vlen);
    sbuf_reset(&p->field);
    sbuf_reset(&p->value);
    p->in_value = false;
    return 0;
}

static int http_parse_on_message_begin(http_parser *hp)
{
    http_parse *p = hp->data;
    size_t head = p->head_bytes; /* leading CRLFs already counted */
    http_parse_reset(p);
    p->head_bytes = head;
    p->state = HTTP_P_HEAD;
    return 0;
}

static int http_parse_on_url(http_parser *hp, const char *at, size_t len)
{
    http_parse *p = hp->data;
    sbuf_add(&p->url, at, len);
    return 0;
}

/* Trailers of a chunked body are counted against the header limit and
 * otherwise ignored (never buffered; http-parser bounds them meanwhile). */
static int http_parse_trailer(http_parse *p, size_t len)
{
    p->trailer_bytes += len; /* checked on message complete (split-independent) */
    return 0;
}

static int http_parse_on_header_field(http_parser *hp, const char *at, size_t len)
{
    http_parse *p = hp->data;
    if (p->state == HTTP_P_BODY)
        return http_parse_trailer(p, len);
    if (p->in_value && http_parse_push_header(p) != 0)
        return -1;
    if (p->nheaders >= HTTP_MAX_HEADERS) {
        /* Too many: nothing more is kept. Failing at once would make the
         * answer depend on how the bytes were split (a later parse error
         * may or may not come first); headers complete says 431. */
        p->too_many = true;
        return 0;
    }
    sbuf_add(&p->field, at, len);
    return 0;
}

static int http_parse_on_header_value(http_parser *hp, const char *at, size_t len)
{
    http_parse *p = hp->data;
    if (p->state == HTTP_P_BODY)
        return http_parse_trailer(p, len);
    if (p->nheaders >= HTTP_MAX_HEADERS) {
        p->too_many = true;
        return 0;
    }
    sbuf_add(&p->value, at, len);
    p->in_value = true;
    return 0;
}

/* Fills path and query from the request target; 0 or an HTTP status. */
static int http_parse_target(http_parse *p, http_request *r)
{
    const char *url = p->url.data ? p->url.data : "";
    size_t len = p->url.len;
    if (len == 1 && url[0] == '*' && p->hp.method == HTTP_OPTIONS) {
        r->path = xstrdup("*");
        return 0;
    }
    if (len == 0 || memchr(url, '\0', len))
        return 400;
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(url, len, 0, &u) != 0)
        return 400;
    if (u.field_set & (1 << UF_PATH)) {
        r->path =
            http_parse_decode(url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len, false);
        if (!r->path)
            return 400;
    } else if (u.field_set & (1 << UF_HOST)) {
        r->path = xstrdup("/"); /* absolute-form without a path */
    } else {
        return 400;
    }
    if (r->path[0] != '/')
        return 400;
    if (u.field_set & (1 << UF_QUERY))
        r->query = xstrndup(url + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
    return 0;
}

static int http_parse_on_headers_complete(http_parser *hp)
{
    http_parse *p = hp->data;
    if (http_parse_push_header(p) != 0)
        return -1;
    if (p->too_many)
        return http_parse_fail(p, 431);
    if (hp->method == HTTP_CONNECT)
        return http_parse_fail(p, 405);
    http_parsed *pr = xcalloc(1, sizeof *pr);
    p->req = pr;
    http_request *r = &pr->req;
    r->method = http_method_str((enum http_method)hp->method);
    int st = http_parse_target(p, r);
    if (st)
        return http_parse_fail(p, st);
    if ((hp->flags & F_CONTENTLENGTH) && hp->content_length > p->max_body)
        return http_parse_fail(p, 413);
    r->headers = p->headers;
    r->nheaders = p->nheaders;
    p->headers = xcalloc(HTTP_MAX_HEADERS, sizeof *p->headers);
    p->nheaders = 0;
    r->keep_alive = http_should_keep_alive(hp) != 0;
    r->upgrade = hp->upgrade != 0;
    pr->http10 = hp->http_major == 1 && hp->http_minor == 0;
    pr->is_head = hp->method == HTTP_HEAD;
    if (hp->http_major != 1)
        return http_parse_fail(p, 400);
    p->state = HTTP_P_BODY;
    http_parser_pause(hp, 1); /* the caller counts the head's bytes */
    return 0;
}

static int http_parse_on_body(http_parser *hp, const char *at, size_t len)
{
    http_parse *p = hp->data;
    if (len > p->max_body - p->body.len)
        return http_parse_fail(p, 413);
    sbuf_add(&p->body, at, len);
    return 0;
}

static int http_parse_on_chunk_header(http_parser *hp)
{
    http_parse *p = hp->data;
    if (hp->content_length > p->max_body - p->body.len)
        return http_parse_fail(p, 413);
    return 0;
}

static int http_parse_on_message_complete(http_parser *hp)
{
    http_parse *p = hp->data;
    if (!p->req || p->state != HTTP_P_BODY)
        return http_parse_fail(p, 400);
    if (p->head_bytes + p->trailer_bytes > HTTP_MAX_HEADER_BYTES)
        return http_parse_fail(p, 431);
    http_request *r = &p->req->req;
    if (p->body.len) {
        r->body = sbuf_steal(&p->body, &r->body_len);
    } else {
        r->body = xstrdup("");
        r->body_len = 0;
    }
    p->state = HTTP_P_DONE;
    http_parser_pause(hp, 1); /* one request at a time */
    return 0;
}

static const http_parser_settings http_parse_settings = {
    .on_message_begin = http_parse_on_message_begin,
    .on_url = http_parse_on_url,
    .on_header_field = http_parse_on_header_field,
    .on_header_value = http_parse_on_header_value,
    .on_headers_complete = http_parse_on_headers_complete,
    .on_body = http_parse_on_body,
    .on_message_complete = http_parse_on_message_complete,
    .on_chunk_header = http_parse_on_chunk_header,
};

http_parse *http_parse_new(size_t max_body)
{
    http_parse *p = xcalloc(1, sizeof *p);
    http_parser_init(&p->hp, HTTP_REQUEST);
    p->hp.data = p;
    p->max_body = max_body;
    p->headers = xcalloc(HTTP_MAX_HEADERS, sizeof *p->headers);
    sbuf_init(&p->url);
    sbuf_init(&p->field);
    sbuf_init(&p->value);
    sbuf_init(&p->body);
    return p;
}

void http_parse_free(http_parse *p)
{
    if (!p)
        return;
    http_parse_reset(p);
    free(p->headers);
    sbuf_free(&p->url);
    sbuf_free(&p->field);
    sbuf_free(&p->value);
    sbuf_free(&p->body);
    free(p);
}

http_parse_result http_parse_feed(http_parse *p, const char *data, size_t len, size_t *used)
{
    size_t off = 0;
    *used = 0;
    if (p->state == HTTP_P_DONE)
        return HTTP_PARSE_DONE;
    if (p->state == HTTP_P_UPGRADED)
        http_parse_fail(p, 400);
    if (p->state == HTTP_P_ERROR)
        return HTTP_PARSE_ERROR;
    while (off < len) {
        bool head = p->state == HTTP_P_IDLE || p->state == HTTP_P_HEAD;
        size_t n = len - off;
        /* Never let the head grow past the limit by more than a byte. */
        if (head && n > HTTP_MAX_HEADER_BYTES - p->head_bytes + 1)
            n = HTTP_MAX_HEADER_BYTES - p->head_bytes + 1;
        size_t c = http_parser_execute(&p->hp, &http_parse_settings, data + off, n);
        enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
        if (e == HPE_PAUSED) {
            http_parser_pause(&p->hp, 0);
        } else if (e != HPE_OK) {
            *used = off + c;
            http_parse_fail(p, e == HPE_HEADER_OVERFLOW ? 431 : 400);
            return HTTP_PARSE_ERROR;
        }
        if (p->state == HTTP_P_ERROR) { /* defensive: a callback failed */
            *used = off + c;
            return HTTP_PARSE_ERROR;
        }
        if (head) {
            /* Paused on headers complete just before the final LF. */
            p->head_bytes += c + (p->state == HTTP_P_BODY ? 1 : 0);
            if (p->head_bytes > HTTP_MAX_HEADER_BYTES) {
                *used = off + c;
                http_parse_fail(p, 431);
                return HTTP_PARSE_ERROR;
            }
        }
        off += c;
        if (p->state == HTTP_P_DONE) {
            *used = off;
            return HTTP_PARSE_DONE;
        }
        if (c == 0 && e != HPE_PAUSED) { /* no progress: never loop */
            *used = off;
            http_parse_fail(p, 400);
            return HTTP_PARSE_ERROR;
        }
    }
    *used = off;
    return HTTP_PARSE_MORE;
}

http_parsed *http_parse_take(http_parse *p)
{
    if (p->state != HTTP_P_DONE || !p->req)
        return NULL;
    http_parsed *r = p->req;
    p->req = NULL;
    http_parse_reset(p);
    p->state = r->req.upgrade ? HTTP_P_UPGRADED : HTTP_P_IDLE;
    return r;
}

int http_parse_status(const http_parse *p)
{
    return p->state == HTTP_P_ERROR ? p->status : 0;
}

bool http_parse_idle(const http_parse *p)
{
    return p->state == HTTP_P_IDLE && p->head_bytes == 0;
}

void http_parse_request_free(http_parsed *r)
{
    if (!r)
        return;
    http_request *q = &r->req;
    free(q->path);
    free(q->query);
    for (size_t i = 0; i < q->nheaders; i++) {
        free(q->headers[i].name);
        free(q->headers[i].value);
    }
    free(q->headers);
    free(q->body);
    free(r);
}

const char *http_header_get(const http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

char *http_query_param(const http_request *req, const char *name)
{
    if (!req->query)
        return NULL;
    size_t nlen = strlen(name);
    const char *s = req->query;
    while (*s) {
        const char *end = strchr(s, '&');
        if (!end)
            end = s + strlen(s);
        const char *eq = memchr(s, '=', (size_t)(end - s));
        const char *kend = eq ? eq : end;
        char *key = http_parse_decode(s, (size_t)(kend - s), true);
        bool match = key && strlen(key) == nlen && memcmp(key, name, nlen) == 0;
        free(key);
        if (match) {
            if (!eq)
                return xstrdup("");
            return http_parse_decode(eq + 1, (size_t)(end - eq - 1), true);
        }
        s = *end ? end + 1 : end;
    }
    return NULL;
}
