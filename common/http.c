/* http: HTTP/1.1 connections on libevent bufferevents; requests come from
 * http_parse.c (http-parser underneath). See http.h.
 *
 * A connection is in one of these phases:
 *   reading    parsing requests; the timer is the idle timeout until the
 *              first byte of a request, then the request timeout (408);
 *   pending    the handler holds the request: nothing is parsed (bytes
 *              still arriving are buffered up to HTTP_READ_HIGH so that a
 *              client going away is noticed and on_abort called);
 *   responding the answer is being flushed; then back to reading (and
 *              pipelined bytes already buffered are parsed), or closing;
 *   lingering  after a "Connection: close" answer on plain TCP: our side
 *              is shut, the client's bytes are read and dropped until EOF
 *              or HTTP_LINGER_S, so it sees the answer instead of a reset;
 *   dead       freed by a zero-timeout event, never inside a callback. */
#include "http.h"

#include "http_parse.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define HTTP_LINGER_S 2
/* Input buffered while a request is pending (reading pauses beyond). */
#define HTTP_READ_HIGH (HTTP_MAX_HEADER_BYTES * 2)

typedef struct http_conn http_conn;

typedef struct http_listener {
    http_server *srv;
    struct evconnlistener *l;
    struct event *retry; /* re-enables accepting after an accept error */
    SSL_CTX *tls;
    struct http_listener *next;
} http_listener;

struct http_server {
    struct event_base *base;
    http_limits limits;
    http_handler handler;
    void *ud;
    http_listener *listeners;
    http_conn *conns;
    int nconns;
};

struct http_conn {
    http_server *srv;
    http_conn *prev, *next;
    struct bufferevent *bev; /* NULL once taken over */
    http_parse *parse;
    struct event *timer;  /* idle / request / flush / linger bound */
    struct event *reaper; /* zero-timeout: frees the connection */
    http_parsed *pending; /* held by the handler */
    char ip[48];
    char ctx[64]; /* log context */
    bool tls;
    bool started;    /* the first bytes of a request arrived */
    bool responding; /* an answer is being flushed */
    bool closing;    /* close once the answer is flushed */
    bool lingering;
    bool dead;
};

static void http_conn_process(http_conn *c);

/* (Re)arms the connection's timer; secs <= 0: none. */
static void http_conn_arm(http_conn *c, int secs)
{
    evtimer_del(c->timer);
    if (secs > 0) {
        struct timeval tv = {secs, 0};
        evtimer_add(c->timer, &tv);
    }
}

/* Gives a pending request back: on_abort, then freed. */
static void http_conn_abort(http_conn *c)
{
    http_parsed *pr = c->pending;
    if (!pr)
        return;
    c->pending = NULL;
    pr->req.priv = NULL; /* http_respond on it now does nothing */
    if (pr->req.on_abort)
        pr->req.on_abort(&pr->req, pr->req.abort_ud);
    http_parse_request_free(pr);
}

/* Marks c dead and schedules its free. Safe inside any of its callbacks. */
static void http_conn_kill(http_conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    http_conn_abort(c);
    evtimer_del(c->timer);
    if (c->bev) {
        bufferevent_disable(c->bev, EV_READ | EV_WRITE);
        bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
    }
    struct timeval zero = {0, 0};
    evtimer_add(c->reaper, &zero);
}

static void http_conn_free(http_conn *c)
{
    http_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    http_conn_abort(c);
    if (c->bev)
        bufferevent_free(c->bev);
    event_free(c->timer);
    event_free(c->reaper);
    http_parse_free(c->parse);
    free(c);
}

static void http_conn_reaper_cb(evutil_socket_t fd, short what, void *arg)
{
    http_conn_free(arg);
}

static const char *http_status_text(int status)
{
    const char *t = http_status_str((enum http_status)status);
    return t && t[0] != '<' ? t : "Unknown";
}

