/* stanza: small helpers over xml_node for the three XMPP stanza kinds:
 * error replies (RFC 6120 section 8.3), IQ results, attribute access.
 * Ownership is stated per function. Main loop. */
#ifndef PARLEY_STANZA_H
#define PARLEY_STANZA_H

#include "xml.h"

#include <stdbool.h>
#include <sys/uio.h>

#define XMLNS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

/* type attribute, or "" when absent (never NULL). */
const char *stanza_type(const xml_node *st);
/* True for message/presence/iq. */
bool stanza_is_stanza(const xml_node *st);
/* Turns st into an error reply in place: swaps to/from, sets type='error'
 * and appends <error type=etype><cond/><text/></error>. Returns st. The
 * error type is chosen from cond when etype is NULL. */
xml_node *stanza_make_error(xml_node *st, const char *etype, const char *cond, const char *text);
/* A new <iq type='result'> answering iq (to/from swapped, same id); caller
 * owns it. */
xml_node *stanza_iq_result(const xml_node *iq);
/* The single payload child of an IQ get/set, or NULL. */
xml_node *stanza_iq_payload(const xml_node *iq);
/* True if an error reply must not be generated for st (it is an error, or
 * an IQ result). */
bool stanza_no_error_reply(const xml_node *st);

/* Appends the element given in pieces (serialized inside a jabber:client
 * stream) to out so that it stands alone, as WebSocket messages and BOSH
 * bodies need: xmlns:stream is declared on stream-level elements and
 * xmlns='jabber:client' on stanzas that do not declare a namespace. */
void stanza_standalone(const struct iovec *v, int n, sbuf *out);

#endif
