/* websocket: XMPP over WebSocket (RFC 7395) on xmppd's HTTP port: the
 * upgrade handshake (subprotocol "xmpp"), frames handled by wslay (Debian
 * libwslay-dev): text frames only, masked client frames, ping/pong, close
 * codes, fragmented messages reassembled up to XMPP_MAX_STANZA_SIZE. Each
 * message is one element; <open/> and <close/> (urn:ietf:params:xml:ns:
 * xmpp-framing) stand for the stream header and its end. Behind it the
 * session is the same c2s stream as on TCP (no STARTTLS: the transport is
 * secure when it came over TLS or from a trusted proxy). Main loop. */
#ifndef PARLEY_WEBSOCKET_H
#define PARLEY_WEBSOCKET_H

#include "http.h"
#include "xmppd.h"

#define XMLNS_FRAMING "urn:ietf:params:xml:ns:xmpp-framing"

/* Answers an upgrade request for /xmpp-websocket (takes req): 101 and a new
 * client stream on the socket, or an HTTP error. ip: the client's address
 * (after trusted-proxy handling); secure: see above. */
void websocket_upgrade(xmppd *srv, http_request *req, const char *ip, bool secure);

#endif
