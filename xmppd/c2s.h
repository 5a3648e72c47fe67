/* c2s: the client stream state machine (RFC 6120): stream header checks,
 * features, STARTTLS, SASL (sasl.c), resource binding, and hand-over of
 * stanzas to the router once bound. Called by conn.c from the parser's
 * callbacks on the main loop; stanzas passed in are owned by c2s. */
#ifndef PARLEY_C2S_H
#define PARLEY_C2S_H

#include "conn.h"

void c2s_stream_open(conn *c, const xml_node *header);
void c2s_stanza(conn *c, xml_node *stanza);
/* Ends the session if bound (presence unavailable, unbind). Idempotent. */
void c2s_session_end(conn *c);
/* Frees the session fields of c (called from conn_free). */
void c2s_conn_free(conn *c);

#endif
