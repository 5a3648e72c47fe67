#include "bosh.h"
#include "c2s.h"
#include "conn.h"
#include "log.h"
#include "stanza.h"
#include "util.h"
#include "xml_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BOSH_MAX_HOLD 2
#define BOSH_POLLING 2
#define BOSH_LINGER_S 10 /* a terminated session answers late requests */

typedef struct bosh_held {
    http_request *req;
    unsigned long long rid;
    struct bosh_held *next;
} bosh_held;

typedef struct bosh_cached {
    unsigned long long rid;
    char *body;
    size_t len;
} bosh_cached;

typedef struct bosh_session {
    xmppd *srv;
    conn *c; /* NULL once the stream is gone */
    char sid[33];
    unsigned long long next_rid; /* the rid we process next */
    int wait, hold, requests;
    bosh_held *held;  /* answered oldest first */
    bosh_held *early; /* requests ahead of next_rid, sorted */
    sbuf out;         /* elements waiting for a request */
    bosh_cached cache[BOSH_MAX_HOLD + 1];
    bool terminated;       /* the stream ended: requests get type='terminate' */
    const char *term_cond; /* its condition (static string), NULL for none */
    struct event *timer;   /* wait / inactivity / linger */
    struct event *flush;   /* zero-timeout: answer with what is queued */
    bool creating;         /* the creation response is still being built */
    char *origin_hdr;      /* CORS headers for responses, or NULL */
} bosh_session;

static void bosh_session_free(bosh_session *s);
static void bosh_arm(bosh_session *s);

/* ---- parsing ---- */

typedef struct bosh_parse {
    xml_node *body;
    bool many;
} bosh_parse;

static void bosh_parse_stanza(void *ud, xml_node *st)
{
    bosh_parse *p = ud;
    if (p->body) {
        p->many = true;
        xml_free(st);
        return;
    }
    p->body = st;
}

xml_node *bosh_parse_body(const char *data, size_t len, size_t max, const char **why)
{
    static const char hdr[] = "<stream:stream xmlns='jabber:client' "
                              "xmlns:stream='http://etherx.jabber.org/streams'>";
    xml_stream_limits lim = {max, 34, 64}; /* body + the stanza depth */
    xml_stream_callbacks cbs = {NULL, bosh_parse_stanza, NULL};
    bosh_parse p = {NULL, false};
    xml_stream *xs = xml_stream_new(&lim, &cbs, &p);
    xml_stream_error e = xml_stream_feed(xs, hdr, sizeof hdr - 1);
    if (e == XS_OK)
        e = xml_stream_feed(xs, data, len);
    xml_stream_free(xs);
    if (e != XS_OK || !p.body || p.many) {
        *why = e != XS_OK ? xml_stream_strerror(e) : "expected exactly one <body/>";
        xml_free(p.body);
        return NULL;
    }
    if (!str_eq(p.body->name, "body") || !str_eq(p.body->ns, XMLNS_HTTPBIND)) {
        *why = "the root must be <body xmlns='" XMLNS_HTTPBIND "'/>";
        xml_free(p.body);
        return NULL;
    }
    return p.body;
}

/* ---- responses ---- */

static const char *bosh_headers(bosh_session *s)
{
    return s && s->origin_hdr ? s->origin_hdr : NULL;
}

static void bosh_reply(http_request *req, const char *xml, size_t len, const char *hdrs)
{
    http_respond(req, 200, "text/xml; charset=utf-8", xml, len, hdrs);
}

static void bosh_reply_terminate(http_request *req, const char *cond, const char *hdrs)
{
    char b[256];
    int n = snprintf(b, sizeof b,
                     "<body xmlns='" XMLNS_HTTPBIND "' type='terminate' "
                     "condition='%s'/>",
                     cond);
    bosh_reply(req, b, (size_t)n, hdrs);
}

/* Answers the oldest held request with everything queued (or empty), and
 * caches the answer under its rid for retransmission. */