/* Queues a complete answer on c and enters the responding phase. */
static void http_conn_send(http_conn *c, int status, const char *ctype, const char *body,
                           size_t len, const char *extra, bool close, bool http10, bool head)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    bool nobody = status < 200 || status == 204 || status == 304;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nServer: parley\r\nDate: %s\r\n", status,
                        http_status_text(status), date);
    if (!nobody) {
        if (ctype)
            evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
        evbuffer_add_printf(out, "Content-Length: %zu\r\n", len);
    }
    if (close)
        evbuffer_add_printf(out, "Connection: close\r\n");
    else if (http10)
        evbuffer_add_printf(out, "Connection: keep-alive\r\n");
    if (extra)
        evbuffer_add(out, extra, strlen(extra));
    evbuffer_add(out, "\r\n", 2);
    if (!nobody && !head && body && len)
        evbuffer_add(out, body, len);
    c->responding = true;
    if (close) {
        c->closing = true;
        bufferevent_disable(c->bev, EV_READ);
    }
    /* bound on the flush: a client that does not read is dropped */
    http_conn_arm(c, c->srv->limits.request_timeout_s > 0 ? c->srv->limits.request_timeout_s
                                                          : c->srv->limits.idle_timeout_s);
}

/* Answers an error of our own (400, 408, 413, 431, ...) and closes. */
static void http_conn_error(http_conn *c, int status)
{
    char body[64];
    int n = snprintf(body, sizeof body, "%d %s\n", status, http_status_text(status));
    log_info(c->ctx, "http: %d %s", status, http_status_text(status));
    http_conn_send(c, status, "text/plain; charset=utf-8", body, (size_t)n, NULL, true, false,
                   false);
}

/* Back to reading requests (idle timer), parsing what is buffered. */
static void http_conn_resume(http_conn *c)
{
    c->started = false;
    http_conn_arm(c, c->srv->limits.idle_timeout_s);
    bufferevent_enable(c->bev, EV_READ);
    http_conn_process(c);
}

/* After the last answer: half-close and drop the client's bytes. */
static void http_conn_linger(http_conn *c)
{
    if (c->tls) {
        http_conn_kill(c);
        return;
    }
    c->lingering = true;
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    evbuffer_drain(bufferevent_get_input(c->bev),
                   evbuffer_get_length(bufferevent_get_input(c->bev)));
    bufferevent_disable(c->bev, EV_WRITE);
    bufferevent_enable(c->bev, EV_READ);
    http_conn_arm(c, HTTP_LINGER_S);
}

static void http_conn_dispatch(http_conn *c)
{
    http_parsed *pr = http_parse_take(c->parse);
    if (!pr) {
        http_conn_error(c, 500);
        return;
    }
    http_request *r = &pr->req;
    snprintf(r->peer_ip, sizeof r->peer_ip, "%s", c->ip);
    r->tls = c->tls;
    r->priv = c;
    c->pending = pr;
    c->started = false;
    evtimer_del(c->timer);
    c->srv->handler(c->srv->ud, r);
}

/* Parses buffered input while the connection is in the reading phase. */
static void http_conn_process(http_conn *c)
{
    while (c->bev && !c->dead && !c->pending && !c->responding && !c->closing) {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        if (evbuffer_get_length(in) == 0)
            break;
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
            break;
        size_t used = 0;
        http_parse_result res = http_parse_feed(c->parse, v.iov_base, v.iov_len, &used);
        evbuffer_drain(in, used);
        if (res == HTTP_PARSE_ERROR) {
            http_conn_error(c, http_parse_status(c->parse));
            return;
        }
        if (res == HTTP_PARSE_DONE) {
            http_conn_dispatch(c);
            continue;
        }
        if (!c->started && !http_parse_idle(c->parse)) {
            c->started = true;
            http_conn_arm(c, c->srv->limits.request_timeout_s);
        }
    }
}

