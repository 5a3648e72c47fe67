/* bosh: XMPP over BOSH (XEP-0124, XEP-0206) at /http-bind.
 *
 * A session is a c2s stream whose transport is a queue: elements the server
 * sends wait in the session until a held request can carry them. Requests
 * are processed strictly in rid order (early ones within the window wait
 * for the gap to fill); a rid outside the window ends the session with
 * item-not-found; a repeated rid gets its cached response again. At most
 * `hold` requests are held; each is answered when stanzas are due or after
 * `wait` seconds; with none held for `inactivity` seconds the session ends
 * (and with it its presences, MUC occupancy included). Bodies are parsed
 * with the project's XML stream parser under the same limits as TCP.
 * CORS headers for XMPP_CORS_ORIGINS. Main loop. */
#ifndef PARLEY_BOSH_H
#define PARLEY_BOSH_H

#include "http.h"
#include "xml.h"
#include "xmppd.h"

#define XMLNS_HTTPBIND "http://jabber.org/protocol/httpbind"
#define XMLNS_XBOSH "urn:xmpp:xbosh"

/* Handles a request for /http-bind (takes req). ip: the client's address;
 * secure: came over TLS or from a trusted proxy. */
void bosh_request(xmppd *srv, http_request *req, const char *ip, bool secure);
/* Parses a request body into its <body/> element (caller frees), or NULL
 * with *why set. max: the size limit. Used by bosh_request and the fuzzer. */
xml_node *bosh_parse_body(const char *data, size_t len, size_t max, const char **why);
/* Frees every session (shutdown). */
void bosh_free_all(xmppd *srv);

#endif
