/* c2s: the client stream state machine (RFC 6120): stream header checks,
 * features, STARTTLS, SASL (sasl.c), resource binding, and hand-over of
 * stanzas to the router once bound. Called by conn.c from the parser's
 * callbacks on the main loop; stanzas passed in are owned by c2s. */
#ifndef PARLEY_C2S_H
#define PARLEY_C2S_H

#include "conn.h"

/* The client stream kind, for conn_accept. */
extern const conn_ops c2s_ops;

#endif
