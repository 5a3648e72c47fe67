#include "conn.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#define CONN_LINGER_MS 2000
#define CONN_LINGER_POLL_MS 20
#define CONN_DRAIN_MS 1500

static void conn_read_cb(struct bufferevent *bev, void *ud);
static void conn_flush_unlink(conn *c);
static void conn_event_cb(struct bufferevent *bev, short what, void *ud);

static void conn_event_cb(struct bufferevent *bev, short what, void *ud);

static void conn_xs_open(void *ud, const xml_node *header)
{
    conn *c = ud;
    c->ops->stream_open(c, header);
    if (c->closing)
        xml_stream_halt(c->xs);
}

static void conn_xs_stanza(void *ud, xml_node *stanza)
{
    conn *c = ud;
    if (c->closing) {
        xml_free(stanza);
        return;
    }
    /* token bucket: stanza_rate per second, stanza_burst deep */
    long long now = now_ms();
    const settings *s = &c->srv->set;
    c->tokens += (double)(now - c->tokens_at_ms) * s->stanza_rate / 1000.0;
    if (c->tokens > s->stanza_burst)
        c->tokens = s->stanza_burst;
    c->tokens_at_ms = now;
    if (c->tokens < 1.0 && c->ops->rate_limited) {
        xml_free(stanza);
        log_warn(c->ctx, "stanza flood: more than %d stanzas/s", s->stanza_rate);
        conn_close(c, "policy-violation", "stanza rate limit exceeded");
        xml_stream_halt(c->xs);
        return;
    }
    c->tokens -= 1.0;
    c->srv->stats.stanzas_in++;
    c->ops->stanza(c, stanza);
    if (c->closing)
        xml_stream_halt(c->xs);
}

static void conn_xs_close(void *ud)
{
    conn *c = ud;
    log_debug(c->ctx, "peer closed the stream");
    conn_close(c, NULL, NULL);
    xml_stream_halt(c->xs);
}

static xml_stream *conn_new_parser(conn *c)
{
    const settings *s = &c->srv->set;
    xml_stream_limits lim = {s->max_stanza, s->max_depth, s->max_attrs};
    static const xml_stream_callbacks cbs = {conn_xs_open, conn_xs_stanza, conn_xs_close};
    return xml_stream_new(&lim, &cbs, c);
}

void conn_update_ctx(conn *c)
{
    if (c->full)
        snprintf(c->ctx, sizeof c->ctx, "[jid=%.100s ip=%s]", c->full, c->ip);
    else
        snprintf(c->ctx, sizeof c->ctx, "[ip=%s id=%s]", c->ip, c->stream_id);
}

static void conn_free(conn *c)
{
    xmppd *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    conn_flush_unlink(c);
    if (c->pend)
        evbuffer_free(c->pend);
    c->ops->free(c);
    if (c->tr->free)
        c->tr->free(c);
    free(c->token);
    if (c->drain)
        event_free(c->drain);
    if (c->timer)
        event_free(c->timer);
    if (c->bev)
        bufferevent_free(c->bev);
    xml_stream_free(c->xs);
    free(c);
}

static size_t conn_pending_output(conn *c)
{
    if (!c->bev)
        return 0;
    size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));
    if (c->pend)
        n += evbuffer_get_length(c->pend);
    struct bufferevent *under = bufferevent_get_underlying(c->bev);
    if (under)
        n += evbuffer_get_length(bufferevent_get_output(under));
    return n;
}

static void conn_schedule_free(conn *c)
{
    c->dead = true;
    evtimer_del(c->timer);
    struct timeval tv = {0, 0};
    evtimer_add(c->timer, &tv);
}

/* After our half-close: discard what the peer still sends until it closes,
 * so the kernel does not answer unread data with a reset that would destroy
 * the stream error we just sent. */
static void conn_drain_cb(evutil_socket_t fd, short what, void *ud)
{
    conn *c = ud;
    char buf[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        event_del(c->drain);
        conn_schedule_free(c); /* freed from the timer, not inside this callback */
        return;
    }
}

/* Once everything we queued has left: FIN our side and start draining. */
static void conn_half_close(conn *c)
{
    c->half_closed = true;
    if (!c->bev) { /* no socket of its own (BOSH) */
        conn_free(c);
        return;
    }
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd < 0 || shutdown(fd, SHUT_WR) != 0) {
        conn_free(c);
        return;
    }
    c->drain = event_new(c->srv->base, fd, EV_READ | EV_PERSIST, conn_drain_cb, c);
    event_add(c->drain, NULL);
    c->close_deadline_ms = now_ms() + CONN_DRAIN_MS;
    struct timeval tv = {0, CONN_LINGER_POLL_MS * 1000};
    evtimer_add(c->timer, &tv);
}