static void bosh_answer_oldest(bosh_session *s)
{
    bosh_held *h = s->held;
    if (!h)
        return;
    s->held = h->next;
    sbuf b;
    sbuf_init(&b);
    /* the end of the stream goes with the last stanzas (the client may not
     * ask again); a stream error among them makes it remote-stream-error */
    bool stream_error = s->out.len && strstr(s->out.data, "<stream:error");
    bool end_now = s->terminated;
    sbuf_adds(&b, "<body xmlns='" XMLNS_HTTPBIND "' "
                  "xmlns:stream='http://etherx.jabber.org/streams'");
    if (end_now) {
        const char *cond = stream_error ? "remote-stream-error" : s->term_cond;
        sbuf_adds(&b, " type='terminate'");
        if (cond)
            sbuf_printf(&b, " condition='%s'", cond);
    }
    if (s->out.len == 0) {
        sbuf_adds(&b, "/>");
    } else {
        sbuf_addc(&b, '>');
        sbuf_add(&b, s->out.data, s->out.len);
        sbuf_adds(&b, "</body>");
        sbuf_reset(&s->out);
    }
    bosh_cached *slot = &s->cache[h->rid % (BOSH_MAX_HOLD + 1)];
    free(slot->body);
    slot->rid = h->rid;
    slot->len = b.len;
    slot->body = sbuf_steal(&b, NULL);
    h->req->on_abort = NULL;
    bosh_reply(h->req, slot->body, slot->len, bosh_headers(s));
    free(h);
}

static size_t bosh_nheld(const bosh_session *s)
{
    size_t n = 0;
    for (bosh_held *h = s->held; h; h = h->next)
        n++;
    return n;
}

/* Answers what can be answered now: everything if something is queued or
 * the stream ended; otherwise only requests beyond `hold`. */
static void bosh_pump(bosh_session *s)
{
    if (s->creating)
        return;
    while (s->held && (s->out.len > 0 || s->terminated))
        bosh_answer_oldest(s);
    while (bosh_nheld(s) > (size_t)s->hold)
        bosh_answer_oldest(s);
    bosh_arm(s);
}

static void bosh_flush_cb(evutil_socket_t fd, short what, void *ud)
{
    bosh_pump(ud);
}

static void bosh_timer_cb(evutil_socket_t fd, short what, void *ud)
{
    bosh_session *s = ud;
    if (!s->c) { /* linger over */
        bosh_session_free(s);
        return;
    }
    if (s->held) { /* wait expired: answer empty */
        bosh_answer_oldest(s);
        bosh_arm(s);
        return;
    }
    log_info(s->c->ctx, "BOSH session %s inactive: closing", s->sid);
    conn_close(s->c, NULL, NULL); /* ends presences; frees the stream */
}

/* wait while a request is held, inactivity otherwise, linger when gone. */
static void bosh_arm(bosh_session *s)
{
    struct timeval tv = {s->held ? s->wait : (s->c ? s->srv->set.bosh_inactivity : BOSH_LINGER_S),
                         0};
    evtimer_del(s->timer);
    evtimer_add(s->timer, &tv);
}

/* ---- the transport ---- */

static void bosh_tr_element(conn *c, const struct iovec *v, int n)
{
    bosh_session *s = c->tr_state;
    if (!s)
        return; /* closed while being created */
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += v[i].iov_len;
    if (s->out.len + total > c->srv->set.max_send_buffer) {
        log_warn(c->ctx, "BOSH queue over %zu bytes: dropping the session",
                 c->srv->set.max_send_buffer);
        c->dead = true;
        conn_close(c, NULL, NULL);
        return;
    }
    /* each element must stand alone under <body/> */
    stanza_standalone(v, n, &s->out);
    event_active(s->flush, EV_TIMEOUT, 0); /* batch what this loop pass sends */
}

static void bosh_tr_open(conn *c)
{
    /* the session creation response carries the stream attributes */
}

static void bosh_tr_end(conn *c)
{
    bosh_session *s = c->tr_state;
    if (!s)
        return;           /* closed while being created */
    s->terminated = true; /* a queued stream error makes it remote-stream-error */
    bosh_pump(s);
}

static void bosh_tr_free(conn *c)
{
    bosh_session *s = c->tr_state;
    if (!s)
        return;
    s->c = NULL;
    c->tr_state = NULL;
    s->terminated = true;
    bosh_pump(s); /* answers held requests; then lingers for late ones */
}

static void bosh_tr_readable(conn *c)
{
}

static const conn_transport bosh_transport = {
    .name = "bosh",
    .can_starttls = false,
    .init = NULL,
    .readable = bosh_tr_readable,
    .element = bosh_tr_element,
    .open = bosh_tr_open,
    .end = bosh_tr_end,
    .free = bosh_tr_free,
};

