/* xmppd: the daemon's top-level struct. Everything mutable that lives longer
 * than one connection hangs off it; there is no other global state.
 *
 * Ownership: main.c creates and destroys it; modules borrow it. Runs on the
 * daemon's one libevent loop. */
#ifndef PARLEY_XMPPD_H
#define PARLEY_XMPPD_H

#include "config.h"
#include "hmap.h"
#include "settings.h"
#include "store.h"

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct conn conn;
typedef struct muc_service muc_service;
typedef struct http_server http_server;

typedef struct xmppd_stats {
    unsigned long long stanzas_in, stanzas_out;
    unsigned long long logins, auth_failures;
    unsigned long long connections_total;
} xmppd_stats;

typedef struct xmppd {
    struct event_base *base;
    config *cfg;
    settings set;
    store *store;
    SSL_CTX *tls;
    struct evconnlistener *c2s_listener;
    struct evconnlistener *comp_listener; /* NULL when XMPP_COMPONENT_PORT=0 */
    conn *conns; /* every live connection, doubly linked through conn->next/prev */
    int nconns;
    hmap sessions;       /* bare JID -> user_sessions (router.c) */
    hmap login_buckets;  /* IP -> ratelimit bucket (ratelimit.c) */
    hmap components;     /* domain -> connected component conn (component.c) */
    muc_service *muc[2]; /* conference and brewery services (muc.c) */
    http_server *http;   /* the HTTP listener (httpd.c), NULL when off */
    hmap bosh_sessions;  /* sid -> BOSH session (bosh.c) */
    conn *flush_list;    /* connections with output written this loop pass (conn.c) */
    struct event *flush_ev;
    struct event *sig_int, *sig_term, *housekeeping;
    xmppd_stats stats;
    uint8_t scram_secret[16]; /* keys the fake SCRAM salt of unknown users */
    bool stopping;
} xmppd;

#endif
