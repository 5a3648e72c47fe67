/* roster: jabber:iq:roster get/set/remove (RFC 6121 section 2) and roster
 * pushes to the account's interested resources. Items live in the store;
 * subscription states change only through presence.c. Main loop. */
#ifndef PARLEY_ROSTER_H
#define PARLEY_ROSTER_H

#include "conn.h"
#include "store.h"

#define ROSTER_MAX_ITEMS 1000

/* Handles a roster IQ from c for its own account; takes ownership of st. */
void roster_iq(conn *c, xml_node *st);
/* Pushes item (borrowed) to every resource of host/user that requested the
 * roster; removed: subscription='remove'. */
void roster_push(xmppd *srv, const char *host, const char *user, const roster_item *item,
                 bool removed);

#endif
