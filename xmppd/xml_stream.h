/* xml_stream: the incremental, hostile-input-safe XML stream parser (expat).
 *
 * Feed it bytes as they arrive; it calls back once for the stream header
 * (<stream:stream ...> or, for WebSocket framing later, <open .../>), once
 * per complete top-level child (a stanza or a stream-level element such as
 * <starttls/>, <auth/>), and once when the stream is closed by the peer.
 *
 * Limits enforced before anything else sees the data:
 *  - max_stanza: no more than this many bytes between two top-level element
 *    boundaries (this includes a single start tag and the stream header);
 *  - max_depth: element nesting depth below the stream element;
 *  - max_attrs: attributes per element;
 *  - no DOCTYPE, entity declarations, processing instructions or comments
 *    (RFC 6120 section 11.1: restricted XML);
 *  - the first element must be the stream header in XMLNS_STREAM;
 *  - a stanza over XS_TRICKLE_FREE bytes may take at most 64 + size/512
 *    parser passes: expat rescans an unfinished token on every pass, so a
 *    big start tag sent one byte per packet would otherwise cost quadratic
 *    CPU (seconds per connection).
 *
 * Ownership: the stanza callback takes ownership of the tree it is given; the
 * header node passed to open() is borrowed for the duration of the call.
 * Callbacks run inside xml_stream_feed on the caller's loop. */
#ifndef PARLEY_XML_STREAM_H
#define PARLEY_XML_STREAM_H

#include "xml.h"

#include <stddef.h>

typedef struct xml_stream xml_stream;

typedef struct xml_stream_limits {
    size_t max_stanza;  /* bytes, e.g. 262144 */
    unsigned max_depth; /* e.g. 64 */
    unsigned max_attrs; /* e.g. 64 */
} xml_stream_limits;

typedef struct xml_stream_callbacks {
    /* header: name "stream", ns XMLNS_STREAM, its attributes (to, from, id,
     * version, xml:lang), and an attribute "xmlns" holding the default
     * namespace declared on it (e.g. "jabber:client"), if any. */
    void (*open)(void *ud, const xml_node *header);
    /* A complete top-level element. Its ns is resolved (default namespace
     * of the stream for unprefixed stanzas). Callee owns stanza. */
    void (*stanza)(void *ud, xml_node *stanza);
    /* The peer sent </stream:stream>. */
    void (*close)(void *ud);
} xml_stream_callbacks;

typedef enum xml_stream_error {
    XS_OK = 0,
    XS_ERR_NOT_WELL_FORMED, /* -> <not-well-formed/> */
    XS_ERR_TOO_BIG,         /* max_stanza exceeded -> <policy-violation/> */
    XS_ERR_TOO_DEEP,        /* max_depth exceeded -> <policy-violation/> */
    XS_ERR_TOO_MANY_ATTRS,  /* max_attrs exceeded -> <policy-violation/> */
    XS_ERR_RESTRICTED,      /* DOCTYPE, entities, PI, comment -> <restricted-xml/> */
    XS_ERR_BAD_NAMESPACE,   /* first element is not a stream header -> <invalid-namespace/> */
    XS_ERR_TRICKLE,         /* a large stanza in too many tiny reads -> <policy-violation/> */
} xml_stream_error;

/* Creates a parser; limits and callbacks are copied. Caller frees with
 * xml_stream_free. */
xml_stream *xml_stream_new(const xml_stream_limits *limits, const xml_stream_callbacks *cbs,
                           void *ud);
void xml_stream_free(xml_stream *xs);

/* Parses len bytes. Returns XS_OK or the first error; after an error every
 * further call returns that error and no callback fires again. */
xml_stream_error xml_stream_feed(xml_stream *xs, const char *data, size_t len);

/* Stream restart (after STARTTLS or SASL success). May be called from inside
 * a callback: parsing stops after the current element, the bytes remaining
 * in the current feed() call are discarded, and the next feed() expects a
 * fresh stream header. Outside a callback it takes effect immediately. */
void xml_stream_restart(xml_stream *xs);

/* Stops parsing from inside a callback (e.g. the connection is closing):
 * the remaining bytes of the current feed() are discarded and every later
 * feed() returns XS_OK without calling back. */
void xml_stream_halt(xml_stream *xs);

/* A short English description of an error, for logs. */
const char *xml_stream_strerror(xml_stream_error err);

#endif