/* Timer: auth timeout while open; flush, half-close, drain, free once
 * closing. */
static void conn_timer_cb(evutil_socket_t fd, short what, void *ud)
{
    conn *c = ud;
    if (!c->closing) {
        if (!c->authed) {
            log_info(c->ctx, "authentication timeout");
            conn_close(c, "connection-timeout", "authentication took too long");
        }
        return;
    }
    if (c->dead || now_ms() >= c->close_deadline_ms) {
        conn_free(c);
        return;
    }
    if (!c->half_closed && conn_pending_output(c) == 0) {
        conn_half_close(c);
        return;
    }
    struct timeval tv = {0, CONN_LINGER_POLL_MS * 1000};
    evtimer_add(c->timer, &tv);
}

static const conn_transport conn_tcp;

conn *conn_new(xmppd *srv, const conn_ops *ops, const conn_transport *tr, struct bufferevent *bev,
               const char *ip, bool secure)
{
    conn *c = xcalloc(1, sizeof *c);
    c->srv = srv;
    c->ops = ops;
    c->tr = tr;
    c->tls = secure;
    snprintf(c->ip, sizeof c->ip, "%s", ip);
    random_id(c->stream_id, sizeof c->stream_id - 1);
    conn_update_ctx(c);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    srv->stats.connections_total++;
    c->tokens = srv->set.stanza_burst;
    c->tokens_at_ms = now_ms();
    c->bev = bev;
    if (tr->init)
        tr->init(c);
    if (bev) {
        bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
        bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    }
    c->xs = conn_new_parser(c);
    c->timer = evtimer_new(srv->base, conn_timer_cb, c);
    struct timeval tv = {srv->set.auth_timeout_s, 0};
    evtimer_add(c->timer, &tv);
    log_debug(c->ctx, "%s stream accepted", tr->name);
    if (srv->nconns > srv->set.max_connections) {
        log_warn(c->ctx, "connection limit (%d) reached", srv->set.max_connections);
        conn_close(c, "policy-violation", "too many connections");
    }
    return c;
}

void conn_accept(xmppd *srv, const conn_ops *ops, evutil_socket_t fd, const struct sockaddr *addr,
                 int socklen)
{
    char ip[48];
    if (addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, ip, sizeof ip);
    else if (addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, ip, sizeof ip);
    else
        snprintf(ip, sizeof ip, "unknown");
    /* stanzas are small and latency matters (conference signalling):
     * no Nagle delay waiting for the peer's delayed ACK */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct bufferevent *bev =
        bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!bev)
        fatal("bufferevent_socket_new failed");
    conn *c = conn_new(srv, ops, &conn_tcp, bev, ip, false);
    c->plain_socket = true;
}

/* True (and c is being dropped) if len more bytes would exceed the send
 * buffer limit: a reader that does not keep up is disconnected. */
static bool conn_over_limit(conn *c, size_t len)
{
    if (!c->bev)
        return false;
    if (conn_pending_output(c) + len <= c->srv->set.max_send_buffer)
        return false;
    if (!c->closing) {
        log_warn(c->ctx, "send buffer over %zu bytes: dropping slow reader",
                 c->srv->set.max_send_buffer);
        c->dead = true; /* nothing more will be read by it */
        conn_close(c, NULL, NULL);
    }
    return true;
}

/* Output, redis-style: bytes written during a loop pass collect in
 * c->pend, and one event at the end of the pass writes each connection's
 * batch straight to its socket (one writev, no epoll changes). Only what the
 * kernel does not take goes through the bufferevent, which then waits for
 * writability; while it holds anything, new bytes queue behind it. */