static void http_conn_read_cb(struct bufferevent *bev, void *arg)
{
    http_conn *c = arg;
    if (c->dead)
        return;
    if (c->lingering) {
        struct evbuffer *in = bufferevent_get_input(bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    http_conn_process(c);
}

static void http_conn_write_cb(struct bufferevent *bev, void *arg)
{
    http_conn *c = arg;
    /* also called when the socket is first writable: wait for the flush */
    if (c->dead || !c->responding || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        return;
    c->responding = false;
    if (c->closing)
        http_conn_linger(c);
    else
        http_conn_resume(c);
}

static void http_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    http_conn *c = arg;
    if (c->dead)
        return;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && c->responding && !c->lingering) {
        c->closing = true; /* half-closed client: finish the answer first */
        return;
    }
    if (what & BEV_EVENT_ERROR) {
        unsigned long e = c->tls ? bufferevent_get_openssl_error(bev) : 0;
        if (e)
            log_debug(c->ctx, "http: tls error %lu", e);
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        http_conn_kill(c);
}

static void http_conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    http_conn *c = arg;
    if (c->dead || c->pending)
        return;
    if (c->started && !c->responding && !c->closing && !c->lingering) {
        http_conn_error(c, 408);
        return;
    }
    http_conn_kill(c); /* idle, or the flush / linger bound */
}

static void http_sockaddr_ip(const struct sockaddr *sa, char *out, size_t n)
{
    const void *a = NULL;
    if (sa->sa_family == AF_INET)
        a = &((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!a || !inet_ntop(sa->sa_family, a, out, (socklen_t)n))
        snprintf(out, n, "?");
}

static void http_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                           int salen, void *arg)
{
    http_listener *hl = arg;
    http_server *s = hl->srv;
    char ip[48];
    http_sockaddr_ip(sa, ip, sizeof ip);
    if (s->limits.max_connections > 0 && s->nconns >= s->limits.max_connections) {
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nServer: parley\r\n"
                                   "Content-Type: text/plain; charset=utf-8\r\n"
                                   "Content-Length: 24\r\nConnection: close\r\n\r\n"
                                   "503 Service Unavailable\n";
        if (!hl->tls) /* best effort: the socket is fresh, its buffer empty */
            (void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        log_warn(NULL, "http: too many connections, refusing %s", ip);
        evutil_closesocket(fd);
        return;
    }
    struct bufferevent *bev;
    int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
    if (hl->tls) {
        SSL *ssl = SSL_new(hl->tls);
        if (!ssl) {
            log_warn(NULL, "http: SSL_new failed for %s", ip);
            evutil_closesocket(fd);
            return;
        }
        bev = bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, opts);
        if (!bev) {
            SSL_free(ssl);
            evutil_closesocket(fd);
            log_warn(NULL, "http: cannot set up TLS for %s", ip);
            return;
        }
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    } else {
        bev = bufferevent_socket_new(s->base, fd, opts);
        if (!bev) {
            evutil_closesocket(fd);
            log_warn(NULL, "http: cannot set up a connection for %s", ip);
            return;
        }
    }
    http_conn *c = xcalloc(1, sizeof *c);
    c->srv = s;
    c->bev = bev;
    c->tls = hl->tls != NULL;
    snprintf(c->ip, sizeof c->ip, "%s", ip);
    snprintf(c->ctx, sizeof c->ctx, "[ip=%s]", ip);
    c->parse = http_parse_new(s->limits.max_body);
    c->timer = evtimer_new(s->base, http_conn_timer_cb, c);
    c->reaper = evtimer_new(s->base, http_conn_reaper_cb, c);
    if (!c->timer || !c->reaper)
        fatal("http: evtimer_new failed");
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    bufferevent_setcb(bev, http_conn_read_cb, http_conn_write_cb, http_conn_event_cb, c);
    bufferevent_setwatermark(bev, EV_READ, 0, HTTP_READ_HIGH);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    http_conn_arm(c, s->limits.idle_timeout_s);
}

static void http_listener_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    http_listener *hl = arg;
    evconnlistener_enable(hl->l);
}

/* Accept errors (EMFILE, ...): pause accepting for a second. */
static void http_accept_error_cb(struct evconnlistener *l, void *arg)
{
    http_listener *hl = arg;
    int err = EVUTIL_SOCKET_ERROR();
    log_warn(NULL, "http: accept failed: %s", evutil_socket_error_to_string(err));
    evconnlistener_disable(l);
    struct timeval tv = {1, 0};
    evtimer_add(hl->retry, &tv);
}

http_server *http_server_new(struct event_base *base, const http_limits *limits,
                             http_handler handler, void *ud)
{
    http_server *s = xcalloc(1, sizeof *s);
    s->base = base;
    s->limits = *limits;
    s->handler = handler;
    s->ud = ud;
    return s;
}

