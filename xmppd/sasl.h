/* sasl: the SASL exchange of a c2s stream (RFC 6120 section 6): mechanisms
 * SCRAM-SHA-256, SCRAM-SHA-1, PLAIN (only over TLS) for vhosts with
 * accounts, ANONYMOUS for vhosts that allow it. Enforces the per-IP login
 * rate. Main loop. */
#ifndef PARLEY_SASL_H
#define PARLEY_SASL_H

#include "conn.h"
#include "xml.h"

#define XMLNS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"

/* Appends <mechanisms/> for c's vhost and transport to features. */
void sasl_features(conn *c, xml_node *features);
/* Handles <auth/>, <response/> or <abort/> (borrowed). Returns 1 when the
 * client is authenticated (c->user, c->anonymous set, <success/> sent), 0
 * while the exchange goes on or after a failure was answered; the
 * connection may be closing afterwards. */
int sasl_handle(conn *c, const xml_node *el);
/* Frees an exchange in progress. */
void sasl_free(conn *c);

#endif