static void conn_flush_cb(evutil_socket_t fd, short what, void *ud)
{
    xmppd *srv = ud;
    while (srv->flush_list) {
        conn *c = srv->flush_list;
        srv->flush_list = c->flush_next;
        c->flush_next = NULL;
        c->in_flush_list = false;
        if (!c->pend || evbuffer_get_length(c->pend) == 0)
            continue;
        struct evbuffer *out = bufferevent_get_output(c->bev);
        if (c->dead) {
            evbuffer_drain(c->pend, evbuffer_get_length(c->pend));
            continue;
        }
        if (c->plain_socket && evbuffer_get_length(out) == 0) {
            evutil_socket_t sfd = bufferevent_getfd(c->bev);
            while (sfd >= 0 && evbuffer_get_length(c->pend) > 0)
                if (evbuffer_write(c->pend, sfd) <= 0)
                    break; /* EAGAIN or an error the bufferevent will report */
        }
        if (evbuffer_get_length(c->pend) > 0)
            evbuffer_add_buffer(out, c->pend); /* moves, no copy */
    }
}

void conn_flush_init(xmppd *srv)
{
    srv->flush_ev = event_new(srv->base, -1, 0, conn_flush_cb, srv);
}

void conn_set_plain_socket(conn *c, bool plain)
{
    c->plain_socket = plain;
}

/* Hands anything collected for c to its bufferevent now (before the socket
 * changes hands or goes away). */
static void conn_flush_now(conn *c)
{
    if (c->pend && evbuffer_get_length(c->pend) > 0 && c->bev)
        evbuffer_add_buffer(bufferevent_get_output(c->bev), c->pend);
}

static void conn_flush_unlink(conn *c)
{
    if (!c->in_flush_list)
        return;
    for (conn **p = &c->srv->flush_list; *p; p = &(*p)->flush_next)
        if (*p == c) {
            *p = c->flush_next;
            break;
        }
    c->in_flush_list = false;
}

void conn_write(conn *c, const void *data, size_t len)
{
    if (c->dead || !c->bev || conn_over_limit(c, len))
        return;
    if (!c->plain_socket || !c->srv->flush_ev) {
        evbuffer_add(bufferevent_get_output(c->bev), data, len);
        return;
    }
    if (!c->pend)
        c->pend = evbuffer_new();
    evbuffer_add(c->pend, data, len);
    if (!c->in_flush_list) {
        c->in_flush_list = true;
        c->flush_next = c->srv->flush_list;
        c->srv->flush_list = c;
        event_active(c->srv->flush_ev, EV_TIMEOUT, 0);
    }
}

void conn_send_raw(conn *c, const char *data, size_t len)
{
    struct iovec v = {(void *)data, len};
    conn_send_iov(c, &v, 1);
}

void conn_send_iov(conn *c, const struct iovec *v, int n)
{
    if (!c->dead)
        c->tr->element(c, v, n);
}

void conn_send_node(conn *c, const xml_node *node)
{
    sbuf b;
    sbuf_init(&b);
    xml_serialize(node, XMLNS_CLIENT, &b);
    conn_send_raw(c, b.data, b.len);
    sbuf_free(&b);
    c->srv->stats.stanzas_out++;
}

void conn_send_header(conn *c)
{
    if (c->header_sent)
        return;
    c->header_sent = true;
    c->tr->open(c);
}

/* The domain our stream header speaks for. */
static const char *conn_from(const conn *c)
{
    return c->component ? c->component : c->vh ? c->vh->domain : c->srv->set.vhosts[0].domain;
}

void conn_starttls(conn *c)
{
    c->want_starttls = true;
}

/* Called after the parser returned from a read: performs the TLS upgrade
 * outside the stanza callback, discarding any plaintext the client sent
 * after <starttls/> (it must not be trusted). */