/* ---- sessions ---- */

static void bosh_session_free(bosh_session *s)
{
    xmppd *srv = s->srv;
    if (hmap_get(&srv->bosh_sessions, s->sid) == s)
        hmap_del(&srv->bosh_sessions, s->sid);
    while (s->held) {
        bosh_held *h = s->held;
        s->held = h->next;
        h->req->on_abort = NULL;
        bosh_reply_terminate(h->req, "remote-connection-failed", bosh_headers(s));
        free(h);
    }
    while (s->early) {
        bosh_held *h = s->early;
        s->early = h->next;
        h->req->on_abort = NULL;
        bosh_reply_terminate(h->req, "item-not-found", bosh_headers(s));
        free(h);
    }
    if (s->c) {
        s->c->tr_state = NULL;
        conn_close(s->c, NULL, NULL);
    }
    for (size_t i = 0; i <= BOSH_MAX_HOLD; i++)
        free(s->cache[i].body);
    sbuf_free(&s->out);
    event_free(s->timer);
    event_free(s->flush);
    free(s->origin_hdr);
    free(s);
}

void bosh_free_all(xmppd *srv)
{
    size_t i = 0;
    hmap_entry *e;
    while ((e = hmap_next(&srv->bosh_sessions, &i)))
        bosh_session_free(e->value);
    hmap_free(&srv->bosh_sessions);
}

static void bosh_abort_cb(http_request *req, void *ud)
{
    bosh_session *s = ud;
    for (bosh_held **p = &s->held; *p; p = &(*p)->next)
        if ((*p)->req == req) {
            bosh_held *h = *p;
            *p = h->next;
            free(h);
            break;
        }
    for (bosh_held **p = &s->early; *p; p = &(*p)->next)
        if ((*p)->req == req) {
            bosh_held *h = *p;
            *p = h->next;
            free(h);
            break;
        }
    bosh_arm(s);
}

static char *bosh_cors(const xmppd *srv, const http_request *req)
{
    const char *origin = http_header_get(req, "origin");
    const char *allowed = srv->set.cors_origins;
    if (!origin || !allowed || !*allowed)
        return NULL;
    bool ok = strcmp(allowed, "*") == 0;
    size_t ol = strlen(origin);
    for (const char *p = allowed; !ok && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != ',')
            e++;
        ok = (size_t)(e - p) == ol && strncmp(p, origin, ol) == 0;
        p = e;
    }
    if (!ok)
        return NULL;
    char *h = NULL;
    if (asprintf(&h,
                 "Access-Control-Allow-Origin: %s\r\nAccess-Control-Allow-Methods: GET, POST, "
                 "OPTIONS\r\nAccess-Control-Allow-Headers: Content-Type\r\n"
                 "Access-Control-Max-Age: 86400\r\nVary: Origin\r\n",
                 strcmp(allowed, "*") == 0 ? "*" : origin) < 0)
        fatal("out of memory");
    return h;
}

static bool bosh_parse_ull(const char *s, unsigned long long *out)
{
    if (!s || !*s || strlen(s) > 19)
        return false;
    char *end;
    *out = strtoull(s, &end, 10);
    return *end == '\0';
}

static int bosh_attr_int(const xml_node *b, const char *name, int def, int lo, int hi)
{
    const char *v = xml_attr_get(b, name);
    if (!v)
        return def;
    long x = strtol(v, NULL, 10);
    return x < lo ? lo : x > hi ? hi : (int)x;
}

/* Feeds the children of body into the stream (and a restart first). */
static void bosh_process(bosh_session *s, xml_node *body)
{
    conn *c = s->c;
    if (!c || c->closing)
        return;
    if (str_eq(xml_attr_get(body, "xmpp:restart"), "true") ||
        str_eq(xml_attr_get(body, "restart"), "true")) {
        sbuf h;
        sbuf_init(&h);
        sbuf_adds(&h, "<stream:stream xmlns='jabber:client' "
                      "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='");
        const char *to = c->vh ? c->vh->domain : "";
        sbuf_add_xml_escaped(&h, to, strlen(to));
        sbuf_adds(&h, "'>");
        conn_feed(c, h.data, h.len);
        sbuf_free(&h);
    }
    sbuf b;
    sbuf_init(&b);
    for (size_t i = 0; i < body->nchildren && !c->closing; i++) {
        xml_node *ch = body->children[i];
        if (!ch->name)
            continue;
        sbuf_reset(&b);
        xml_serialize(ch, XMLNS_CLIENT, &b);
        conn_feed(c, b.data, b.len);
    }
    sbuf_free(&b);
    if (!c->closing && str_eq(xml_attr_get(body, "type"), "terminate")) {
        log_debug(c->ctx, "BOSH client terminated");
        conn_close(c, NULL, NULL);
    }
}

