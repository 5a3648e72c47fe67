/* stanza_fields: the bounded field readers, the parsers of the element types
 * Colibri2 and Jingle share (payload-type with its parameters and rtcp-fb,
 * rtp-hdrext, ICE candidate incl. RFC 8828 mDNS names, DTLS fingerprint,
 * ssrc-group, the ice-udp transport's children) and the matching stanza
 * builders, on libstrophe stanzas. Internal to colibri2.c and jingle.c,
 * which keep one set of rules and error messages through it.
 *
 * Parsing: every reader takes an sf_parser, which says where an error goes.
 * On a malformed or over-bound field a reader writes one message there and
 * returns -1 (sf_bad); the callers pass -1 up unchanged, so the first error
 * is the one reported. Readers never truncate silently.
 *
 * Ownership: the sf_parser and its error buffers belong to the caller and
 * must outlive the parse; the readers borrow the stanzas and keep no pointer
 * into them (sf_el_name and sf_ns_of return the stanza's own strings, valid
 * while the stanza lives). Builders return or append stanzas: sf_new_el's
 * result is owned by the caller (xmpp_stanza_release), everything appended
 * to a parent is owned by that parent. Out of memory and an over-bound count
 * given to a builder are fatal (util.h). Thread-safe and usable from any
 * loop: no global mutable state. */
#ifndef PARLEY_STANZA_FIELDS_H
#define PARLEY_STANZA_FIELDS_H

#include "colibri2.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strophe.h>

/* Where a parse error goes. With c2 set, the message fills *c2 as a
 * modify/bad-request naming endpoint ep ("" outside an endpoint; the
 * caller updates ep while it walks the endpoints); otherwise it is written
 * to err (errlen bytes with the NUL, truncated to fit; nothing if err is
 * NULL or errlen 0). */
typedef struct sf_parser {
    char *err;
    size_t errlen;
    c2_error *c2;
    const char *ep;
} sf_parser;

/* Reports a bad request as described at sf_parser. Always returns -1. */
int sf_bad(sf_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- reading ---- */

/* Copies src (NULL is "") into dst of cap > 0 bytes, truncating to fit. */
void sf_copy_trunc(char *dst, size_t cap, const char *src);

/* s's name, or "?" when it has none. */
const char *sf_el_name(xmpp_stanza_t *s);

/* The namespace s is in: its own, else the one it inherits (parent_ns). */
const char *sf_ns_of(xmpp_stanza_t *s, const char *parent_ns);

/* True if tag c (in namespace cns) is <name xmlns=ns>. */
bool sf_is_el(xmpp_stanza_t *c, const char *cns, const char *name, const char *ns);

/* Iterates over the element children of s. */
#define SF_FOR_CHILD_TAGS(c, s)                                                                    \
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(s); c; c = xmpp_stanza_get_next(c))           \
        if (xmpp_stanza_is_tag(c))

/* Copies v (the `what` of element s, for the message) into dst of cap bytes
 * with the NUL. 0, or -1 if too long or holding a control character (tab,
 * CR and LF are allowed when text is true). */
int sf_copy_str(sf_parser *p, xmpp_stanza_t *s, const char *what, const char *v, char *dst,
                size_t cap, bool text);

/* Attribute attr of s into dst (cap bytes). A required attribute must be
 * present and non-empty. 1 if present and non-empty, 0 if absent or empty
 * (dst ""), -1 on error. */
int sf_get_str(sf_parser *p, xmpp_stanza_t *s, const char *attr, char *dst, size_t cap,
               bool required);

/* Optional attribute that, when present, must be one of the NULL-terminated
 * values; copied into dst ("" if absent). 0 or -1. */
int sf_get_enum(sf_parser *p, xmpp_stanza_t *s, const char *attr, const char *const *values,
                char *dst, size_t cap);

/* Numeric attribute in [min, max]. 1 if present (*out set), 0 if absent and
 * not required, -1 on error. */
int sf_get_num(sf_parser *p, xmpp_stanza_t *s, const char *attr, uint32_t min, uint32_t max,
               bool required, uint32_t *out);

/* xs:boolean attribute (true/false/1/0); absent is false. 0 or -1. */
int sf_get_bool(sf_parser *p, xmpp_stanza_t *s, const char *attr, bool *out);

/* The text of s, surrounding whitespace trimmed, into dst (cap bytes);
 * `what` names it in the too-long message. Inside the text, tab, CR and LF
 * are allowed when ws is true, other control characters never. 0 or -1. */
int sf_get_text(sf_parser *p, xmpp_stanza_t *s, const char *what, char *dst, size_t cap, bool ws);

/* Rejects a second occurrence of a singleton child <name>: -1 if *seen,
 * else sets *seen and returns 0. */
