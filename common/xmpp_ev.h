/* xmpp_ev: one libstrophe XMPP connection (a client like jvb@AUTH, or a
 * XEP-0114 component like focus.DOMAIN) driven from a daemon's libevent
 * loop, with reconnection and exponential backoff.
 *
 * libstrophe does its own socket I/O inside xmpp_run_once(ctx, 0); this
 * module calls it when the socket (learnt from the sockopt callback) is
 * readable, right after anything was queued with xmpp_ev_send, and on a
 * short tick (connect progress, TLS-buffered bytes, libstrophe's timed
 * handlers). It never blocks the loop.
 *
 * Each (re)connection is a fresh xmpp_conn_t: add stanza handlers in the
 * on_state(connected = true) callback, they die with the connection. When
 * the connection fails or drops, on_state(false) is called once and a new
 * attempt follows after 1 s, doubling up to backoff_max_s.
 *
 * Ownership: the caller owns the xmpp_ev (xmpp_ev_free); xmpp_ev owns the
 * libstrophe context and connections and copies the options' strings.
 * xmpp_ev_send takes a reference of its own (the caller still releases its
 * stanza). Main loop only. Call xmpp_initialize() once in main first. */
#ifndef PARLEY_XMPP_EV_H
#define PARLEY_XMPP_EV_H

#include <event2/event.h>
#include <stdbool.h>
#include <strophe.h>

typedef struct xmpp_ev xmpp_ev;

typedef struct xmpp_ev_opts {
    const char *jid;      /* client: full or bare JID; component: its domain */
    const char *password; /* client password or component secret */
    const char *host;     /* server address */
    unsigned short port;  /* 5222 (client) or 5347 (component) */
    bool component;       /* XEP-0114 instead of c2s */
    bool trust_tls;       /* accept any server certificate (test and local setups) */
    int backoff_max_s;    /* ceiling of the reconnect delay, e.g. 30 */
    const char *log_ctx;  /* log context, e.g. "[xmpp=jvb@auth.meet.parley]" */
} xmpp_ev_opts;

/* Called after the session is established (connected = true, stanzas may be
 * sent and handlers added) and once when it is lost or an attempt fails. */
typedef void (*xmpp_ev_state_cb)(xmpp_ev *x, bool connected, void *ud);

/* Starts connecting at once. */
xmpp_ev *xmpp_ev_new(struct event_base *base, const xmpp_ev_opts *opts, xmpp_ev_state_cb on_state,
                     void *ud);
void xmpp_ev_free(xmpp_ev *x);

xmpp_ctx_t *xmpp_ev_ctx(xmpp_ev *x);
/* The current connection, or NULL between attempts. */
xmpp_conn_t *xmpp_ev_conn(xmpp_ev *x);
bool xmpp_ev_connected(const xmpp_ev *x);
/* The JID the server bound (client) or the component domain; NULL when
 * disconnected. */
const char *xmpp_ev_jid(xmpp_ev *x);
/* Queues a stanza and flushes it on this loop pass; dropped (false) when
 * not connected. */
bool xmpp_ev_send(xmpp_ev *x, xmpp_stanza_t *st);
/* Seconds connected in total and number of connections made (for stats). */
unsigned xmpp_ev_reconnects(const xmpp_ev *x);

#endif
