/* iq: IQs the server answers itself: to the server's domain (disco#info,
 * disco#items, ping, version, session), to an account's bare JID (ping,
 * disco, roster for its owner), and IQs without 'to' from a client.
 * Unknown payloads get service-unavailable. Takes ownership of st. Main loop. */
#ifndef PARLEY_IQ_H
#define PARLEY_IQ_H

#include "conn.h"
#include "jid.h"

#define XMLNS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define XMLNS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define XMLNS_PING "urn:xmpp:ping"
#define XMLNS_VERSION "jabber:iq:version"
#define XMLNS_ROSTER "jabber:iq:roster"

void iq_server(xmppd *srv, xml_node *st);
void iq_account(xmppd *srv, xml_node *st, const jid *to);
void iq_from_client_to_self(conn *c, xml_node *st);

#endif
