/* presence: availability broadcast, probes, directed presence and the
 * subscription handshake (RFC 6121 sections 3 and 4), local accounts only.
 * Roster subscription states change here; pushes go through roster.c.
 * Functions taking an xml_node *st take ownership of it. Main loop. */
#ifndef PARLEY_PRESENCE_H
#define PARLEY_PRESENCE_H

#include "conn.h"
#include "jid.h"
#include "store.h"

/* Presence sent by bound client c; to is NULL for broadcast presence. */
void presence_from_client(conn *c, xml_node *st, const jid *to);
/* Presence arriving for a local account (to has a node). */
void presence_inbound(xmppd *srv, xml_node *st, const jid *to);
/* The session of c ends: unavailable to everyone who saw it available. */
void presence_session_end(conn *c);
/* c removed old (borrowed) from its roster: cancel both directions. */
void presence_roster_removed(conn *c, const roster_item *old);

#endif
