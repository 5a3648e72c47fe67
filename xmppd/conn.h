/* conn: one client connection: its socket (plain, then TLS after STARTTLS),
 * its XML stream parser, its limits (stanza rate, send buffer, auth
 * timeout), and the session state c2s.c and router.c keep on it.
 *
 * Lifetime: conn_new is called by the listener; conn_close marks the
 * connection closing (sending a stream error if asked), ends its session at
 * once, and a deferred event frees it once its output is flushed (or after a
 * bound). A conn is never freed inside one of its own callbacks. Callers may
 * keep a conn pointer only while it is not closing. Runs on the main loop. */
#ifndef PARLEY_CONN_H
#define PARLEY_CONN_H

#include "settings.h"
#include "xml.h"
#include "xml_stream.h"
#include "xmppd.h"

#include <event2/bufferevent.h>
#include <sys/uio.h>
#include <stdbool.h>

typedef enum conn_state {
    CONN_WAIT_HEADER = 0, /* waiting for the (first or restarted) stream header */
    CONN_NEGOTIATING,     /* features sent; STARTTLS / SASL */
    CONN_AUTHED,          /* SASL done; waiting for bind */
    CONN_BOUND,           /* resource bound: a session */
} conn_state;

typedef struct sasl_exchange sasl_exchange;

/* How a stream travels: plain TCP (with STARTTLS), WebSocket (RFC 7395
 * framing), BOSH. Everything conn.c and the stream kinds send is one
 * complete top-level element per element() call; the transport frames it. */
typedef struct conn_transport {
    const char *name;
    bool can_starttls;
    void (*init)(conn *c);     /* sets up tr_state; NULL if none */
    void (*readable)(conn *c); /* bytes arrived on c->bev: decode, conn_feed() */
    void (*element)(conn *c, const struct iovec *v, int n);
    void (*open)(conn *c); /* our stream header */
    void (*end)(conn *c);  /* the end of our stream */
    void (*free)(conn *c); /* frees tr_state; NULL if none */
} conn_transport;

/* What a kind of stream (client, component) does with its connection:
 * a small table of functions conn.c calls. */
typedef struct conn_ops {
    const char *stream_ns; /* default namespace of our stream header */
    bool rate_limited;     /* stanza rate limit applies */
    void (*stream_open)(conn *c, const xml_node *header);
    void (*stanza)(conn *c, xml_node *stanza); /* takes ownership */
    void (*session_end)(conn *c);              /* idempotent */
    void (*free)(conn *c);                     /* frees the kind's fields */
} conn_ops;

struct conn {
    xmppd *srv;
    const conn_ops *ops;
    const conn_transport *tr;
    void *tr_state;    /* the transport's */
    conn *next, *prev; /* srv->conns */
    struct bufferevent *bev;
    xml_stream *xs;
    struct event *timer; /* auth timeout, then closing linger */
    struct event *drain; /* after our half-close: reads and discards until EOF */
    conn_state state;
    bool authed; /* SASL succeeded (state >= CONN_AUTHED survives restart) */
    bool tls;
    bool closing;
    bool dead;             /* the socket is gone or the peer stopped reading: free at once */
    bool half_closed;      /* our side sent FIN; draining the peer */
    bool plain_socket;     /* bev is a plain socket: writes may bypass it (conn_flush) */
    struct evbuffer *pend; /* written this loop pass, flushed once by conn_flush */
    conn *flush_next;      /* srv->flush_list */
    bool in_flush_list;
    bool header_sent; /* our stream header for the current stream */
    bool want_starttls;
    char ip[48];
    char stream_id[17];
    char ctx[160]; /* log context "[ip=... jid=...]" */
    const vhost *vh;
    long long close_deadline_ms;

    /* SASL (sasl.c) */
    sasl_exchange *sasl;
    int sasl_failures;

    char *token; /* the ?token= of a WebSocket or BOSH URL, for token auth */

    /* a component's domain (component.c), set once its handshake passed */
    char *component;

    /* the session (c2s.c, router.c, presence.c); set once bound */
    char *user; /* node */
    bool anonymous;
    char *bare;         /* node@domain */
    char *full;         /* node@domain/resource */
    conn *next_res;     /* the other resources of the same account */
    xml_node *presence; /* last available presence broadcast, NULL if unavailable */
    int priority;
    bool roster_requested;
    char **directed; /* full JIDs sent directed available presence */
    size_t ndirected;

    /* stanza rate limit */
    double tokens;
    long long tokens_at_ms;
};

/* Accepts fd from a listener for a stream of the given kind over TCP.
 * Takes ownership of fd. */
void conn_accept(xmppd *srv, const conn_ops *ops, evutil_socket_t fd, const struct sockaddr *addr,
                 int socklen);
/* A stream over another transport on an existing bufferevent (taken over;
 * may be NULL for transports without a socket of their own). secure: the
 * transport is encrypted or comes from a trusted proxy. */
conn *conn_new(xmppd *srv, const conn_ops *ops, const conn_transport *tr, struct bufferevent *bev,
               const char *ip, bool secure);
/* For transports: hands decoded stream bytes to the parser; closes the
 * stream with the right error on bad XML. Returns the parser's result. */
xml_stream_error conn_feed(conn *c, const char *data, size_t len);
/* For transports: raw bytes to the socket (with the send buffer limit). */
void conn_write(conn *c, const void *data, size_t len);
/* Queues bytes / a serialized element (written with parent ns jabber:client).
 * A reader that lets more than max_send_buffer pile up is dropped. */
void conn_send_raw(conn *c, const char *data, size_t len);
void conn_send_node(conn *c, const xml_node *node);
/* Queues n pieces as one write (no intermediate copy). */
void conn_send_iov(conn *c, const struct iovec *v, int n);
/* Sends our stream header for the current stream (once). */
void conn_send_header(conn *c);
/* Starts TLS on the socket after the current read finishes (STARTTLS). */
void conn_starttls(conn *c);
/* Closes: sends <stream:error><cond/>... if cond != NULL (text optional),
 * then </stream:stream>; ends the session; frees later. Idempotent. */
void conn_close(conn *c, const char *cond, const char *text);
/* Recomputes the log context after the JID changes. */
void conn_update_ctx(conn *c);
/* Sets up the once-per-loop-pass flush of conn_write (main.c at startup). */
void conn_flush_init(xmppd *srv);
/* Marks c's socket as a plain socket bufferevent (TCP, WebSocket over HTTP). */
void conn_set_plain_socket(conn *c, bool plain);
/* Frees every connection at shutdown (outside any connection callback). */
void conn_free_all(xmppd *srv);

#endif