/* Holds req (processed) until stanzas or wait. */
static void bosh_hold(bosh_session *s, http_request *req, unsigned long long rid)
{
    bosh_held *h = xcalloc(1, sizeof *h);
    h->req = req;
    h->rid = rid;
    req->on_abort = bosh_abort_cb;
    req->abort_ud = s;
    bosh_held **p = &s->held;
    while (*p)
        p = &(*p)->next;
    *p = h;
}

static void bosh_create(xmppd *srv, http_request *req, xml_node *body, unsigned long long rid,
                        const char *ip, bool secure, char *cors)
{
    const char *to = xml_attr_get(body, "to");
    bosh_session *s = xcalloc(1, sizeof *s);
    s->srv = srv;
    random_id(s->sid, sizeof s->sid - 1);
    s->next_rid = rid + 1;
    s->wait = bosh_attr_int(body, "wait", srv->set.bosh_max_wait, 1, srv->set.bosh_max_wait);
    s->hold = bosh_attr_int(body, "hold", 1, 0, BOSH_MAX_HOLD);
    s->requests = s->hold + 1;
    s->origin_hdr = cors;
    s->timer = evtimer_new(srv->base, bosh_timer_cb, s);
    s->flush = event_new(srv->base, -1, 0, bosh_flush_cb, s);
    sbuf_init(&s->out);
    hmap_put(&srv->bosh_sessions, s->sid, s);
    s->creating = true;
    conn *c = conn_new(srv, &c2s_ops, &bosh_transport, NULL, ip, secure);
    c->tr_state = s;
    s->c = c;
    if (c->closing) /* refused at once (connection limit) */
        s->terminated = true, s->term_cond = "remote-connection-failed";
    c->token = http_query_param(req, "token");
    /* the stream header the parser expects; c2s answers with features */
    sbuf h;
    sbuf_init(&h);
    sbuf_adds(&h, "<stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='");
    sbuf_add_xml_escaped(&h, to ? to : "", to ? strlen(to) : 0);
    sbuf_adds(&h, "'>");
    conn_feed(c, h.data, h.len);
    sbuf_free(&h);
    s->creating = false;
    sbuf b;
    sbuf_init(&b);
    const char *from = c->vh ? c->vh->domain : srv->set.vhosts[0].domain;
    sbuf_printf(&b,
                "<body xmlns='" XMLNS_HTTPBIND "' xmlns:xmpp='" XMLNS_XBOSH "' "
                "xmlns:stream='http://etherx.jabber.org/streams' sid='%s' wait='%d' "
                "inactivity='%d' polling='%d' requests='%d' hold='%d' ver='1.11' "
                "xmpp:version='1.0' xmpp:restartlogic='true' authid='%s' from='",
                s->sid, s->wait, srv->set.bosh_inactivity, BOSH_POLLING, s->requests, s->hold,
                c->stream_id);
    sbuf_add_xml_escaped(&b, from, strlen(from));
    if (s->terminated) {
        sbuf_adds(&b, "' type='terminate' condition='");
        sbuf_adds(&b, c->vh ? "remote-stream-error" : "host-unknown");
    }
    sbuf_adds(&b, "'>");
    sbuf_add(&b, s->out.data ? s->out.data : "", s->out.len);
    sbuf_adds(&b, "</body>");
    sbuf_reset(&s->out);
    bosh_cached *slot = &s->cache[rid % (BOSH_MAX_HOLD + 1)];
    slot->rid = rid;
    slot->len = b.len;
    slot->body = sbuf_steal(&b, NULL);
    bosh_reply(req, slot->body, slot->len, bosh_headers(s));
    log_info(c->ctx, "BOSH session %s created", s->sid);
    bosh_arm(s);
}

