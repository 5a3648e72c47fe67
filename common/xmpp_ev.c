/* xmpp_ev: libstrophe on a libevent loop (see xmpp_ev.h). */
#include "xmpp_ev.h"

#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define XMPP_EV_TICK_MS 20

struct xmpp_ev {
    struct event_base *base;
    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;     /* current attempt, or NULL */
    xmpp_conn_t *dead;     /* a finished connection waiting to be released */
    struct event *sock_ev; /* readable on the current socket */
    struct event *kick;    /* run libstrophe on this loop pass */
    struct event *tick;    /* periodic run */
    struct event *retry;   /* next connection attempt */
    char *jid, *password, *host, *log_ctx;
    unsigned short port;
    bool component, trust_tls, connected;
    int backoff_s, backoff_max_s;
    unsigned reconnects;
    xmpp_ev_state_cb on_state;
    void *ud;
    xmpp_log_t logger;
};

static void xev_run(xmpp_ev *x)
{
    xmpp_run_once(x->ctx, 0);
    if (x->dead && x->dead != x->conn) {
        xmpp_conn_release(x->dead);
        x->dead = NULL;
    }
}

static void xev_kick_cb(evutil_socket_t fd, short what, void *arg)
{
    xev_run(arg);
}

static void xev_logger(void *ud, xmpp_log_level_t level, const char *area, const char *msg)
{
    xmpp_ev *x = ud;
    if (level >= XMPP_LEVEL_WARN)
        log_warn(x->log_ctx, "libstrophe %s: %s", area, msg);
    else if (log_enabled(LOG_DEBUG) && level >= XMPP_LEVEL_INFO)
        log_debug(x->log_ctx, "libstrophe %s: %.300s", area, msg);
}

static void xev_schedule_retry(xmpp_ev *x)
{
    struct timeval tv = {x->backoff_s, 0};
    evtimer_add(x->retry, &tv);
    log_info(x->log_ctx, "reconnecting to %s:%u in %d s", x->host, x->port, x->backoff_s);
    x->backoff_s = x->backoff_s * 2 > x->backoff_max_s ? x->backoff_max_s : x->backoff_s * 2;
}

static void xev_conn_handler(xmpp_conn_t *conn, xmpp_conn_event_t status, int error,
                             xmpp_stream_error_t *stream_error, void *ud)
{
    xmpp_ev *x = ud;
    if (conn != x->conn)
        return;
    if (status == XMPP_CONN_CONNECT || status == XMPP_CONN_RAW_CONNECT) {
        x->connected = true;
        x->backoff_s = 1;
        x->reconnects++;
        log_info(x->log_ctx, "connected to %s:%u as %s", x->host, x->port,
                 xmpp_conn_get_bound_jid(conn) ? xmpp_conn_get_bound_jid(conn) : x->jid);
        x->on_state(x, true, x->ud);
        return;
    }
    /* XMPP_CONN_DISCONNECT or XMPP_CONN_FAIL */
    bool was = x->connected;
    x->connected = false;
    if (x->sock_ev) {
        event_free(x->sock_ev);
        x->sock_ev = NULL;
    }
    x->dead = conn;
    x->conn = NULL;
    if (was)
        log_warn(x->log_ctx, "connection to %s:%u lost (error %d%s)", x->host, x->port, error,
                 stream_error ? ", stream error" : "");
    else
        log_warn(x->log_ctx, "cannot connect to %s:%u (error %d)", x->host, x->port, error);
    x->on_state(x, false, x->ud);
    xev_schedule_retry(x);
}

static void xev_sock_cb(evutil_socket_t fd, short what, void *arg)
{
    xev_run(arg);
}

/* libstrophe creates the socket inside xmpp_connect_*() and hands it to
 * the sockopt callback, which carries no user data: the xmpp_ev making the
 * call is passed through this pointer, set only for the duration of that
 * call (it is not state that outlives it). */
static __thread xmpp_ev *xev_connecting;

static int xev_sockopt(xmpp_conn_t *conn, void *sock)
{
    xmpp_ev *x = xev_connecting;
    if (!x || conn != x->conn)
        return 0;
    int fd = *(int *)sock;
    if (x->sock_ev)
        event_free(x->sock_ev);
    x->sock_ev = event_new(x->base, fd, EV_READ | EV_PERSIST, xev_sock_cb, x);
    event_add(x->sock_ev, NULL);
    return xmpp_sockopt_cb_keepalive(conn, sock);
}

static void xev_ignore_conn(xmpp_conn_t *conn, xmpp_conn_event_t status, int error,
                            xmpp_stream_error_t *stream_error, void *ud)
{
}

/* libstrophe 0.12.2 dereferences the connection's stream-management state
 * on every send, but only allocates it for client connections: a component
 * connection crashes on its first stanza. The state is taken from a client
 * connection that is refused at once (127.0.0.1 port 1) and handed to the
 * component connection, disabled as it is. Bounded: at most 20 polls of
 * 10 ms, normally one. */
