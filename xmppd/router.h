/* router: who is online and where a stanza goes.
 *
 * Sessions: srv->sessions maps a bare JID to its list of bound connections
 * (linked through conn->next_res). Routing follows RFC 6120 section 10 and
 * RFC 6121 section 8: local domains only (no s2s yet), messages to bare JIDs
 * go to the highest-priority available resources, undeliverable
 * messages and IQs bounce with service-unavailable.
 *
 * Ownership: every function taking an xml_node *st takes ownership of it
 * unless it says "borrowed". Main loop. */
#ifndef PARLEY_ROUTER_H
#define PARLEY_ROUTER_H

#include "conn.h"
#include "jid.h"
#include "xml.h"

/* Binds c to resource (copied), replacing an existing session of the same
 * full JID (which gets a <conflict/> stream error). */
void router_bind(conn *c, const char *resource);
void router_unbind(conn *c);
/* The first bound connection of bare (iterate with ->next_res), or NULL. */
conn *router_sessions(xmppd *srv, const char *bare);
/* The connection bound to full, or NULL. */
conn *router_find(xmppd *srv, const char *full);

/* A stanza from a bound client: validates and stamps from, then routes. */
void router_from_client(conn *c, xml_node *st);
/* Routes st (from/to already set and normalized) to its destination. */
void router_route(xmppd *srv, xml_node *st, const jid *to);
/* Routes st by its to attribute (a server-generated stanza). */
void router_route_str(xmppd *srv, xml_node *st);
/* Turns st into an error reply and sends it back (to reply_to directly when
 * given, else routed). Drops st if it must not be answered. */
void router_send_error(xmppd *srv, xml_node *st, const char *etype, const char *cond,
                       const char *text, conn *reply_to);
/* Sends a copy of st (borrowed) to conn target with to= set to target's
 * full JID. */
void router_deliver_copy(conn *target, const xml_node *st);
/* True if host/user is an account (or an online anonymous user). */
bool router_user_exists(xmppd *srv, const char *host, const char *user);
/* True if domain is one of ours. */
bool router_is_local(xmppd *srv, const char *domain);

#endif