/* Processes queued early requests whose turn has come. */
static void bosh_drain_early(bosh_session *s)
{
    while (s->early && s->early->rid == s->next_rid) {
        bosh_held *h = s->early;
        s->early = h->next;
        const char *why;
        xml_node *body =
            bosh_parse_body(h->req->body, h->req->body_len, s->srv->set.max_stanza * 4, &why);
        s->next_rid++;
        if (body) {
            bosh_process(s, body);
            xml_free(body);
        }
        h->next = NULL;
        bosh_held **p = &s->held;
        while (*p)
            p = &(*p)->next;
        *p = h;
    }
}

void bosh_request(xmppd *srv, http_request *req, const char *ip, bool secure)
{
    char *cors = bosh_cors(srv, req);
    if (strcmp(req->method, "OPTIONS") == 0) {
        http_respond(req, 200, "text/plain", "", 0, cors);
        free(cors);
        return;
    }
    if (strcmp(req->method, "GET") == 0) {
        static const char info[] = "This is an XMPP BOSH endpoint (XEP-0124/XEP-0206): POST "
                                   "<body/> elements here.\n";
        http_respond(req, 200, "text/plain", info, sizeof info - 1, cors);
        free(cors);
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        http_respond(req, 405, "text/plain", "use POST\n", 9, "Allow: GET, POST, OPTIONS\r\n");
        free(cors);
        return;
    }
    const char *why = NULL;
    xml_node *body = bosh_parse_body(req->body, req->body_len, srv->set.max_stanza * 4, &why);
    unsigned long long rid = 0;
    if (!body || !bosh_parse_ull(xml_attr_get(body, "rid"), &rid)) {
        log_info(NULL, "BOSH bad request from %s: %s", ip, body ? "no rid" : why);
        http_respond(
            req, 400, "text/xml; charset=utf-8",
            "<body xmlns='" XMLNS_HTTPBIND "' type='terminate' condition='bad-request'/>",
            strlen("<body xmlns='" XMLNS_HTTPBIND "' type='terminate' condition='bad-request'/>"),
            cors);
        xml_free(body);
        free(cors);
        return;
    }
    const char *sid = xml_attr_get(body, "sid");
    if (!sid) {
        bosh_create(srv, req, body, rid, ip, secure, cors);
        xml_free(body);
        return;
    }
    bosh_session *s = hmap_get(&srv->bosh_sessions, sid);
    if (!s) {
        bosh_reply_terminate(req, "item-not-found", cors);
        xml_free(body);
        free(cors);
        return;
    }
    free(cors);
    if (rid < s->next_rid) {
        bosh_cached *slot = &s->cache[rid % (BOSH_MAX_HOLD + 1)];
        if (slot->body && slot->rid == rid) { /* a retransmission */
            bosh_reply(req, slot->body, slot->len, bosh_headers(s));
        } else {
            bosh_reply_terminate(req, "item-not-found", bosh_headers(s));
            if (s->c)
                conn_close(s->c, NULL, NULL);
        }
        xml_free(body);
        return;
    }
    if (rid >= s->next_rid + (unsigned long long)s->requests + 1) {
        log_info(s->c ? s->c->ctx : NULL, "BOSH rid %llu outside the window", rid);
        bosh_reply_terminate(req, "item-not-found", bosh_headers(s));
        xml_free(body);
        if (s->c)
            conn_close(s->c, NULL, NULL);
        return;
    }
    if (!s->c && s->terminated) {
        bosh_hold(s, req, rid);
        xml_free(body);
        bosh_pump(s);
        return;
    }
    if (rid > s->next_rid) { /* early: wait for the gap */
        bosh_held *h = xcalloc(1, sizeof *h);
        h->req = req;
        h->rid = rid;
        req->on_abort = bosh_abort_cb;
        req->abort_ud = s;
        bosh_held **p = &s->early;
        while (*p && (*p)->rid < rid)
            p = &(*p)->next;
        if (*p && (*p)->rid == rid) {
            free(h);
            bosh_reply_terminate(req, "item-not-found", bosh_headers(s));
        } else {
            h->next = *p;
            *p = h;
        }
        xml_free(body);
        return;
    }
    s->next_rid++;
    bosh_hold(s, req, rid);
    bosh_process(s, body); /* sessions are freed only from their timer: s stays */
    xml_free(body);
    bosh_drain_early(s);
    bosh_pump(s);
}
