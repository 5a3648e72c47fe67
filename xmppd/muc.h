/* muc: multi-user chat services (XEP-0045) on XMPP_MUC_DOMAIN and
 * XMPP_INTERNAL_MUC_DOMAIN. The router hands every stanza for those domains
 * to muc_route. See docs/muc.md for the behaviour. Main loop. */
#ifndef PARLEY_MUC_H
#define PARLEY_MUC_H

#include "jid.h"
#include "xml.h"
#include "xmppd.h"

/* Creates the services and loads persistent rooms. 0 or -1 (logged). */
int muc_init(xmppd *srv);
void muc_free(xmppd *srv);
/* True if domain is a MUC service. */
bool muc_is_service(xmppd *srv, const char *domain);
/* Routes st (ownership taken) addressed to a MUC service, room or occupant. */
void muc_route(xmppd *srv, xml_node *st, const jid *to);
/* Every occupant whose real JID is in domain leaves (a component went away). */
void muc_domain_gone(xmppd *srv, const char *domain);

#endif