int sf_once(sf_parser *p, bool *seen, const char *name);

/* ---- parsing the shared elements (the rules and bounds of colibri2.h) ---- */

/* <payload-type> s (in namespace ns) with its <parameter>s and <rtcp-fb>s
 * into *pt, which must be zeroed. 0 or -1; duplicates across payload types
 * are the caller's to check. */
int sf_parse_payload_type(sf_parser *p, xmpp_stanza_t *s, const char *ns, c2_payload_type *pt);

/* The id and uri of <rtp-hdrext> s into *h. 0 or -1; the count bound and
 * duplicate ids are the caller's to check. */
int sf_parse_hdrext(sf_parser *p, xmpp_stanza_t *s, c2_hdrext *h);

/* <ssrc-group> s (in namespace ns): semantics and its ssma <source>s into
 * *g, which must be zeroed. strict (colibri2's rule) also rejects ssrc 0 and
 * a repeated ssrc. 0 or -1; an empty group is the caller's to reject (*g
 * then has n_ssrcs 0). */
int sf_parse_ssrc_group(sf_parser *p, xmpp_stanza_t *s, const char *ns, c2_ssrc_group *g,
                        bool strict);

/* One child c (in namespace cns) of an ice-udp <transport> into *t, which
 * starts zeroed: <rtcp-mux>; <fingerprint> (hash, setup active, passive,
 * actpass or holdconn, non-empty trimmed text with ws as for sf_get_text);
 * <candidate> (ip an IP literal or an RFC 8828 `.local` name, which sets
 * mdns; rel-addr an IP literal; protocol udp or tcp); <web-socket> (once).
 * Counts are checked against their bounds. 1 if c was one of them, 0 if
 * not (nothing done), -1 on error. */
int sf_parse_ice_child(sf_parser *p, xmpp_stanza_t *c, const char *cns, c2_transport *t, bool ws);

/* After the children: candidates or fingerprints need ufrag and pwd. 0 or
 * -1. */
int sf_check_ice_creds(sf_parser *p, const c2_transport *t);

/* The 'value' of an <initial-last-n> (colibri2 namespace, in both
 * protocols): -1 or a number in 0..1000000 into *out. 0 or -1. */
int sf_get_last_n(sf_parser *p, xmpp_stanza_t *s, int32_t *out);

/* ---- building ---- */

/* A new <name xmlns=ns> (ns NULL: none), owned by the caller. */
xmpp_stanza_t *sf_new_el(xmpp_ctx_t *ctx, const char *name, const char *ns);

/* Appends a new <name xmlns=ns> to parent and returns it (owned by parent);
 * ns NULL means the element inherits the parent's namespace. */
xmpp_stanza_t *sf_add_el(xmpp_stanza_t *parent, const char *name, const char *ns);

void sf_set_attr(xmpp_stanza_t *s, const char *key, const char *value);

/* Sets key only when value is non-NULL and non-empty. */
void sf_set_attr_opt(xmpp_stanza_t *s, const char *key, const char *value);

/* Sets key to value in decimal. */
void sf_set_num(xmpp_stanza_t *s, const char *key, unsigned long value);

/* Appends a text node to parent. */
void sf_add_text(xmpp_stanza_t *parent, const char *text);

/* Fatal if n > max: a builder's input is over a bound (what names it). */
void sf_check_bound(size_t n, size_t max, const char *what);

/* <payload-type> for pt, with its parameters and rtcp-fbs, appended to
 * parent; the payload-type and its <parameter>s get namespace ns (NULL:
 * inherited), the <rtcp-fb>s their own. */
void sf_build_payload_type(xmpp_stanza_t *parent, const c2_payload_type *pt, const char *ns);

/* <rtp-hdrext> for h appended to parent. */
void sf_build_hdrext(xmpp_stanza_t *parent, const c2_hdrext *h);

/* <candidate xmlns=ns> (NULL: inherited) for cd appended to parent:
 * component 1 and protocol udp when unset, generation and network always. */
void sf_build_candidate(xmpp_stanza_t *parent, const c2_candidate *cd, const char *ns);

/* <fingerprint> for fp appended to parent; an empty hash or setup takes the
 * default (NULL: left out). */
void sf_build_fingerprint(xmpp_stanza_t *parent, const c2_fingerprint *fp, const char *default_hash,
                          const char *default_setup);

/* <initial-last-n xmlns=colibri2 value=value> appended to parent. */
void sf_build_initial_last_n(xmpp_stanza_t *parent, int32_t value);

/* <ssrc-group> (ssma) for g appended to parent; its <source>s get
 * namespace source_ns (NULL: inherited). */
void sf_build_ssrc_group(xmpp_stanza_t *parent, const c2_ssrc_group *g, const char *source_ns);

#endif