static void xev_component_sm_state(xmpp_ev *x, xmpp_conn_t *comp)
{
    xmpp_conn_t *c = xmpp_conn_new(x->ctx);
    xmpp_conn_set_jid(c, "sm@localhost");
    xmpp_sm_state_t *st = NULL;
    if (xmpp_connect_client(c, "127.0.0.1", 1, xev_ignore_conn, NULL) == XMPP_EOK)
        for (int i = 0; i < 20 && !(st = xmpp_conn_get_sm_state(c)); i++)
            xmpp_run_once(x->ctx, 10);
    xmpp_conn_release(c);
    if (!st || xmpp_conn_set_sm_state(comp, st) != XMPP_EOK)
        fatal("libstrophe: cannot prepare the component connection");
}

static void xev_connect(xmpp_ev *x)
{
    x->conn = xmpp_conn_new(x->ctx);
    long flags = 0;
    if (x->trust_tls)
        flags |= XMPP_CONN_FLAG_TRUST_TLS;
    flags |= XMPP_CONN_FLAG_DISABLE_SM;
    xmpp_conn_set_flags(x->conn, flags);
    xmpp_conn_set_jid(x->conn, x->jid);
    xmpp_conn_set_pass(x->conn, x->password);
    xmpp_conn_set_sockopt_callback(x->conn, xev_sockopt);
    if (x->component)
        xev_component_sm_state(x, x->conn);
    xev_connecting = x;
    int rc = x->component ? xmpp_connect_component(x->conn, x->host, x->port, xev_conn_handler, x)
                          : xmpp_connect_client(x->conn, x->host, x->port, xev_conn_handler, x);
    xev_connecting = NULL;
    if (rc != XMPP_EOK) {
        log_warn(x->log_ctx, "cannot start connecting to %s:%u", x->host, x->port);
        xmpp_conn_release(x->conn);
        x->conn = NULL;
        xev_schedule_retry(x);
        return;
    }
    event_active(x->kick, 0, 0);
}

static void xev_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    xev_connect(arg);
}

static void xev_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    xmpp_ev *x = arg;
    if (x->conn || x->dead)
        xev_run(x);
}

xmpp_ev *xmpp_ev_new(struct event_base *base, const xmpp_ev_opts *o, xmpp_ev_state_cb on_state,
                     void *ud)
{
    xmpp_ev *x = xcalloc(1, sizeof *x);
    x->base = base;
    x->jid = xstrdup(o->jid);
    x->password = xstrdup(o->password ? o->password : "");
    x->host = xstrdup(o->host);
    x->log_ctx = xstrdup(o->log_ctx ? o->log_ctx : "[xmpp]");
    x->port = o->port;
    x->component = o->component;
    x->trust_tls = o->trust_tls;
    x->backoff_s = 1;
    x->backoff_max_s = o->backoff_max_s > 0 ? o->backoff_max_s : 30;
    x->on_state = on_state;
    x->ud = ud;
    x->logger.handler = xev_logger;
    x->logger.userdata = x;
    x->ctx = xmpp_ctx_new(NULL, &x->logger);
    x->kick = event_new(base, -1, 0, xev_kick_cb, x);
    x->retry = evtimer_new(base, xev_retry_cb, x);
    x->tick = event_new(base, -1, EV_PERSIST, xev_tick_cb, x);
    struct timeval tv = {0, XMPP_EV_TICK_MS * 1000};
    event_add(x->tick, &tv);
    xev_connect(x);
    return x;
}

void xmpp_ev_free(xmpp_ev *x)
{
    if (!x)
        return;
    if (x->conn) {
        xmpp_conn_t *c = x->conn;
        x->conn = NULL; /* the handler ignores what follows */
        if (x->connected)
            xmpp_disconnect(c);
        for (int i = 0; i < 5; i++)
            xmpp_run_once(x->ctx, 0);
        xmpp_conn_release(c);
    }
    if (x->dead)
        xmpp_conn_release(x->dead);
    if (x->sock_ev)
        event_free(x->sock_ev);
    event_free(x->kick);
    event_free(x->retry);
    event_free(x->tick);
    xmpp_ctx_free(x->ctx);
    free(x->jid);
    free(x->password);
    free(x->host);
    free(x->log_ctx);
    free(x);
}

xmpp_ctx_t *xmpp_ev_ctx(xmpp_ev *x)
{
    return x->ctx;
}

xmpp_conn_t *xmpp_ev_conn(xmpp_ev *x)
{
    return x->conn;
}

bool xmpp_ev_connected(const xmpp_ev *x)
{
    return x->connected;
}

const char *xmpp_ev_jid(xmpp_ev *x)
{
    if (!x->connected)
        return NULL;
    if (x->component)
        return x->jid;
    return xmpp_conn_get_bound_jid(x->conn);
}

bool xmpp_ev_send(xmpp_ev *x, xmpp_stanza_t *st)
{
    if (!x->connected || !x->conn)
        return false;
    /* serialized here and sent raw: libstrophe 0.12.2's xmpp_send reads
     * the stream-management state, which a component connection lacks */
    char *buf = NULL;
    size_t len = 0;
    if (xmpp_stanza_to_text(st, &buf, &len) != XMPP_EOK)
        return false;
    log_debug(x->log_ctx, "send %.2000s", buf);
    xmpp_send_raw(x->conn, buf, len);
    xmpp_free(x->ctx, buf);
    event_active(x->kick, 0, 0);
    return true;
}

unsigned xmpp_ev_reconnects(const xmpp_ev *x)
{
    return x->reconnects;
}