void http_server_free(http_server *s)
{
    if (!s)
        return;
    while (s->listeners) {
        http_listener *hl = s->listeners;
        s->listeners = hl->next;
        evconnlistener_free(hl->l);
        event_free(hl->retry);
        free(hl);
    }
    while (s->conns) {
        http_conn *c = s->conns;
        c->dead = true;
        http_conn_free(c);
    }
    free(s);
}

int http_server_listen(http_server *s, const char *addr, int port, SSL_CTX *tls)
{
    struct sockaddr_storage ss;
    socklen_t len;
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
    memset(&ss, 0, sizeof ss);
    if (port < 0 || port > 65535) {
        log_warn(NULL, "http: bad port %d", port);
        return -1;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        len = sizeof *a4;
    } else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        len = sizeof *a6;
        flags |= LEV_OPT_BIND_IPV6ONLY;
    } else {
        log_warn(NULL, "http: not an IP address: %s", addr);
        return -1;
    }
    http_listener *hl = xcalloc(1, sizeof *hl);
    hl->srv = s;
    hl->tls = tls;
    hl->l = evconnlistener_new_bind(s->base, http_accept_cb, hl, flags, -1, (struct sockaddr *)&ss,
                                    (int)len);
    if (!hl->l) {
        log_warn(NULL, "http: cannot listen on %s port %d: %s", addr, port, strerror(errno));
        free(hl);
        return -1;
    }
    hl->retry = evtimer_new(s->base, http_listener_retry_cb, hl);
    if (!hl->retry)
        fatal("http: evtimer_new failed");
    evconnlistener_set_error_cb(hl->l, http_accept_error_cb);
    hl->next = s->listeners;
    s->listeners = hl;
    log_info(NULL, "http: listening on %s port %d%s", addr, port, tls ? " (tls)" : "");
    return 0;
}

/* The connection of a request the handler may still answer, or NULL. */
static http_conn *http_request_conn(http_request *req)
{
    http_conn *c = req->priv;
    if (!c || c->dead || !c->bev || c->pending != (http_parsed *)req)
        return NULL;
    return c;
}

void http_respond(http_request *req, int status, const char *content_type, const char *body,
                  size_t len, const char *extra_headers)
{
    if (!req->priv) { /* already given back (on_abort): not ours to free */
        log_warn(NULL, "http: answer to an aborted request ignored");
        return;
    }
    http_parsed *pr = (http_parsed *)req;
    http_conn *c = http_request_conn(req);
    if (!c) {
        http_parse_request_free(pr);
        return;
    }
    c->pending = NULL;
    /* an upgrade request answered in HTTP leaves the stream unframed */
    bool close = !req->keep_alive || req->upgrade || c->closing;
    http_conn_send(c, status, content_type, body, len, extra_headers, close, pr->http10,
                   pr->is_head);
    http_parse_request_free(pr);
}

struct bufferevent *http_take_over(http_request *req)
{
    if (!req->priv)
        return NULL;
    http_parsed *pr = (http_parsed *)req;
    http_conn *c = http_request_conn(req);
    if (!c) {
        http_parse_request_free(pr);
        return NULL;
    }
    c->pending = NULL;
    struct bufferevent *bev = c->bev;
    c->bev = NULL;
    bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
    bufferevent_setwatermark(bev, EV_READ, 0, 0);
    http_parse_request_free(pr);
    http_conn_kill(c);
    return bev;
}

int http_server_connections(const http_server *s)
{
    return s->nconns;
}

bool http_list_has(const char *list, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - p) == tl && strncasecmp(p, token, tl) == 0)
            return true;
        p = e;
    }
    return false;
}

char *http_ws_accept(const char *key)
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    size_t keylen = 0;
    if (!key || strlen(key) > 64)
        return NULL;
    unsigned char *raw = base64_decode(key, strlen(key), &keylen);
    free(raw);
    if (!raw || keylen != 16)
        return NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s%s", key, guid);
    EVP_Digest(buf, strlen(buf), md, &mdlen, EVP_sha1(), NULL);
    return base64_encode(md, mdlen);
}

size_t http_ws_frame_header(unsigned char h[10], int opcode, size_t len)
{
    h[0] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        h[1] = (unsigned char)len;
        return 2;
    }
    if (len < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return 10;
}