static void conn_do_starttls(conn *c)
{
    c->want_starttls = false;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    conn_flush_now(c); /* <proceed/> goes out in the clear, before the handshake */
    c->plain_socket = false;
    SSL *ssl = SSL_new(c->srv->tls);
    if (!ssl) {
        conn_close(c, "internal-server-error", NULL);
        return;
    }
    struct bufferevent *tls =
        bufferevent_openssl_filter_new(c->srv->base, c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                       BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!tls) {
        SSL_free(ssl);
        conn_close(c, "internal-server-error", NULL);
        return;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
    c->bev = tls;
    c->tls = true;
    bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    log_debug(c->ctx, "TLS started");
}

static const char *conn_xs_condition(xml_stream_error e)
{
    switch (e) {
    case XS_ERR_NOT_WELL_FORMED:
        return "not-well-formed";
    case XS_ERR_RESTRICTED:
        return "restricted-xml";
    case XS_ERR_BAD_NAMESPACE:
        return "invalid-namespace";
    default:
        return "policy-violation";
    }
}

xml_stream_error conn_feed(conn *c, const char *data, size_t len)
{
    xml_stream_error err = xml_stream_feed(c->xs, data, len);
    if (err != XS_OK && !c->closing) {
        log_info(c->ctx, "bad XML: %s", xml_stream_strerror(err));
        conn_close(c, conn_xs_condition(err), xml_stream_strerror(err));
    }
    return err;
}

static void conn_read_cb(struct bufferevent *bev, void *ud)
{
    conn *c = ud;
    if (!c->closing)
        c->tr->readable(c);
    if (c->closing && c->bev) {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        evbuffer_drain(in, evbuffer_get_length(in));
    }
}

/* ---- the plain TCP transport (with STARTTLS) ---- */

static void conn_tcp_readable(conn *c)
{
    struct bufferevent *bev = c->bev;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (!c->closing && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        conn_feed(c, v.iov_base, v.iov_len);
        evbuffer_drain(in, v.iov_len);
        if (c->want_starttls && !c->closing)
            conn_do_starttls(c);
        if (c->want_starttls || bev != c->bev)
            break; /* the socket changed hands: continue in the TLS callbacks */
    }
}

static void conn_tcp_element(conn *c, const struct iovec *v, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += v[i].iov_len;
    if (c->dead || conn_over_limit(c, total))
        return;
    for (int i = 0; i < n; i++)
        conn_write(c, v[i].iov_base, v[i].iov_len);
}

static void conn_tcp_open(conn *c)
{
    sbuf b;
    sbuf_init(&b);
    sbuf_printf(&b,
                "<?xml version='1.0'?><stream:stream xmlns='%s' "
                "xmlns:stream='http://etherx.jabber.org/streams' id='%s' from='",
                c->ops->stream_ns, c->stream_id);
    const char *from = conn_from(c);
    sbuf_add_xml_escaped(&b, from, strlen(from));
    sbuf_adds(&b, "' version='1.0' xml:lang='en'>");
    conn_write(c, b.data, b.len);
    sbuf_free(&b);
}

static void conn_tcp_end(conn *c)
{
    conn_write(c, "</stream:stream>", 16);
}

static const conn_transport conn_tcp = {
    .name = "tcp",
    .can_starttls = true,
    .init = NULL,
    .readable = conn_tcp_readable,
    .element = conn_tcp_element,
    .open = conn_tcp_open,
    .end = conn_tcp_end,
    .free = NULL,
};

static void conn_event_cb(struct bufferevent *bev, short what, void *ud)
{
    conn *c = ud;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        if (what & BEV_EVENT_ERROR) {
            unsigned long e = bufferevent_get_openssl_error(bev);
            if (e) {
                char buf[256];
                ERR_error_string_n(e, buf, sizeof buf);
                log_info(c->ctx, "TLS error: %s", buf);
            }
        }
        log_debug(c->ctx, "connection lost");
        c->dead = true; /* nothing can be delivered any more */
        conn_close(c, NULL, NULL);
    }
}

void conn_close(conn *c, const char *cond, const char *text)
{
    if (c->closing)
        return;
    if (cond) {
        conn_send_header(c);
        sbuf b;
        sbuf_init(&b);
        sbuf_printf(&b, "<stream:error><%s xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>", cond);
        if (text) {
            sbuf_adds(&b, "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>");
            sbuf_add_xml_escaped(&b, text, strlen(text));
            sbuf_adds(&b, "</text>");
        }
        sbuf_adds(&b, "</stream:error>");
        conn_send_raw(c, b.data, b.len);
        sbuf_free(&b);
        log_info(c->ctx, "stream error: %s%s%s", cond, text ? ": " : "", text ? text : "");
    }
    if (c->header_sent)
        c->tr->end(c);
    c->closing = true;
    if (c->bev)
        bufferevent_disable(c->bev, EV_READ);
    c->ops->session_end(c);
    c->close_deadline_ms = now_ms() + (c->dead ? 0 : CONN_LINGER_MS);
    /* free from the timer: never inside our own callback */
    evtimer_del(c->timer);
    struct timeval tv = {0, 0};
    evtimer_add(c->timer, &tv);
}

void conn_free_all(xmppd *srv)
{
    while (srv->conns) {
        conn *c = srv->conns;
        if (!c->closing)
            conn_close(c, "system-shutdown", NULL);
        conn_free(c);
    }
}
