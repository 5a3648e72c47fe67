/* component: external components (XEP-0114, jabber:component:accept) on
 * their own listener. A component authenticates with the handshake
 * SHA-1(stream id + secret) for a domain configured with a secret; one
 * connection per domain (a second gets <conflict/>). Once connected, every
 * stanza to the domain or a JID under it goes to the component, and the
 * component may send from any JID inside its domain. Main loop. */
#ifndef PARLEY_COMPONENT_H
#define PARLEY_COMPONENT_H

#include "conn.h"

#define XMLNS_COMPONENT "jabber:component:accept"

extern const conn_ops component_ops;

/* The connected component serving domain, or NULL. */
conn *component_find(xmppd *srv, const char *domain);
/* Namespace of a stanza tree: every element in from_ns is moved to to_ns. */
void component_rename_ns(xml_node *node, const char *from_ns, const char *to_ns);

#endif
